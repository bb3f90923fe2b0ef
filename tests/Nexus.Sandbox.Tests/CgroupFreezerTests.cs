// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using System.Globalization;
using Nexus.Testing;

namespace Nexus.Sandbox.Tests;

/// <summary>
/// A process frozen from outside in a real freezer cgroup (v1's freezer hierarchy, as <c>runc pause</c> on a v1 host;
/// v2's unified hierarchy, which every cgroup can freeze) is seen as halted, and a v1 freeze is undone so a kill lands.
/// Cgroups under names of this test's own; root: run under the integration lock.
/// </summary>
public sealed class CgroupFreezerTests : IDisposable
{
    private readonly string _name = "nexus-freezer-test-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
    private readonly Process _sleeper = Process.Start("sleep", "600");

    private string V1 => Path.Combine(CgroupFreezer.DefaultRoot, "freezer", _name);

    private string V2 => Path.Combine(
        File.Exists(Path.Combine(CgroupFreezer.DefaultRoot, "cgroup.controllers")) ? CgroupFreezer.DefaultRoot : Path.Combine(CgroupFreezer.DefaultRoot, "unified"),
        _name);

    public void Dispose()
    {
        _sleeper.Kill();
        foreach (var (dir, thaw, value) in new[] { (V1, "freezer.state", "THAWED"), (V2, "cgroup.freeze", "0") })
        {
            if (Directory.Exists(dir))
            {
                File.WriteAllText(Path.Combine(dir, thaw), value);
            }
        }

        _sleeper.WaitForExit();
        foreach (var dir in new[] { V1, V2 }.Where(Directory.Exists))
        {
            Directory.Delete(dir);
        }

        _sleeper.Dispose();
    }

    /// <summary>Guards the v1 branch of <see cref="CgroupFreezer.IsFrozen"/> (a v1-frozen task shows D, never T) and <see cref="CgroupFreezer.ThawV1"/>.</summary>
    [RootFact(runc: false)]
    public async Task A_process_in_a_frozen_v1_freezer_cgroup_is_halted_and_thawed_for_its_kill()
    {
        Assert.True(Directory.Exists(Path.Combine(CgroupFreezer.DefaultRoot, "freezer")), "no cgroup v1 freezer hierarchy (the node runs on v1 cgroups)");
        Directory.CreateDirectory(V1);
        File.WriteAllText(Path.Combine(V1, "cgroup.procs"), _sleeper.Id.ToString(CultureInfo.InvariantCulture));
        Assert.False(ProcessFiles.IsStoppedOrFrozen(_sleeper.Id));

        File.WriteAllText(Path.Combine(V1, "freezer.state"), "FROZEN");
        await WaitForAsync(() => File.ReadAllText(Path.Combine(V1, "freezer.state")).Trim() == "FROZEN");
        Assert.True(ProcessFiles.IsStoppedOrFrozen(_sleeper.Id));

        // The kill first (pending while frozen), then the thaw lets it land.
        _sleeper.Kill();
        Assert.True(CgroupFreezer.ThawV1(_sleeper.Id));
        Assert.True(_sleeper.WaitForExit(TimeSpan.FromSeconds(5)), "the killed process did not exit after the thaw");
    }

    /// <summary>Guards the v2 branch of <see cref="CgroupFreezer.IsFrozen"/> (a v2-frozen task sleeps: S).</summary>
    [RootFact(runc: false)]
    public async Task A_process_in_a_frozen_v2_cgroup_is_halted()
    {
        var parent = Path.GetDirectoryName(V2)!;
        Assert.True(File.Exists(Path.Combine(parent, "cgroup.procs")), $"no cgroup v2 hierarchy at {parent}");
        Directory.CreateDirectory(V2);
        File.WriteAllText(Path.Combine(V2, "cgroup.procs"), _sleeper.Id.ToString(CultureInfo.InvariantCulture));
        Assert.False(ProcessFiles.IsStoppedOrFrozen(_sleeper.Id));

        File.WriteAllText(Path.Combine(V2, "cgroup.freeze"), "1");
        await WaitForAsync(() => File.ReadAllText(Path.Combine(V2, "cgroup.events")).Contains("frozen 1", StringComparison.Ordinal));
        Assert.True(ProcessFiles.IsStoppedOrFrozen(_sleeper.Id));

        File.WriteAllText(Path.Combine(V2, "cgroup.freeze"), "0");
        await WaitForAsync(() => File.ReadAllText(Path.Combine(V2, "cgroup.events")).Contains("frozen 0", StringComparison.Ordinal));
        Assert.False(ProcessFiles.IsStoppedOrFrozen(_sleeper.Id));
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), "the freezer did not settle in 5 s");
            await Task.Delay(20);
        }
    }
}
