// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using System.Globalization;
using Nexus.Sandbox.Oci;
using Nexus.Testing;

namespace Nexus.Sandbox.Tests;

/// <summary>
/// An instance's cgroup is removed after a fork bomb: its killed processes exit at the tenant's CPU quota unless the
/// removal lifts it, and a few hundred of them then outlast the removal's wait (docs/reliability.md, "The fork bomb's
/// test under load"). A real cpu cgroup under a name of this test's own. Root and cgroups: run under the integration lock.
/// </summary>
public sealed class CgroupRemovalTests : IDisposable
{
    private const int Sleepers = 200;
    private readonly string _directory = Path.Combine(
        "/sys/fs/cgroup/cpu", "nexus-removal-test-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            // The removal under test failed: take what it left, unthrottled, so the next run starts clean.
            File.WriteAllText(Path.Combine(_directory, "cpu.cfs_quota_us"), "-1");
            _ = OciSandboxDriver.RemoveCgroupsAsync([_directory], killTasks: true).GetAwaiter().GetResult();
        }
    }

    [RootFact(runc: false)]
    public async Task A_cgroup_full_of_killed_processes_at_a_tiny_quota_is_removed()
    {
        Directory.CreateDirectory(_directory);
        var procs = Path.Combine(_directory, "cgroup.procs");

        // Started unthrottled (each start costs this machine milliseconds), throttled to 0.01 CPU once all are in.
        using var shell = Process.Start(new ProcessStartInfo("sh")
        {
            ArgumentList = { "-c", $"echo $$ > {procs}; i=0; while [ $i -lt {Sleepers} ]; do sleep 600 & i=$((i+1)); done; wait" },
        })!;
        var deadline = Stopwatch.StartNew();
        while (File.ReadAllLines(procs).Length < Sleepers + 1)
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), $"only {File.ReadAllLines(procs).Length} processes started in 60 s");
            Assert.False(shell.HasExited, "the shell that starts the sleepers ended early");
            await Task.Delay(50);
        }

        File.WriteAllText(Path.Combine(_directory, "cpu.cfs_period_us"), "100000");
        File.WriteAllText(Path.Combine(_directory, "cpu.cfs_quota_us"), "1000");

        var problems = await OciSandboxDriver.RemoveCgroupsAsync([_directory], killTasks: true);

        Assert.Empty(problems);
        Assert.False(Directory.Exists(_directory), "the cgroup was left behind");
    }
}
