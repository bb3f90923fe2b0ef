// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net;
using Nexus.Sandbox.Network;

namespace Nexus.Sandbox.Tests;

public sealed class SandboxFirewallTests
{
    [Fact]
    public void RulesetAdmitsOnlyTheServicePortsFromSandboxLinks()
    {
        var rules = new SandboxFirewall(VethAddressPlan.Default, "nft").Ruleset([9780, 9701]);

        Assert.Contains("iifname \"nxv*\" ip daddr 10.77.0.1 tcp dport { 9701, 9780 } accept", rules, StringComparison.Ordinal);
        Assert.Contains("iifname \"nxv*\" ct state established,related accept", rules, StringComparison.Ordinal);
        Assert.Contains("chain forward", rules, StringComparison.Ordinal);

        // Drops come after the accepts in each chain: nothing else from a sandbox reaches the host or leaves it.
        Assert.True(rules.IndexOf("tcp dport", StringComparison.Ordinal) < rules.IndexOf("iifname \"nxv*\" drop", StringComparison.Ordinal));
    }

    [Fact]
    public void WithARemoteStoreOnlyThatEndpointIsForwardedAndMasqueraded()
    {
        var rules = new SandboxFirewall(VethAddressPlan.Default, "nft").Ruleset([9701], new IPEndPoint(IPAddress.Parse("10.78.0.2"), 9780));

        Assert.Contains("iifname \"nxv*\" ip daddr 10.78.0.2 tcp dport 9780 accept", rules, StringComparison.Ordinal);
        Assert.Contains("iifname \"nxv*\" ip daddr 10.78.0.2 tcp dport 9780 masquerade", rules, StringComparison.Ordinal);
        Assert.Contains("oifname \"nxv*\" ct state established,related accept", rules, StringComparison.Ordinal);

        // In the forward chain the one accept comes before the drops; nothing new is forwarded into sandboxes.
        var forward = rules[rules.IndexOf("chain forward", StringComparison.Ordinal)..rules.IndexOf("chain postrouting", StringComparison.Ordinal)];
        Assert.True(forward.IndexOf("tcp dport 9780 accept", StringComparison.Ordinal) < forward.IndexOf("iifname \"nxv*\" drop", StringComparison.Ordinal));
        Assert.Contains("oifname \"nxv*\" drop", forward, StringComparison.Ordinal);
        Assert.Single(forward.Split('\n'), l => l.Contains("daddr", StringComparison.Ordinal));
        Assert.Throws<ArgumentException>(() => new SandboxFirewall(VethAddressPlan.Default, "nft").Ruleset([9701], new IPEndPoint(IPAddress.IPv6Loopback, 9780)));
    }

    [Theory]
    [InlineData(new int[0])]
    [InlineData(new[] { 0 })]
    [InlineData(new[] { 70000 })]
    public void RefusesMissingOrInvalidPorts(int[] ports)
    {
        Assert.Throws<ArgumentException>(() => new SandboxFirewall(VethAddressPlan.Default, "nft").Ruleset(ports));
    }
}
