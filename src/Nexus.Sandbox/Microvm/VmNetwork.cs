// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Nexus.Interop;
using Nexus.Sandbox.Network;

namespace Nexus.Sandbox.Microvm;

/// <summary>
/// The network of a baseline microVM. The instance's netns and veth are made exactly as the oci driver makes them
/// (<see cref="HostNetwork"/>), so the host's firewall rules (<see cref="SandboxFirewall"/>, on the veth's host end) apply
/// to the VM unchanged. Inside that netns a TAP (<see cref="TapName"/>) holds the first address of the guest link and the
/// VMM attaches to it; the guest has the second. The netns forwards the guest's packets to its veth only, masqueraded
/// behind the instance's sandbox address, lets in only replies, and accepts nothing from the guest for itself. The TAP
/// goes with the netns. With iproute2's <c>ip</c>, <c>nft</c>, and <c>ss</c>, which closes the host's connections with a
/// stopped VM (<see cref="RemoveAsync"/>).
/// </summary>
public sealed class VmNetwork(HostNetwork network, string ipPath, string nftPath, string ssPath, IPAddress guestLinkNetwork)
{
    public const string TapName = "tap0";

    /// <summary>The nftables table inside each VM's netns.</summary>
    public const string TableName = "nexus-vm";

    /// <summary>The guest's MAC: the same in every VM, like its address (a snapshot's guest keeps both).</summary>
    public static readonly string GuestMac = "06:00:ac:10:00:02";

    /// <summary>The TAP's address in the netns (the guest's gateway).</summary>
    public IPAddress TapAddress => Offset(1);

    /// <summary>The guest's address.</summary>
    public IPAddress GuestAddress => Offset(2);

    public HostNetwork Host => network;

    /// <summary>
    /// The guest's address configuration on its kernel command line, in the Linux kernel's <c>ip=</c> form
    /// (client::gateway:netmask::device:autoconf): the guest link's second address, the TAP's as gateway, a /30, no DHCP.
    /// </summary>
    public string GuestBootArgs => string.Create(CultureInfo.InvariantCulture, $"ip={GuestAddress}::{TapAddress}:255.255.255.252::eth0:off");

    /// <summary>
    /// Makes the instance's netns, veth, TAP and forwarding; returns the veth slot (its sandbox address is the VM's on the
    /// host side). With <paramref name="tapOwner"/> the TAP belongs to that uid/gid, so a jailed VMM can attach to it
    /// without CAP_NET_ADMIN.
    /// </summary>
    public async Task<VethSlot> CreateAsync(string instanceId, int? tapOwner, CancellationToken cancellationToken)
    {
        var slot = await network.CreateAsync(instanceId, cancellationToken);
        try
        {
            var netns = network.Plan.NetnsName(instanceId);
            var tap = string.Create(CultureInfo.InvariantCulture,
                $"tuntap add dev {TapName} mode tap{(tapOwner is { } owner ? $" user {owner} group {owner}" : "")}\nlink set dev {TapName} addrgenmode none\naddr add {TapAddress}/30 dev {TapName}\nlink set dev {TapName} up\n");
            await RunAsync(ipPath, ["-n", netns, "-batch", "-"], tap, $"the TAP {TapName} in netns {netns}");

            // Per-netns sysctl: a thread in the netns opens its own /proc/sys/net.
            NetNamespace.RunIn(network.NetnsPath(instanceId), () =>
            {
                File.WriteAllText("/proc/sys/net/ipv4/ip_forward", "1");
                return true;
            });
            await RunAsync(ipPath, ["netns", "exec", netns, nftPath, "-f", "-"], Ruleset(), $"the forwarding rules ({TableName}) in netns {netns}");
        }
        catch
        {
            await network.RemoveAsync(instanceId, slot);
            throw;
        }

        return slot;
    }

    /// <summary>
    /// Removes the network of a VM whose VMM is gone (netns with its TAP, veth, slot). First the host's TCP connections
    /// with the VM's address are destroyed (<c>ss -K</c>: SOCK_DESTROY, which the kernel has with CONFIG_INET_DIAG_DESTROY;
    /// the node's server then reads ECONNABORTED and closes its end). A container's kernel closes its sockets when its
    /// processes die; a killed guest's sends no FIN or RST, so without this the node's servers (Runtime API, store,
    /// service proxy) kept every stopped VM's connections: idle ones until their keep-alive ended (30 minutes on the
    /// Runtime API), ones with unacknowledged data until TCP gave up retransmitting or the slot's next instance answered
    /// with a reset. Done while the slot is still this VM's, so no connection of the slot's next instance is touched.
    /// </summary>
    public async Task RemoveAsync(string instanceId, VethSlot slot)
    {
        ArgumentNullException.ThrowIfNull(slot);
        try
        {
            var destroyed = await HostTool.RunAsync(ssPath, ["-K", "-t", "-n", "dst", slot.SandboxAddress.ToString()]);
            if (!destroyed.Succeeded)
            {
                throw new IOException($"could not close the host's connections with instance '{instanceId}' ({slot.SandboxAddress}): {destroyed.StandardError.Trim()}");
            }
        }
        finally
        {
            await network.RemoveAsync(instanceId, slot);
        }
    }

    /// <summary>The netns's own table: the guest reaches the veth (and through it only what the host's firewall allows), masqueraded.</summary>
    public string Ruleset() => string.Create(CultureInfo.InvariantCulture, $$"""
        table inet {{TableName}} {
          chain input {
            type filter hook input priority 0; policy accept;
            iifname "{{TapName}}" counter drop
          }
          chain forward {
            type filter hook forward priority 0; policy drop;
            iifname "{{TapName}}" oifname "eth0" ip saddr {{GuestAddress}} accept
            iifname "eth0" oifname "{{TapName}}" ct state established,related accept
          }
          chain postrouting {
            type nat hook postrouting priority 100; policy accept;
            oifname "eth0" ip saddr {{GuestAddress}} masquerade
          }
        }

        """);

    private static async Task RunAsync(string tool, IReadOnlyList<string> arguments, string input, string what)
    {
        // Not cancelled midway: the caller removes the netns (and with it all of this) on failure.
        var result = await HostTool.RunAsync(tool, arguments, input, CancellationToken.None);
        if (!result.Succeeded)
        {
            throw new IOException($"could not set up {what}: {result.StandardError.Trim()}");
        }
    }

    private IPAddress Offset(uint n)
    {
        if (guestLinkNetwork.AddressFamily != AddressFamily.InterNetwork)
        {
            throw new InvalidOperationException($"the guest link network must be IPv4, not {guestLinkNetwork}");
        }

        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, BinaryPrimitives.ReadUInt32BigEndian(guestLinkNetwork.GetAddressBytes()) + n);
        return new IPAddress(bytes);
    }
}
