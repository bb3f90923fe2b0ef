// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net;
using Nexus.Sandbox.Network;

namespace Nexus.Sandbox.Tests;

public sealed class AddressAndSpecTests
{
    [Theory]
    [InlineData(0, "nxv0", "10.77.1.0", "10.77.1.1", "10.77.1.2")]
    [InlineData(1, "nxv1", "10.77.1.4", "10.77.1.5", "10.77.1.6")]
    [InlineData(63, "nxv63", "10.77.1.252", "10.77.1.253", "10.77.1.254")]
    [InlineData(64, "nxv64", "10.77.2.0", "10.77.2.1", "10.77.2.2")]
    [InlineData(16319, "nxv16319", "10.77.255.252", "10.77.255.253", "10.77.255.254")]
    public void SlotsAreConsecutiveSlash30s(int slot, string link, string network, string host, string sandbox)
    {
        var s = VethAddressPlan.Default.Slot(slot);
        Assert.Equal(link, s.HostLink);
        Assert.Equal(IPAddress.Parse(network), s.Network);
        Assert.Equal(IPAddress.Parse(host), s.HostAddress);
        Assert.Equal(IPAddress.Parse(sandbox), s.SandboxAddress);
        Assert.True(s.HostLink.Length <= 15, "Linux link names have at most 15 characters");
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(16320)]
    public void SlotsOutsideThePlanAreRefused(int slot) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => VethAddressPlan.Default.Slot(slot));

    [Fact]
    public void ServiceAddressAndNamesAreTheContractDefaults()
    {
        var plan = VethAddressPlan.Default;
        Assert.Equal(IPAddress.Parse("10.77.0.1"), plan.ServiceAddress);
        Assert.Equal("nexus0", plan.ServiceLink);
        Assert.Equal("nexus-abc", plan.NetnsName("abc"));
    }

    private static SandboxSpec Valid() => new()
    {
        InstanceId = "ok-1",
        RootfsPath = "/",
        Command = ["/bin/true"],
    };

    [Fact]
    public void AValidSpecPasses() => SandboxSpecValidator.Validate(Valid());

    [Theory]
    [InlineData("")]
    [InlineData("Upper")]
    [InlineData("has_underscore")]
    [InlineData("../escape")]
    [InlineData("a-very-long-instance-id-that-is-over-forty-chars")]
    public void BadInstanceIdsAreRefusedNamingTheField(string id)
    {
        var e = Assert.Throws<ArgumentException>(() => SandboxSpecValidator.Validate(Valid() with { InstanceId = id }));
        Assert.Contains("InstanceId", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BadSpecsAreRefusedWithTheReason()
    {
        Assert.Contains("RootfsPath", Refused(Valid() with { RootfsPath = "relative/path" }), StringComparison.Ordinal);
        Assert.Contains("not a directory", Refused(Valid() with { RootfsPath = "/nonexistent-rootfs-xyz" }), StringComparison.Ordinal);
        Assert.Contains("Command", Refused(Valid() with { Command = [] }), StringComparison.Ordinal);
        Assert.Contains("MemoryMb", Refused(Valid() with { MemoryMb = 0 }), StringComparison.Ordinal);
        Assert.Contains("Cpus", Refused(Valid() with { Cpus = double.NaN }), StringComparison.Ordinal);
        Assert.Contains("'/proc/x'", Refused(Valid() with { ReadOnlyMounts = new Dictionary<string, string> { ["/etc"] = "/proc/x" } }), StringComparison.Ordinal);
        Assert.Contains("'/no/such/dir'", Refused(Valid() with { ReadOnlyMounts = new Dictionary<string, string> { ["/no/such/dir"] = "/var/task" } }), StringComparison.Ordinal);
        Assert.Contains("'A=B'", Refused(Valid() with { Environment = new Dictionary<string, string> { ["A=B"] = "c" } }), StringComparison.Ordinal);
    }

    private static string Refused(SandboxSpec spec) => Assert.Throws<ArgumentException>(() => SandboxSpecValidator.Validate(spec)).Message;
}
