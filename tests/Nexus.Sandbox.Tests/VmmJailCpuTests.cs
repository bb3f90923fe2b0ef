// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using Nexus.Interop;
using Nexus.Sandbox.Microvm;
using Nexus.Testing;

namespace Nexus.Sandbox.Tests;

/// <summary>
/// The microVM jail's CPU quota follows the instance's CPUs as a container's does (docs/vmm.md, "The jailer"): the pool
/// lowers a ready VM to its memory's share, and the whole VM (vCPU and VMM threads) is held to it. No KVM here: the
/// jail runs a spinning executable (coreutils' <c>yes</c>, writing to /dev/null) in the VMM's place, with the same
/// chroot, namespaces, uid and cgroups a VMM gets. Root and cgroups: run under the integration lock.
/// </summary>
public sealed class VmmJailCpuTests : IAsyncLifetime
{
    private readonly string _parent = "nexus-jailcpu-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("nexus-jailcpu-");
    private JailedVmm? _jailed;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_jailed is not null)
        {
            VmmJail.KillVmm(_jailed.Cgroup);
            await VmmJail.RemoveCgroupAsync(_jailed.CgroupDirectories, TimeSpan.FromSeconds(5));
            TestCgroups.RemoveParent(_parent);
        }

        _folder.Delete(recursive: true);
    }

    /// <summary>
    /// Guards the VM's quota following its share (<see cref="JailedVmm.SetCpuLimit"/>, called by the pool through
    /// <c>MicrovmSandboxInstance.TrySetCpuLimit</c> once the runtime is ready): a VM whose 256 MB buy 0.145 CPU spins
    /// and gets at most that, where the jail's fixed quota gave every VM 1.5 CPUs. With SetCpuLimit made a no-op once,
    /// the spinner kept its init's full CPU (1.12 CPU-seconds in 2 s here, the machine shared) and this failed.
    /// </summary>
    [RootFact(runc: false)]
    public async Task A_jailed_vm_lowered_to_its_share_cannot_spin_past_it()
    {
        var jail = new VmmJail(new VmmJailOptions { CgroupParent = _parent }, ["/usr/bin/yes"]);
        _jailed = jail.Prepare(_folder.FullName, "spin", 64L << 20, cpus: 1.0, new Dictionary<string, string>(), tun: false, netnsPath: null);
        var cpu = _jailed.CgroupDirectories[2];
        Assert.Equal("100000", File.ReadAllText(Path.Combine(cpu, "cpu.cfs_quota_us")).Trim());
        Assert.Equal("1024", File.ReadAllText(Path.Combine(cpu, "cpu.shares")).Trim());

        using var devNull = File.OpenHandle("/dev/null", FileMode.Open, FileAccess.Write);
        var spinner = ChildProcess.Spawn(new ChildStartInfo
        {
            Path = _jailed.Command[0],
            Arguments = [.. _jailed.Command.Skip(1)],
            StandardOutput = devNull,
            StandardError = devNull,
            NewSession = true,
        });

        // What the pool does once the runtime is ready: 256 MB / 1,769 MB per CPU.
        var share = 256.0 / 1769;
        _jailed.SetCpuLimit(share);

        // Both sides of the window are read with the spinner under the lowered quota.
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        var before = JailCpu();
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await Task.Delay(TimeSpan.FromSeconds(2));
        var used = (JailCpu() - before).TotalSeconds;
        var wall = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds;
        Assert.False(spinner.Exited.IsCompleted, "the spinner ended: nothing was measured");

        // One CFS period (100 ms) of slack for where the window falls in the periods.
        Assert.True(used <= (share * wall) + 0.1, $"the jailed spinner got {used:0.000} CPU-seconds in {wall:0.00} s ({used / wall:0.00} CPU), more than its {share:0.000}");
        Assert.True(used >= 0.05, $"the spinner got almost no CPU ({used:0.000} s in {wall:0.00} s): the quota is not what held it");
        Assert.Equal("14471", File.ReadAllText(Path.Combine(cpu, "cpu.cfs_quota_us")).Trim());
        Assert.Equal("148", File.ReadAllText(Path.Combine(cpu, "cpu.shares")).Trim());
    }

    // CPU time of every process in the VM's memory cgroup (unshare and the spinner it forked).
    private TimeSpan JailCpu() =>
        _jailed!.Cgroup.Processes().Aggregate(TimeSpan.Zero, (sum, pid) => sum + ProcessFiles.CpuTime(pid));
}
