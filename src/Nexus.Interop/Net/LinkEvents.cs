// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;
using System.Text;

namespace Nexus.Interop;

/// <summary>
/// The kernel's link and IPv4 address notifications (rtnetlink groups RTNLGRP_LINK and RTNLGRP_IPV4_IFADDR, what
/// `ip monitor link address` listens to), filtered to what takes one link out of service: the link deleted, set down, or
/// an IPv4 address of it deleted (`ip addr flush`). Layouts: linux/rtnetlink.h, linux/if_link.h, linux/if_addr.h
/// (ifinfomsg 16 bytes: family, pad, type, index, flags, change; ifaddrmsg 8 bytes; then rtattrs).
/// </summary>
public sealed class LinkEvents : INetlinkWatch
{
    private const int NETLINK_ROUTE = 0;
    private const int RTNLGRP_LINK = 1;
    private const int RTNLGRP_IPV4_IFADDR = 5;
    private const int RTM_NEWLINK = 16;
    private const int RTM_DELLINK = 17;
    private const int RTM_DELADDR = 21;
    private const int IfinfomsgBytes = 16;
    private const int IfaddrmsgBytes = 8;
    private const int IFLA_IFNAME = 3;
    private const int IFA_LABEL = 3;
    private const uint IFF_UP = 1;

    private readonly NetlinkMulticast _notices;
    private readonly byte[] _name;

    private LinkEvents(NetlinkMulticast notices, string link)
    {
        _notices = notices;
        _name = Encoding.ASCII.GetBytes(link + "\0");
    }

    /// <summary>Subscribes to what takes link <paramref name="link"/> out of service.</summary>
    public static LinkEvents Subscribe(string link) => new(NetlinkMulticast.Join(NETLINK_ROUTE, RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR), link);

    /// <summary>Waits for the next batch; true when one of its messages takes the link out of service, or when some were lost.</summary>
    public async ValueTask<bool> NextAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
        await _notices.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false) is not { } length || TakesDown(buffer.Span[..length]);

    /// <summary>True when a message of <paramref name="messages"/> deletes the link, says it is down, or deletes one of its IPv4 addresses.</summary>
    internal bool TakesDown(ReadOnlySpan<byte> messages) => NetlinkMulticast.Any(messages, (type, message) => type switch
    {
        RTM_DELLINK => message.Length >= IfinfomsgBytes && Named(message[IfinfomsgBytes..], IFLA_IFNAME),
        RTM_NEWLINK => message.Length >= IfinfomsgBytes && (BinaryPrimitives.ReadUInt32LittleEndian(message[8..]) & IFF_UP) == 0
            && Named(message[IfinfomsgBytes..], IFLA_IFNAME),

        // An IPv4 address's label is its link's name unless given another (the node gives none).
        RTM_DELADDR => message.Length >= IfaddrmsgBytes && Named(message[IfaddrmsgBytes..], IFA_LABEL),
        _ => false,
    });

    public void Dispose() => _notices.Dispose();

    private bool Named(ReadOnlySpan<byte> attributes, int nameAttribute) => NetlinkMulticast.Attribute(attributes, nameAttribute).SequenceEqual(_name);
}
