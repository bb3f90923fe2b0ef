// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

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

    [Theory]
    [InlineData(new int[0])]
    [InlineData(new[] { 0 })]
    [InlineData(new[] { 70000 })]
    public void RefusesMissingOrInvalidPorts(int[] ports)
    {
        Assert.Throws<ArgumentException>(() => new SandboxFirewall(VethAddressPlan.Default, "nft").Ruleset(ports));
    }
}
