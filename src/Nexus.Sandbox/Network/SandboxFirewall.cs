// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Nexus.Interop;

namespace Nexus.Sandbox.Network;

/// <summary>
/// What a baseline sandbox may reach on the host: only the node's own services on the service address. The host's
/// other listeners (anything bound to 0.0.0.0 answers on 10.77.0.1 and on every veth host end too) are dropped, and
/// nothing a sandbox sends is forwarded, except TCP to one routed endpoint (a remote store) when the node has one:
/// masqueraded behind the host, so the store's side needs no route back; replies come back as established traffic and
/// nothing else is forwarded into the sandboxes. One nftables table, replaced whole on every node start.
/// </summary>
public sealed class SandboxFirewall(VethAddressPlan plan, string nftPath)
{
    public const string TableName = "nexus";

    // The table's family, inet, as netlink names it.
    private const byte NfprotoInet = 1;

    /// <summary>The table inside each baseline sandbox's own network namespace (<see cref="EgressRuleset"/>).</summary>
    public const string EgressTableName = "nexus_egress";

    /// <summary>The ruleset for <paramref name="servicePorts"/> (TCP ports on the service address) and the routed endpoint.</summary>
    public string Ruleset(IReadOnlyCollection<int> servicePorts, IPEndPoint? routedEndpoint = null)
    {
        var ports = Ports(servicePorts, routedEndpoint);
        var links = plan.HostLinkPrefix + "*";
        var rules = new StringBuilder();
        rules.Append(CultureInfo.InvariantCulture, $"table inet {TableName} {{\n");
        rules.Append("  chain input {\n    type filter hook input priority 0; policy accept;\n");
        rules.Append(CultureInfo.InvariantCulture, $"    iifname \"{links}\" ct state established,related accept\n");
        rules.Append(CultureInfo.InvariantCulture, $"    iifname \"{links}\" ip daddr {plan.ServiceAddress} tcp dport {{ {ports} }} accept\n");
        rules.Append(CultureInfo.InvariantCulture, $"    iifname \"{links}\" drop\n  }}\n");
        rules.Append("  chain forward {\n    type filter hook forward priority 0; policy accept;\n");
        if (routedEndpoint is not null)
        {
            rules.Append(CultureInfo.InvariantCulture, $"    iifname \"{links}\" ip daddr {routedEndpoint.Address} tcp dport {routedEndpoint.Port} accept\n");
            rules.Append(CultureInfo.InvariantCulture, $"    oifname \"{links}\" ct state established,related accept\n");
            rules.Append(CultureInfo.InvariantCulture, $"    oifname \"{links}\" drop\n");
        }

        rules.Append(CultureInfo.InvariantCulture, $"    iifname \"{links}\" drop\n  }}\n");
        if (routedEndpoint is not null)
        {
            rules.Append("  chain postrouting {\n    type nat hook postrouting priority 100; policy accept;\n");
            rules.Append(CultureInfo.InvariantCulture, $"    iifname \"{links}\" ip daddr {routedEndpoint.Address} tcp dport {routedEndpoint.Port} masquerade\n  }}\n");
        }

        rules.Append("}\n");
        return rules.ToString();
    }

    /// <summary>
    /// The sandbox's own half of the same policy, loaded into its network namespace when it is made: what it sends (its
    /// processes' packets, and what a tap in it forwards) may go only to the service ports and the routed endpoint, and
    /// back on connections made to it. The host's table can be deleted or flushed by anyone root on the host, and until
    /// it is put back (~0.1-0.25 s) it filters nothing; this one lives in a namespace only the node enters, so the host's
    /// <c>nft flush ruleset</c> leaves it, and a sandbox cannot change it (no CAP_NET_ADMIN). IPv6 is dropped by the policy
    /// too (the sandbox's eth0 has IPv6 disabled already: <see cref="Nexus.Interop.NetNamespace.ConfigureInterface"/>).
    /// </summary>
    public string EgressRuleset(IReadOnlyCollection<int> servicePorts, IPEndPoint? routedEndpoint = null)
    {
        var ports = Ports(servicePorts, routedEndpoint);
        var allowed = new StringBuilder();
        allowed.Append(CultureInfo.InvariantCulture, $"    ip daddr {plan.ServiceAddress} tcp dport {{ {ports} }} accept\n");
        if (routedEndpoint is not null)
        {
            allowed.Append(CultureInfo.InvariantCulture, $"    ip daddr {routedEndpoint.Address} tcp dport {routedEndpoint.Port} accept\n");
        }

        return $"table inet {EgressTableName} {{\n"
            + "  chain output {\n    type filter hook output priority 0; policy drop;\n    oifname \"lo\" accept\n    ct state established,related accept\n" + allowed + "  }\n"
            + "  chain forward {\n    type filter hook forward priority 0; policy drop;\n    ct state established,related accept\n" + allowed + "  }\n"
            + "}\n";
    }

    private static string Ports(IReadOnlyCollection<int> servicePorts, IPEndPoint? routedEndpoint)
    {
        if (routedEndpoint is not null && (routedEndpoint.AddressFamily != AddressFamily.InterNetwork || routedEndpoint.Port == 0))
        {
            throw new ArgumentException($"the routed endpoint must be an IPv4 address and a port, not {routedEndpoint}", nameof(routedEndpoint));
        }

        if (servicePorts.Count == 0 || servicePorts.Any(p => p is <= 0 or > 65535))
        {
            throw new ArgumentException("service ports must be 1..65535 and at least one", nameof(servicePorts));
        }

        return string.Join(", ", servicePorts.Order().Select(p => p.ToString(CultureInfo.InvariantCulture)));
    }

    /// <summary>Removes the table a node left behind (its ports may not be this node's).</summary>
    public async Task RemoveAsync(CancellationToken cancellationToken)
    {
        var result = await HostTool.RunAsync(nftPath, ["-f", "-"], $"table inet {TableName}\ndelete table inet {TableName}\n", cancellationToken);
        if (!result.Succeeded)
        {
            throw new IOException($"could not remove the sandbox firewall (nft table inet {TableName}): {result.StandardError.Trim()}");
        }
    }

    /// <summary>
    /// True when the table is there with every drop rule of <see cref="Ruleset"/> (so neither deleted nor flushed); its
    /// accept rules are not compared (a table an operator edited by hand is not put back while it still drops).
    /// </summary>
    public async Task<bool> IsInPlaceAsync(IReadOnlyCollection<int> servicePorts, IPEndPoint? routedEndpoint, CancellationToken cancellationToken)
    {
        var listed = await HostTool.RunAsync(nftPath, ["list", "table", "inet", TableName], cancellationToken: cancellationToken);
        return listed.Succeeded && DropRules(listed.StandardOutput) >= DropRules(Ruleset(servicePorts, routedEndpoint));
    }

    /// <summary>
    /// Subscribes to the kernel's notifications of deletions in this table (a delete, a flush, `nft flush ruleset`): the
    /// table can be put back the moment it is removed, not at the next check.
    /// </summary>
    public static NftablesEvents WatchDeletions() => NftablesEvents.Subscribe(NfprotoInet, TableName);

    private static int DropRules(string ruleset) => ruleset.Split('\n').Count(l => l.TrimEnd().EndsWith(" drop", StringComparison.Ordinal));

    /// <summary>Replaces the table atomically (one nft transaction: delete and add).</summary>
    public async Task ApplyAsync(IReadOnlyCollection<int> servicePorts, IPEndPoint? routedEndpoint, CancellationToken cancellationToken)
    {
        var script = $"table inet {TableName}\ndelete table inet {TableName}\n" + Ruleset(servicePorts, routedEndpoint);
        var result = await HostTool.RunAsync(nftPath, ["-f", "-"], script, cancellationToken);
        if (!result.Succeeded)
        {
            throw new IOException($"could not install the sandbox firewall (nft table inet {TableName}): {result.StandardError.Trim()}");
        }
    }
}
