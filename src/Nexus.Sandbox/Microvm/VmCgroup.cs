// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using Nexus.Interop;
using Nexus.Sandbox.Oci;

namespace Nexus.Sandbox.Microvm;

/// <summary>
/// One microVM's cgroups (v1: memory, pids, cpu), made before its VMM starts and removed once it is gone, jailed or
/// not: memory for guest memory, the Nexus region and <see cref="VmCgroupOptions.OverheadBytes"/>; pids
/// (<see cref="VmCgroupOptions.PidsMax"/>); and a CFS quota and weight that follow the instance's CPUs as a container's
/// do (the whole VM: vCPU and VMM threads), at most <see cref="VmCgroupOptions.CpuLimit"/>. Without it a VM whose
/// function is sized at 0.145 CPU could keep a host CPU busy however small its memory. A jailed VMM's shell moves
/// itself in before it execs (<see cref="VmmJail"/>); an unjailed one is moved in with <see cref="Enter"/> as soon as
/// it is exec'd, before it has mapped its guest.
/// </summary>
public sealed class VmCgroup
{
    /// <summary>The CFS period every VM's cpu cgroup uses (the kernel's default, 100 ms).</summary>
    public const int CpuPeriodMicroseconds = 100_000;

    /// <summary>The v1 hierarchies each VM gets a cgroup in; memory first (its processes are the VM's).</summary>
    private static readonly string[] s_controllers = ["memory", "pids", "cpu"];

    private VmCgroup(IReadOnlyList<string> directories, CgroupV1 cgroup, double maxCpus)
    {
        Directories = directories;
        Cgroup = cgroup;
        MaxCpus = maxCpus;
    }

    /// <summary>The VM's cgroup directories: memory, pids, cpu.</summary>
    public IReadOnlyList<string> Directories { get; }

    /// <summary>The VM's memory cgroup (its limit, usage, OOM kills and processes).</summary>
    public string MemoryDirectory => Directories[0];

    /// <summary>Reads the VM's figures (memory usage, OOM kills, processes) and sets its CPU limit.</summary>
    public CgroupV1 Cgroup { get; }

    /// <summary>What one vCPU and its VMM may use at most, whatever the instance asks for.</summary>
    public double MaxCpus { get; }

    /// <summary>
    /// Makes the cgroups of VM <paramref name="instanceId"/> for <paramref name="guestBytes"/> of guest memory (and
    /// region), with a CPU quota and weight of <paramref name="cpus"/> (the instance's init's; the pool lowers it to its
    /// share once ready, <see cref="SetCpuLimit"/>).
    /// </summary>
    public static VmCgroup Create(VmCgroupOptions options, string instanceId, long guestBytes, double cpus)
    {
        ArgumentNullException.ThrowIfNull(options);
        var directories = DirectoriesOf(options, instanceId);
        foreach (var directory in directories)
        {
            Directory.CreateDirectory(directory);
        }

        var (memory, pids, cpu) = (directories[0], directories[1], directories[2]);
        File.WriteAllText(Path.Combine(memory, "memory.limit_in_bytes"), (guestBytes + options.OverheadBytes).ToString(CultureInfo.InvariantCulture));
        File.WriteAllText(Path.Combine(pids, "pids.max"), options.PidsMax.ToString(CultureInfo.InvariantCulture));
        File.WriteAllText(Path.Combine(cpu, "cpu.cfs_period_us"), CpuPeriodMicroseconds.ToString(CultureInfo.InvariantCulture));
        var cgroup = new VmCgroup(directories, new CgroupV1(options.CgroupRoot, options.CgroupParent + "/" + instanceId), options.CpuLimit);
        cgroup.SetCpuLimit(cpus);
        return cgroup;
    }

    /// <summary>
    /// Sets the whole VM's CPU quota and weight (vCPU and VMM threads together) to <paramref name="cpus"/>, at most
    /// <see cref="MaxCpus"/>; throws when the cgroup is gone.
    /// </summary>
    public void SetCpuLimit(double cpus) => Cgroup.SetCpuLimit(Math.Min(cpus, MaxCpus));

    /// <summary>Moves process <paramref name="pid"/> (an unjailed VMM, just exec'd) into every one of the VM's cgroups.</summary>
    public void Enter(int pid)
    {
        var id = pid.ToString(CultureInfo.InvariantCulture);
        foreach (var directory in Directories)
        {
            File.WriteAllText(Path.Combine(directory, "cgroup.procs"), id);
        }
    }

    /// <summary>
    /// Kills the VMM: every process of the cgroup that is not the parent of another one in it. Jailed, that is the VMM
    /// and not <c>unshare</c>, which then reaps it and ends with its status (killing unshare first would reparent the VMM
    /// to the node, a child subreaper, as a zombie nobody reaps); unjailed, the VMM is the cgroup's one process.
    /// </summary>
    public void KillVmm()
    {
        var processes = Cgroup.Processes();
        var parents = processes.Select(ParentOf).ToHashSet();
        foreach (var pid in processes.Where(p => !parents.Contains(p)))
        {
            ChildProcess.Kill(pid, signal: 9);
        }
    }

    /// <summary>
    /// Removes the VM's cgroups once their processes are gone (a killed VMM leaves them a moment after its parent was
    /// reaped); false if one still had processes after <paramref name="patience"/>.
    /// </summary>
    public async Task<bool> RemoveAsync(TimeSpan patience)
    {
        var deadline = DateTime.UtcNow + patience;
        foreach (var directory in Directories)
        {
            while (Directory.Exists(directory))
            {
                try
                {
                    Directory.Delete(directory);
                }
                catch (IOException) when (DateTime.UtcNow < deadline)
                {
                    // EBUSY: a process is still leaving.
                    await Task.Delay(10);
                }
                catch (IOException)
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>
    /// The cgroups of VM <paramref name="instanceId"/> if an earlier node left them (its run folder is still there):
    /// its VMM killed, then whatever is left, then the cgroups removed. Looked up by the run folders an earlier node of
    /// the same run directory left, never by a name pattern: another node's VMs share the parent cgroup.
    /// </summary>
    public static async Task RemoveLeftoverAsync(VmCgroupOptions options, string instanceId)
    {
        ArgumentNullException.ThrowIfNull(options);
        var cgroup = new VmCgroup(DirectoriesOf(options, instanceId), new CgroupV1(options.CgroupRoot, options.CgroupParent + "/" + instanceId), options.CpuLimit);
        if (!Directory.Exists(cgroup.MemoryDirectory))
        {
            return;
        }

        cgroup.KillVmm();
        if (!await cgroup.RemoveAsync(TimeSpan.FromSeconds(1)))
        {
            foreach (var pid in cgroup.Cgroup.Processes())
            {
                ChildProcess.Kill(pid, signal: 9);
            }

            await cgroup.RemoveAsync(TimeSpan.FromSeconds(5));
        }
    }

    private static string[] DirectoriesOf(VmCgroupOptions options, string instanceId) =>
        [.. s_controllers.Select(c => Path.Combine(options.CgroupRoot, c, options.CgroupParent, instanceId))];

    private static int ParentOf(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("PPid:", StringComparison.Ordinal));
            return line is null ? 0 : int.Parse(line.AsSpan(5).Trim(), CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
