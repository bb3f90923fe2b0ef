// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace Nexus.Interop;

/// <summary>
/// The kernel's nftables change notifications (the NFNLGRP_NFTABLES multicast group of NETLINK_NETFILTER, what
/// `nft monitor` listens to), filtered to deletions in one table: a table, chain, rule, set or set element deleted,
/// which is also how a flush and `nft flush ruleset` arrive. In-process, so nothing outlives the node. .NET's Socket
/// cannot make a netlink socket (it knows no such family), so it is made, bound and joined here and handed to a Socket
/// for its cancellable asynchronous receive. Layouts: linux/netlink.h, linux/netfilter/nfnetlink.h,
/// linux/netfilter/nf_tables.h (nlmsghdr 16 bytes, nfgenmsg 4, attributes 4-aligned; attribute 1 of a table, chain,
/// rule or set message is its table's name).
/// </summary>
public sealed partial class NftablesEvents : IDisposable
{
    private const int AF_NETLINK = 16;
    private const int SOCK_RAW = 3;
    private const int SOCK_CLOEXEC = 0x80000;
    private const int SockaddrNlBytes = 12;
    private const int NETLINK_NETFILTER = 12;
    private const int SOL_NETLINK = 270;
    private const int NETLINK_ADD_MEMBERSHIP = 1;
    private const int NFNLGRP_NFTABLES = 7;
    private const int NFNL_SUBSYS_NFTABLES = 10;
    private const int NlmsgHeaderBytes = 16;
    private const int NfgenmsgBytes = 4;
    private const int TableNameAttribute = 1;

    // NFT_MSG_DELTABLE, DELCHAIN, DELRULE, DELSET, DELSETELEM, DELOBJ, DELFLOWTABLE.
    private static readonly HashSet<int> s_deletions = [2, 5, 8, 11, 14, 20, 24];

    private readonly Socket _socket;
    private readonly byte _family;
    private readonly byte[] _table;

    private NftablesEvents(Socket socket, byte family, string table)
    {
        _socket = socket;
        _family = family;
        _table = Encoding.ASCII.GetBytes(table + "\0");
    }

    /// <summary>Subscribes to deletions in table <paramref name="table"/> of <paramref name="family"/> (NFPROTO_INET is 1).</summary>
    public static unsafe NftablesEvents Subscribe(byte family, string table)
    {
        var fd = Libc.Check(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER), "socket(AF_NETLINK, NETLINK_NETFILTER)");
        var handle = new SafeSocketHandle(fd, ownsHandle: true);
        try
        {
            // sockaddr_nl: family, pad, pid 0 (the kernel picks one), groups 0 (joined by the option below).
            var address = stackalloc byte[SockaddrNlBytes];
            new Span<byte>(address, SockaddrNlBytes).Clear();
            BinaryPrimitives.WriteUInt16LittleEndian(new Span<byte>(address, 2), AF_NETLINK);

            // SAFETY: address points at SockaddrNlBytes bytes on this stack frame, the length passed.
            Libc.Check(bind(handle, address, SockaddrNlBytes), "bind(netlink)");
            var group = NFNLGRP_NFTABLES;

            // SAFETY: group is an int on this stack frame, its size passed.
            Libc.Check(setsockopt(handle, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(int)), "setsockopt(NETLINK_ADD_MEMBERSHIP, NFNLGRP_NFTABLES)");
            return new NftablesEvents(new Socket(handle), family, table);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Waits for the next batch of notifications; true when one of them deletes something of the table, or when some
    /// were lost (the socket's buffer overflowed: ENOBUFS), which may have.
    /// </summary>
    public async ValueTask<bool> NextAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        int length;
        try
        {
            length = await _socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.NoBufferSpaceAvailable)
        {
            return true;
        }

        return DeletesFrom(buffer.Span[..length]);
    }

    /// <summary>True when a message of <paramref name="messages"/> deletes something of the table.</summary>
    internal bool DeletesFrom(ReadOnlySpan<byte> messages)
    {
        while (messages.Length >= NlmsgHeaderBytes)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(messages);
            if (length < NlmsgHeaderBytes || length > messages.Length)
            {
                return false;
            }

            var type = BinaryPrimitives.ReadUInt16LittleEndian(messages[4..]);
            var message = messages[NlmsgHeaderBytes..length];
            if (type >> 8 == NFNL_SUBSYS_NFTABLES && s_deletions.Contains(type & 0xff) && message.Length >= NfgenmsgBytes
                && message[0] == _family && TableNameIs(message[NfgenmsgBytes..]))
            {
                return true;
            }

            messages = messages[Math.Min(messages.Length, (length + 3) & ~3)..];
        }

        return false;
    }

    public void Dispose() => _socket.Dispose();

    private bool TableNameIs(ReadOnlySpan<byte> attributes)
    {
        while (attributes.Length >= 4)
        {
            var length = BinaryPrimitives.ReadUInt16LittleEndian(attributes);
            var type = BinaryPrimitives.ReadUInt16LittleEndian(attributes[2..]) & 0x3fff;
            if (length < 4 || length > attributes.Length)
            {
                return false;
            }

            if (type == TableNameAttribute)
            {
                return attributes[4..length].SequenceEqual(_table);
            }

            attributes = attributes[Math.Min(attributes.Length, (length + 3) & ~3)..];
        }

        return false;
    }

    [LibraryImport(Libc.LibraryName, EntryPoint = "socket", SetLastError = true)]
    private static partial int socket(int domain, int type, int protocol);

    [LibraryImport(Libc.LibraryName, EntryPoint = "bind", SetLastError = true)]
    private static unsafe partial int bind(SafeSocketHandle socket, byte* address, int length);

    [LibraryImport(Libc.LibraryName, EntryPoint = "setsockopt", SetLastError = true)]
    private static unsafe partial int setsockopt(SafeSocketHandle socket, int level, int name, void* value, int length);
}
