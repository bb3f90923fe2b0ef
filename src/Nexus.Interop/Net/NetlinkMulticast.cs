// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Nexus.Interop;

/// <summary>
/// A netlink socket that has joined multicast groups of one netlink protocol: the kernel's change notifications
/// (nftables, links, addresses). .NET's Socket cannot make a netlink socket (it knows no such family), so it is made,
/// bound and joined here and handed to a Socket for its cancellable asynchronous receive. Layout: linux/netlink.h.
/// </summary>
public sealed partial class NetlinkMulticast : IDisposable
{
    /// <summary>netlink.h's nlmsghdr: length (4), type (2), flags (2), sequence (4), port (4).</summary>
    public const int MessageHeaderBytes = 16;

    private const int AF_NETLINK = 16;
    private const int SOCK_RAW = 3;
    private const int SOCK_CLOEXEC = 0x80000;
    private const int SockaddrNlBytes = 12;
    private const int SOL_NETLINK = 270;
    private const int NETLINK_ADD_MEMBERSHIP = 1;

    private readonly Socket _socket;

    private NetlinkMulticast(Socket socket) => _socket = socket;

    /// <summary>Joins <paramref name="groups"/> (group numbers, not bit masks) of netlink <paramref name="protocol"/>.</summary>
    public static unsafe NetlinkMulticast Join(int protocol, params int[] groups)
    {
        var fd = Libc.Check(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol), $"socket(AF_NETLINK, protocol {protocol})");
        var handle = new SafeSocketHandle(fd, ownsHandle: true);
        try
        {
            // sockaddr_nl: family, pad, pid 0 (the kernel picks one), groups 0 (joined by the option below).
            var address = stackalloc byte[SockaddrNlBytes];
            new Span<byte>(address, SockaddrNlBytes).Clear();
            BinaryPrimitives.WriteUInt16LittleEndian(new Span<byte>(address, 2), AF_NETLINK);

            // SAFETY: address points at SockaddrNlBytes bytes on this stack frame, the length passed.
            Libc.Check(bind(handle, address, SockaddrNlBytes), "bind(netlink)");
            foreach (var group in groups)
            {
                var member = group;

                // SAFETY: member is an int on this stack frame, its size passed.
                Libc.Check(setsockopt(handle, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &member, sizeof(int)), $"setsockopt(NETLINK_ADD_MEMBERSHIP, group {group})");
            }

            return new NetlinkMulticast(new Socket(handle));
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Waits for the next batch of notifications and returns its length; null when some were lost (the socket's buffer
    /// overflowed: ENOBUFS), which a caller treats as "anything may have changed".
    /// </summary>
    public async ValueTask<int?> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            return await _socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.NoBufferSpaceAvailable)
        {
            return null;
        }
    }

    /// <summary>
    /// Whether one message of a batch satisfies <paramref name="matches"/> (its type and payload after the header); a
    /// message whose length does not fit ends the walk.
    /// </summary>
    public static bool Any(ReadOnlySpan<byte> messages, MessagePredicate matches)
    {
        while (messages.Length >= MessageHeaderBytes)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(messages);
            if (length < MessageHeaderBytes || length > messages.Length)
            {
                return false;
            }

            if (matches(BinaryPrimitives.ReadUInt16LittleEndian(messages[4..]), messages[MessageHeaderBytes..length]))
            {
                return true;
            }

            messages = messages[Math.Min(messages.Length, (length + 3) & ~3)..];
        }

        return false;
    }

    /// <summary>The payload of the first attribute of <paramref name="type"/> (rtattr/nlattr: length, type, 4-aligned); empty if none.</summary>
    public static ReadOnlySpan<byte> Attribute(ReadOnlySpan<byte> attributes, int type)
    {
        while (attributes.Length >= 4)
        {
            var length = BinaryPrimitives.ReadUInt16LittleEndian(attributes);
            if (length < 4 || length > attributes.Length)
            {
                return [];
            }

            // nlattr's top bits are flags (nested, byte order); rtattr has none there.
            if ((BinaryPrimitives.ReadUInt16LittleEndian(attributes[2..]) & 0x3fff) == type)
            {
                return attributes[4..length];
            }

            attributes = attributes[Math.Min(attributes.Length, (length + 3) & ~3)..];
        }

        return [];
    }

    public void Dispose() => _socket.Dispose();

    [LibraryImport(Libc.LibraryName, EntryPoint = "socket", SetLastError = true)]
    private static partial int socket(int domain, int type, int protocol);

    [LibraryImport(Libc.LibraryName, EntryPoint = "bind", SetLastError = true)]
    private static unsafe partial int bind(SafeSocketHandle socket, byte* address, int length);

    [LibraryImport(Libc.LibraryName, EntryPoint = "setsockopt", SetLastError = true)]
    private static unsafe partial int setsockopt(SafeSocketHandle socket, int level, int name, void* value, int length);
}

/// <summary>Tests one netlink message: its type and its payload after the header.</summary>
public delegate bool MessagePredicate(int type, ReadOnlySpan<byte> payload);

/// <summary>A kernel notification watch: each batch read says whether it concerns what is watched.</summary>
public interface INetlinkWatch : IDisposable
{
    /// <summary>Waits for the next batch; true when it concerns what is watched, or when notices were lost (which may have).</summary>
    ValueTask<bool> NextAsync(Memory<byte> buffer, CancellationToken cancellationToken);
}
