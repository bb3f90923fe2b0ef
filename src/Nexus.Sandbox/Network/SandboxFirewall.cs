// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Text;
using Nexus.Sandbox.Oci;

namespace Nexus.Sandbox.Network;

/// <summary>
/// What a baseline sandbox may reach on the host: only the node's own services on the service address. The host's
/// other listeners (anything bound to 0.0.0.0 answers on 10.77.0.1 and on every veth host end too) are dropped, and
/// nothing a sandbox sends is forwarded. One nftables table, replaced whole on every node start.
/// </summary>
public sealed class SandboxFirewall(VethAddressPlan plan, string nftPath)
{
    public const string TableName = "nexus";

    /// <summary>The ruleset for <paramref name="servicePorts"/> (TCP ports on the service address).</summary>
    public string Ruleset(IReadOnlyCollection<int> servicePorts)
    {
        if (servicePorts.Count == 0 || servicePorts.Any(p => p is <= 0 or > 65535))
        {
            throw new ArgumentException("service ports must be 1..65535 and at least one", nameof(servicePorts));
        }

        var links = plan.HostLinkPrefix + "*";
        var ports = string.Join(", ", servicePorts.Order().Select(p => p.ToString(CultureInfo.InvariantCulture)));
        var rules = new StringBuilder();
        rules.Append(CultureInfo.InvariantCulture, $"table inet {TableName} {{\n");
        rules.Append("  chain input {\n    type filter hook input priority 0; policy accept;\n");
        rules.Append(CultureInfo.InvariantCulture, $"    iifname \"{links}\" ct state established,related accept\n");
        rules.Append(CultureInfo.InvariantCulture, $"    iifname \"{links}\" ip daddr {plan.ServiceAddress} tcp dport {{ {ports} }} accept\n");
        rules.Append(CultureInfo.InvariantCulture, $"    iifname \"{links}\" drop\n  }}\n");
        rules.Append("  chain forward {\n    type filter hook forward priority 0; policy accept;\n");
        rules.Append(CultureInfo.InvariantCulture, $"    iifname \"{links}\" drop\n  }}\n}}\n");
        return rules.ToString();
    }

    /// <summary>Removes the table a node left behind (its ports may not be this node's).</summary>
    public async Task RemoveAsync(CancellationToken cancellationToken)
    {
        var result = await Tool.RunAsync(nftPath, ["-f", "-"], $"table inet {TableName}\ndelete table inet {TableName}\n", cancellationToken);
        if (!result.Succeeded)
        {
            throw new IOException($"could not remove the sandbox firewall (nft table inet {TableName}): {result.StandardError.Trim()}");
        }
    }

    /// <summary>Replaces the table atomically (one nft transaction: delete and add).</summary>
    public async Task ApplyAsync(IReadOnlyCollection<int> servicePorts, CancellationToken cancellationToken)
    {
        var script = $"table inet {TableName}\ndelete table inet {TableName}\n" + Ruleset(servicePorts);
        var result = await Tool.RunAsync(nftPath, ["-f", "-"], script, cancellationToken);
        if (!result.Succeeded)
        {
            throw new IOException($"could not install the sandbox firewall (nft table inet {TableName}): {result.StandardError.Trim()}");
        }
    }
}
