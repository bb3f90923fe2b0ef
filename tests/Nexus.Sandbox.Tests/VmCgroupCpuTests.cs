// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using Nexus.Interop;
using Nexus.Sandbox.Microvm;
using Nexus.Testing;

namespace Nexus.Sandbox.Tests;

/// <summary>
/// A microVM's CPU quota follows the instance's CPUs as a container's does (docs/vmm.md, "Every VM's cgroups"), jailed
/// or not: the pool lowers a ready VM to its memory's share, and the whole VM (vCPU and VMM threads) is held to it. No
/// KVM here: a spinning process runs in the VMM's place, started the way the driver starts a VMM (jailed: the jail's
/// command, with its chroot, namespaces and uid; unjailed: <c>VmmProcesses.Spawn</c>). Root and cgroups: run under the
/// integration lock.
/// </summary>
public sealed class VmCgroupCpuTests : IAsyncLifetime
{
    /// <summary>What the pool sets once the runtime is ready: 256 MB / 1,769 MB per CPU.</summary>
    private const double Share = 256.0 / 1769;

    private readonly string _parent = "nexus-vmcpu-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("nexus-vmcpu-");
    private VmCgroup? _cgroup;
    private ChildProcess? _spinner;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _spinner?.Signal(9);
        if (_cgroup is not null)
        {
            _cgroup.KillVmm();
            await _cgroup.RemoveAsync(TimeSpan.FromSeconds(5));
            TestCgroups.RemoveParent(_parent);
        }

        _folder.Delete(recursive: true);
    }

    /// <summary>
    /// Guards the VM's quota following its share (<see cref="VmCgroup.SetCpuLimit"/>, called by the pool through
    /// <c>MicrovmSandboxInstance.TrySetCpuLimit</c> once the runtime is ready) for a jailed VM: a VM whose 256 MB buy 0.145
    /// CPU spins and gets at most that. With SetCpuLimit made a no-op once, the spinner kept its init's full CPU (1.12
    /// CPU-seconds in 2 s here, the machine shared) and this failed.
    /// </summary>
    [RootFact(runc: false)]
    public async Task A_jailed_vm_lowered_to_its_share_cannot_spin_past_it()
    {
        _cgroup = NewCgroup("jailed");
        var jailed = new VmmJail(new VmmJailOptions(), ["/usr/bin/yes"]).Prepare(_folder.FullName, _cgroup, new Dictionary<string, string>(), tun: false, netnsPath: null);
        using var devNull = File.OpenHandle("/dev/null", FileMode.Open, FileAccess.Write);
        _spinner = ChildProcess.Spawn(new ChildStartInfo
        {
            Path = jailed.Command[0],
            Arguments = [.. jailed.Command.Skip(1)],
            StandardOutput = devNull,
            StandardError = devNull,
            NewSession = true,
        });

        await AssertHeldToShareAsync();
    }

    /// <summary>
    /// The same for a VM the driver runs unjailed (the node's default): its VMM is moved into the VM's cgroups as soon as
    /// it is exec'd (<c>VmmProcesses.Spawn</c> → <see cref="VmCgroup.Enter"/>). Before this, an unjailed VMM ran in no
    /// cgroup of its own, so a spinning guest took a whole host CPU whatever its memory; with the Enter call removed once,
    /// the spinner was in none of the VM's cgroups and this failed.
    /// </summary>
    [RootFact(runc: false)]
    public async Task An_unjailed_vm_lowered_to_its_share_cannot_spin_past_it()
    {
        _cgroup = NewCgroup("unjailed");
        var (spinner, pumps) = VmmProcesses.Spawn(["/bin/sh", "-c", "while :; do :; done"], [], [], onOutput: null, jailed: false, _cgroup);
        _spinner = spinner;
        Assert.Equal([spinner.Pid], _cgroup.Cgroup.Processes());

        await AssertHeldToShareAsync();
        spinner.Signal(9);
        await spinner.Exited;
        OutputPump.DrainAll(pumps, TimeSpan.FromSeconds(2));
    }

    private VmCgroup NewCgroup(string id)
    {
        var cgroup = VmCgroup.Create(new VmCgroupOptions { CgroupParent = _parent }, id, 64L << 20, cpus: 1.0);
        var cpu = cgroup.Directories[2];
        Assert.Equal("100000", File.ReadAllText(Path.Combine(cpu, "cpu.cfs_quota_us")).Trim());
        Assert.Equal("1024", File.ReadAllText(Path.Combine(cpu, "cpu.shares")).Trim());
        return cgroup;
    }

    private async Task AssertHeldToShareAsync()
    {
        _cgroup!.SetCpuLimit(Share);

        // Both sides of the window are read with the spinner under the lowered quota.
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        var before = VmCpu();
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await Task.Delay(TimeSpan.FromSeconds(2));
        var used = (VmCpu() - before).TotalSeconds;
        var wall = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds;
        Assert.False(_spinner!.Exited.IsCompleted, "the spinner ended: nothing was measured");

        // One CFS period (100 ms) of slack for where the window falls in the periods.
        Assert.True(used <= (Share * wall) + 0.1, $"the spinner got {used:0.000} CPU-seconds in {wall:0.00} s ({used / wall:0.00} CPU), more than its {Share:0.000}");
        Assert.True(used >= 0.05, $"the spinner got almost no CPU ({used:0.000} s in {wall:0.00} s): the quota is not what held it");
        var cpu = _cgroup.Directories[2];
        Assert.Equal("14471", File.ReadAllText(Path.Combine(cpu, "cpu.cfs_quota_us")).Trim());
        Assert.Equal("148", File.ReadAllText(Path.Combine(cpu, "cpu.shares")).Trim());
    }

    // CPU time of every process in the VM's memory cgroup (a jail's unshare and the spinner it forked).
    private TimeSpan VmCpu() =>
        _cgroup!.Cgroup.Processes().Aggregate(TimeSpan.Zero, (sum, pid) => sum + ProcessFiles.CpuTime(pid));
}
