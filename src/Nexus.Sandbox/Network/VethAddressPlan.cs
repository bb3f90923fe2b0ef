// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Nexus.Sandbox.Network;

/// <summary>One slot's addresses: a /30 whose first host address is the host end, the second the sandbox end.</summary>
public sealed record VethSlot(int Slot, string HostLink, IPAddress Network, IPAddress HostAddress, IPAddress SandboxAddress);

/// <summary>
/// The baseline network's addresses: the service address (on a dummy link) every sandbox reaches the node on,
/// and one /30 per veth slot counted upward from <see cref="FirstSlotNetwork"/>.
/// </summary>
public sealed record VethAddressPlan
{
    public static VethAddressPlan Default { get; } = new();

    /// <summary>The node's service address (/32 on <see cref="ServiceLink"/>).</summary>
    public IPAddress ServiceAddress { get; init; } = IPAddress.Parse("10.77.0.1");

    /// <summary>Dummy link holding <see cref="ServiceAddress"/>.</summary>
    public string ServiceLink { get; init; } = "nexus0";

    /// <summary>Network of slot 0; slot n is the /30 at +4n.</summary>
    public IPAddress FirstSlotNetwork { get; init; } = IPAddress.Parse("10.77.1.0");

    /// <summary>How many slots fit (default: 10.77.1.0 to 10.77.255.252).</summary>
    public int SlotCount { get; init; } = (255 * 256) / 4;

    /// <summary>Host-end link names are this plus the slot number (at most 15 characters in all).</summary>
    public string HostLinkPrefix { get; init; } = "nxv";

    /// <summary>Network namespaces are this plus the instance id.</summary>
    public string NetnsPrefix { get; init; } = "nexus-";

    public string NetnsName(string instanceId) => NetnsPrefix + instanceId;

    public VethSlot Slot(int slot)
    {
        if (slot < 0 || slot >= SlotCount)
        {
            throw new ArgumentOutOfRangeException(nameof(slot), slot, $"veth slot must be in [0, {SlotCount})");
        }

        if (FirstSlotNetwork.AddressFamily != AddressFamily.InterNetwork)
        {
            throw new InvalidOperationException($"the veth slot network must be IPv4, not {FirstSlotNetwork}");
        }

        var network = BinaryPrimitives.ReadUInt32BigEndian(FirstSlotNetwork.GetAddressBytes()) + (4u * (uint)slot);
        return new VethSlot(slot, HostLinkPrefix + slot, ToAddress(network), ToAddress(network + 1), ToAddress(network + 2));
    }

    private static IPAddress ToAddress(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return new IPAddress(bytes);
    }
}
