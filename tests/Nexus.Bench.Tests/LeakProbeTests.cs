// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Bench.Soak;

namespace Nexus.Bench.Tests;

/// <summary>How the soak's probe finds the node's processes and VMMs, and how a resource a microVM left is judged.</summary>
public sealed class LeakProbeTests
{
    [Fact]
    public void The_parent_pid_is_read_after_the_last_parenthesis_of_the_command_name()
    {
        Assert.Equal(812, LeakProbe.ParentPid("4711 (nexus-vmm) S 812 4711 4711 0 -1 4194560 361 0 0 0"));
        Assert.Equal(1, LeakProbe.ParentPid("90 (a) b (c) ) Z 1 90 90 0 -1"));
        Assert.Null(LeakProbe.ParentPid(""));
        Assert.Null(LeakProbe.ParentPid("90 (cut"));
    }

    [Fact]
    public void Descendants_are_every_process_whose_chain_of_parents_reaches_the_root()
    {
        // 100 is the node: 200 (unshare) -> 300 (the VMM), 201 reparented to it, 400 under init, 500 -> 501 unrelated.
        var parents = new Dictionary<int, int> { [100] = 1, [200] = 100, [300] = 200, [201] = 100, [400] = 1, [500] = 400, [501] = 500 };
        Assert.Equal([200, 201, 300], LeakProbe.Descendants(parents, 100).Order());
        Assert.Empty(LeakProbe.Descendants(parents, 300));
    }

    [Fact]
    public void A_vmm_is_named_by_its_first_arguments_not_by_its_jails_parents()
    {
        Assert.True(LeakProbe.IsVmm(["/nexus-vmm", "--restore", "/snapshot", ""]));
        Assert.True(LeakProbe.IsVmm(["/work/src/Nexus.Vmm.Host/bin/Release/net10.0/linux-x64/publish/nexus-vmm", "--kernel", "k"]));
        Assert.True(LeakProbe.IsVmm(["dotnet", "/work/bin/nexus-vmm.dll", "--kernel", "k"]));
        Assert.False(LeakProbe.IsVmm(["/usr/bin/unshare", "--mount", "--pid", "--", "/nexus-vmm"]));
        Assert.False(LeakProbe.IsVmm(["/bin/sh", "-c", "exec \"$@\"", "/usr/bin/nsenter", "/nexus-vmm"]));
        Assert.False(LeakProbe.IsVmm([""]));
        Assert.False(LeakProbe.IsVmm([]));
    }

    [Fact]
    public void Assemblies_the_runtime_maps_are_not_counted_as_descriptors_that_can_leak()
    {
        Assert.True(LeakProbe.IsAssembly("/usr/share/dotnet/shared/Microsoft.NETCore.App/10.0.12/System.Private.Xml.dll"));
        Assert.False(LeakProbe.IsAssembly("socket:[3768190]"));
        Assert.False(LeakProbe.IsAssembly("/memfd:nexus-region (deleted)"));
        Assert.False(LeakProbe.IsAssembly("/tmp/nexus-soak-x/logs/soak-1-nexus.log"));
    }

    [Theory]
    [InlineData("processes")]
    [InlineData("VMMs")]
    [InlineData("VM cgroups")]
    [InlineData("VM folders")]
    [InlineData("snapshots")]
    [InlineData("code drives")]
    [InlineData("TAPs")]
    public void One_microvm_resource_left_after_release_is_a_leak_however_flat_the_run(string name)
    {
        var series = LeakSeries.All.Single(s => s.Name == name);
        var before = Sample(0, 0);
        var during = Enumerable.Range(1, 12).Select(i => Sample(i * 10, 1)).ToList();

        Assert.False(LeakVerdict.Judge(series, before, during, Sample(130, 0)).Leaking);
        var left = LeakVerdict.Judge(series, before, during, Sample(130, 1));
        Assert.True(left.Leaking);
        Assert.Contains("1 after release, 0 before the run", left.Why, StringComparison.Ordinal);
    }

    [Fact]
    public void Microvm_resources_growing_through_the_second_half_leak()
    {
        var before = Sample(0, 0);
        var during = Enumerable.Range(1, 20).Select(i => Sample(i * 10, i)).ToList();
        foreach (var name in new[] { "processes", "VMMs", "VM cgroups", "VM folders", "snapshots", "code drives", "TAPs" })
        {
            var verdict = LeakVerdict.Judge(LeakSeries.All.Single(s => s.Name == name), before, during, Sample(210, 0));
            Assert.True(verdict.Leaking, name);
            Assert.StartsWith("grew ", verdict.Why, StringComparison.Ordinal);
        }
    }

    /// <summary>A sample with every microVM figure at <paramref name="held"/> and everything else at rest.</summary>
    private static LeakSample Sample(double seconds, int held) =>
        new(seconds, 0, 0, 0, 0, 100, 0, 0, 0, 0, 4, 1, 20, 70, held, held, held, held, held, held, held);
}
