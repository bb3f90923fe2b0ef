// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Nexus.Interop;

namespace Nexus.Sandbox.Network;

/// <summary>
/// The host side of the baseline network: iproute2 (one <c>ip -batch</c> spawn) makes the netns and the veth
/// pair; the sandbox end is configured from inside the netns with ioctls (<see cref="NetNamespace"/>).
/// Each instance gets a netns <c>nexus-&lt;id&gt;</c> and a veth pair: the host end <c>nxv&lt;slot&gt;</c>
/// (first address of the slot's /30) and <c>eth0</c> inside (second address) with exactly one route, to the
/// service address via the host end. No default route, forwarding off on the host end, no IPv6 addresses:
/// a sandbox (which has no CAP_NET_ADMIN to change any of it) reaches its own loopback, the service address
/// and the host end of its own /30, nothing else. With a <see cref="RoutedEndpoint"/> (a remote store) the sandbox
/// also gets a host route to that address and the host end forwards; the firewall lets through that endpoint only.
/// </summary>
public sealed class HostNetwork
{
    /// <summary>Where <c>ip netns</c> keeps its namespace handles.</summary>
    public const string NetnsDirectory = "/run/netns";

    private const string SysClassNet = "/sys/class/net";

    // Slots are process-wide: two drivers in one process must not hand out the same /30.
    private static readonly Lock s_slotLock = new();
    private static readonly HashSet<int> s_slotsInUse = [];

    private readonly VethAddressPlan _plan;
    private readonly string _ip;

    public HostNetwork(VethAddressPlan plan, string ipPath)
    {
        _plan = plan;
        _ip = ipPath;
    }

    public VethAddressPlan Plan => _plan;

    /// <summary>The veth MTU when sandboxes are routed to a remote store.</summary>
    public const int RoutedMtu = 65000;

    /// <summary>A remote address sandboxes are routed to through the host (set before any instance starts).</summary>
    public IPEndPoint? RoutedEndpoint { get; set; }

    /// <summary>
    /// The nftables ruleset each new instance's netns is given (<see cref="SandboxFirewall.EgressRuleset"/>), set with the
    /// host's firewall before any instance starts; null: none.
    /// </summary>
    public string? EgressRuleset { get; set; }

    /// <summary>The netns handle the runtime joins.</summary>
    public string NetnsPath(string instanceId) => Path.Combine(NetnsDirectory, _plan.NetnsName(instanceId));

    /// <summary>Creates the service link (a dummy, or an ifb where the kernel has no dummy driver) with its /32 (idempotent).</summary>
    public async Task PrepareAsync(CancellationToken cancellationToken)
    {
        var link = _plan.ServiceLink;
        if (!Directory.Exists(Path.Combine(SysClassNet, link)))
        {
            // Some kernels (e.g. Firecracker guest configs) lack the dummy driver; an ifb device is an
            // equally inert holder for a local address.
            ToolResult? made = null;
            foreach (var type in new[] { "dummy", "ifb" })
            {
                made = await HostTool.RunAsync(_ip, ["link", "add", link, "type", type], cancellationToken: cancellationToken);
                if (made.Succeeded || Directory.Exists(Path.Combine(SysClassNet, link)))
                {
                    break;
                }
            }

            if (!Directory.Exists(Path.Combine(SysClassNet, link)))
            {
                throw new IOException($"could not create the service link '{link}' (neither dummy nor ifb): {made?.StandardError.Trim()}");
            }
        }

        var batch = new StringBuilder();
        batch.Append(CultureInfo.InvariantCulture, $"link set dev {link} addrgenmode none\n");
        batch.Append(CultureInfo.InvariantCulture, $"addr replace {_plan.ServiceAddress}/32 dev {link}\n");
        batch.Append(CultureInfo.InvariantCulture, $"link set dev {link} up\n");
        var result = await HostTool.RunAsync(_ip, ["-batch", "-"], batch.ToString(), cancellationToken);
        if (!result.Succeeded)
        {
            throw new IOException($"could not set up the service address {_plan.ServiceAddress} on '{link}': {result.StandardError.Trim()}");
        }
    }

    /// <summary>True while the service link is there.</summary>
    public bool ServiceLinkExists => Directory.Exists(Path.Combine(SysClassNet, _plan.ServiceLink));

    /// <summary>
    /// True while the service link is there, up, and holds the service address: what sandboxes need of it. Up is its
    /// flags' IFF_UP; the address is there if a socket can be bound to it (EADDRNOTAVAIL once flushed), microseconds,
    /// where listing addresses would be an `ip` spawn.
    /// </summary>
    public bool ServiceLinkInService
    {
        get
        {
            try
            {
                var flags = File.ReadAllText(Path.Combine(SysClassNet, _plan.ServiceLink, "flags")).Trim();
                if (!flags.StartsWith("0x", StringComparison.Ordinal)
                    || !int.TryParse(flags.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var bits) || (bits & 1) == 0)
                {
                    return false;
                }

                using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                probe.Bind(new IPEndPoint(_plan.ServiceAddress, 0));
                return true;
            }
            catch (Exception e) when (e is IOException or SocketException or UnauthorizedAccessException)
            {
                return false;
            }
        }
    }

    /// <summary>The kernel's notices of what takes the service link out of service (deleted, down, its address removed).</summary>
    public LinkEvents WatchServiceLink() => LinkEvents.Subscribe(_plan.ServiceLink);

    /// <summary>Deletes the service link (and with it the service address) if it is there.</summary>
    public async Task RemoveServiceLinkAsync()
    {
        var link = _plan.ServiceLink;
        if (!Directory.Exists(Path.Combine(SysClassNet, link)))
        {
            return;
        }

        var result = await HostTool.RunAsync(_ip, ["link", "del", link]);
        if (!result.Succeeded && Directory.Exists(Path.Combine(SysClassNet, link)))
        {
            throw new IOException($"could not remove the service link '{link}': {result.StandardError.Trim()}");
        }
    }

    /// <summary>Makes the instance's netns and veth pair; returns the slot (its addresses).</summary>
    public async Task<VethSlot> CreateAsync(string instanceId, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var netns = _plan.NetnsName(instanceId);
        var netnsMade = false;
        for (var attempt = 0; ; attempt++)
        {
            var slot = _plan.Slot(AllocateSlot());
            var host = new StringBuilder();
            if (!netnsMade)
            {
                host.Append(CultureInfo.InvariantCulture, $"netns add {netns}\n");
            }

            // With a routed remote store, frames as large as loopback's: per-packet work on the way to the store (forwarding,
            // a link emulator) then costs a baseline sandbox what it costs the node's backend, which talks to it directly.
            var mtu = RoutedEndpoint is null ? "" : $" mtu {RoutedMtu}";
            host.Append(CultureInfo.InvariantCulture, $"link add {slot.HostLink}{mtu} type veth peer name eth0{mtu} netns {netns}\n");
            host.Append(CultureInfo.InvariantCulture, $"link set dev {slot.HostLink} alias {instanceId} addrgenmode none\n");
            host.Append(CultureInfo.InvariantCulture, $"addr add {slot.HostAddress}/30 dev {slot.HostLink}\n");
            host.Append(CultureInfo.InvariantCulture, $"link set dev {slot.HostLink} up\n");
            // Not cancelled midway: a half-made network would leak its slot; the caller checks the token after.
            var result = await HostTool.RunAsync(_ip, ["-batch", "-"], host.ToString(), CancellationToken.None);
            netnsMade |= File.Exists(NetnsPath(instanceId));
            if (!result.Succeeded)
            {
                // Another process (a second node, a test run) may hold this link name: keep the slot
                // marked as used and try the next one; anything else is a real failure.
                ReleaseSlot(slot.Slot);
                if (result.StandardError.Contains("File exists", StringComparison.Ordinal) && netnsMade && attempt < 64)
                {
                    continue;
                }

                await RemoveAsync(instanceId, slot: null);
                throw new IOException($"could not create the network of instance '{instanceId}' (veth {slot.HostLink}): {result.StandardError.Trim()}");
            }

            try
            {
                // Forwarding is decided per input interface: off on the host end even if the host forwards elsewhere,
                // on only when sandboxes must reach a remote store (the firewall then forwards that endpoint alone).
                var routed = RoutedEndpoint;
                File.WriteAllText($"/proc/sys/net/ipv4/conf/{slot.HostLink}/forwarding", routed is null ? "0" : "1");
                // Inside: ioctls from a thread that joins the netns, instead of a second ip spawn.
                IPAddress[] routes = routed is null ? [_plan.ServiceAddress] : [_plan.ServiceAddress, routed.Address];
                // The egress table in the same visit: libnftables in-process, not an `ip netns exec nft` spawn.
                var egress = EgressRuleset;
                NetNamespace.ConfigureInterface(NetnsPath(instanceId), "eth0", slot.SandboxAddress, 30, routes, slot.HostAddress,
                    egress is null ? null : () => Nftables.Run(egress));
            }
            catch
            {
                await RemoveAsync(instanceId, slot);
                throw;
            }

            return slot;
        }
    }

    /// <summary>Removes the instance's veth pair and netns and frees its slot (idempotent).</summary>
    public async Task RemoveAsync(string instanceId, VethSlot? slot)
    {
        var batch = new StringBuilder();
        if (slot is not null && Directory.Exists(Path.Combine(SysClassNet, slot.HostLink)))
        {
            // Deleting one end deletes the pair at once; the netns alone would go only when its last user does.
            batch.Append(CultureInfo.InvariantCulture, $"link del {slot.HostLink}\n");
        }

        if (File.Exists(NetnsPath(instanceId)))
        {
            batch.Append(CultureInfo.InvariantCulture, $"netns del {_plan.NetnsName(instanceId)}\n");
        }

        if (batch.Length > 0)
        {
            var result = await HostTool.RunAsync(_ip, ["-force", "-batch", "-"], batch.ToString());
            if (!result.Succeeded && (File.Exists(NetnsPath(instanceId)) || (slot is not null && Directory.Exists(Path.Combine(SysClassNet, slot.HostLink)))))
            {
                throw new IOException($"could not remove the network of instance '{instanceId}': {result.StandardError.Trim()}");
            }
        }

        if (slot is not null)
        {
            ReleaseSlot(slot.Slot);
        }
    }

    /// <summary>Removes every netns and host link of instances whose id starts with <paramref name="instancePrefix"/>.</summary>
    public async Task RemoveLeftoversAsync(string instancePrefix)
    {
        var batch = new StringBuilder();
        if (Directory.Exists(SysClassNet))
        {
            foreach (var dir in Directory.EnumerateFileSystemEntries(SysClassNet, _plan.HostLinkPrefix + "*"))
            {
                var name = Path.GetFileName(dir);
                if (!int.TryParse(name.AsSpan(_plan.HostLinkPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out _))
                {
                    continue;
                }

                var alias = ReadAlias(name);
                if (alias.StartsWith(instancePrefix, StringComparison.Ordinal))
                {
                    batch.Append(CultureInfo.InvariantCulture, $"link del {name}\n");
                }
            }
        }

        if (Directory.Exists(NetnsDirectory))
        {
            foreach (var file in Directory.EnumerateFiles(NetnsDirectory, _plan.NetnsPrefix + instancePrefix + "*"))
            {
                batch.Append(CultureInfo.InvariantCulture, $"netns del {Path.GetFileName(file)}\n");
            }
        }

        if (batch.Length > 0)
        {
            await HostTool.RunAsync(_ip, ["-force", "-batch", "-"], batch.ToString());
        }
    }

    /// <summary>Host-end link names currently present (for checks).</summary>
    public IReadOnlyList<string> HostLinks() =>
        Directory.Exists(SysClassNet)
            ? Directory.EnumerateFileSystemEntries(SysClassNet, _plan.HostLinkPrefix + "*").Select(Path.GetFileName).OfType<string>().ToList()
            : [];

    private static string ReadAlias(string link)
    {
        try
        {
            return File.ReadAllText(Path.Combine(SysClassNet, link, "ifalias")).Trim();
        }
        catch (IOException)
        {
            return "";
        }
    }

    private int AllocateSlot()
    {
        lock (s_slotLock)
        {
            for (var slot = 0; slot < _plan.SlotCount; slot++)
            {
                // A link of that name that we did not make belongs to another process: skip its slot.
                if (!s_slotsInUse.Contains(slot) && !Directory.Exists(Path.Combine(SysClassNet, _plan.HostLinkPrefix + slot)))
                {
                    s_slotsInUse.Add(slot);
                    return slot;
                }
            }
        }

        throw new InvalidOperationException($"all {_plan.SlotCount} veth slots are in use");
    }

    private static void ReleaseSlot(int slot)
    {
        lock (s_slotLock)
        {
            s_slotsInUse.Remove(slot);
        }
    }
}
