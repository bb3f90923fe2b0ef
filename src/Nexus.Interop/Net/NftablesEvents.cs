// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text;

namespace Nexus.Interop;

/// <summary>
/// The kernel's nftables change notifications (the NFNLGRP_NFTABLES multicast group of NETLINK_NETFILTER, what
/// `nft monitor` listens to), filtered to deletions in one table: a table, chain, rule, set or set element deleted,
/// which is also how a flush and `nft flush ruleset` arrive. In-process, so nothing outlives the node. Layouts:
/// linux/netfilter/nfnetlink.h, linux/netfilter/nf_tables.h (nfgenmsg 4 bytes, then attributes; attribute 1 of a table,
/// chain, rule or set message is its table's name).
/// </summary>
public sealed class NftablesEvents : INetlinkWatch
{
    private const int NETLINK_NETFILTER = 12;
    private const int NFNLGRP_NFTABLES = 7;
    private const int NFNL_SUBSYS_NFTABLES = 10;
    private const int NfgenmsgBytes = 4;
    private const int TableNameAttribute = 1;

    // NFT_MSG_DELTABLE, DELCHAIN, DELRULE, DELSET, DELSETELEM, DELOBJ, DELFLOWTABLE.
    private static readonly HashSet<int> s_deletions = [2, 5, 8, 11, 14, 20, 24];

    private readonly NetlinkMulticast _notices;
    private readonly byte _family;
    private readonly byte[] _table;

    private NftablesEvents(NetlinkMulticast notices, byte family, string table)
    {
        _notices = notices;
        _family = family;
        _table = Encoding.ASCII.GetBytes(table + "\0");
    }

    /// <summary>Subscribes to deletions in table <paramref name="table"/> of <paramref name="family"/> (NFPROTO_INET is 1).</summary>
    public static NftablesEvents Subscribe(byte family, string table) =>
        new(NetlinkMulticast.Join(NETLINK_NETFILTER, NFNLGRP_NFTABLES), family, table);

    /// <summary>
    /// Waits for the next batch of notifications; true when one of them deletes something of the table, or when some
    /// were lost (the socket's buffer overflowed: ENOBUFS), which may have.
    /// </summary>
    public async ValueTask<bool> NextAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
        await _notices.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false) is not { } length || DeletesFrom(buffer.Span[..length]);

    /// <summary>True when a message of <paramref name="messages"/> deletes something of the table.</summary>
    internal bool DeletesFrom(ReadOnlySpan<byte> messages) => NetlinkMulticast.Any(messages, (type, message) =>
        type >> 8 == NFNL_SUBSYS_NFTABLES && s_deletions.Contains(type & 0xff) && message.Length >= NfgenmsgBytes
        && message[0] == _family && NetlinkMulticast.Attribute(message[NfgenmsgBytes..], TableNameAttribute).SequenceEqual(_table));

    public void Dispose() => _notices.Dispose();
}
