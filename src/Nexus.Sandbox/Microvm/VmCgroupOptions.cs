// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Sandbox.Microvm;

/// <summary>The cgroups every microVM's VMM runs in, jailed or not (<see cref="VmCgroup"/>).</summary>
public sealed record VmCgroupOptions
{
    /// <summary>
    /// What the VM's memory cgroup allows beyond guest memory and the Nexus region: the VMM process itself (the NativeAOT
    /// nexus-vmm's own RSS is about 5.5 MiB, docs/vmm.md; the rest is headroom for its page tables, KVM's per-VM kernel
    /// memory charged to it, and the console and snapshot buffers).
    /// </summary>
    public long OverheadBytes { get; init; } = 64L << 20;

    /// <summary>
    /// The VM's pids cgroup limit: processes and threads of the VM together (in a jail also unshare; the VMM, its vCPU and
    /// device threads, the .NET runtime's finalizer and signal threads and KVM's huge-page recovery thread: 7 when a
    /// 1-vCPU VM runs). A VMM escape cannot fork past it.
    /// </summary>
    public int PidsMax { get; init; } = 32;

    /// <summary>
    /// The most CPUs a VM's quota may be set to (a CFS quota per 100 ms period): the guest's one vCPU plus half a CPU for
    /// the VMM's own threads (device thread, runtime), so a VM cannot take more than that of the host however it spins.
    /// </summary>
    public double CpuLimit { get; init; } = 1.5;

    /// <summary>Where the cgroup v1 hierarchies are mounted.</summary>
    public string CgroupRoot { get; init; } = "/sys/fs/cgroup";

    /// <summary>The cgroup (below the memory, pids and cpu hierarchies) every VM's own cgroup is made in.</summary>
    public string CgroupParent { get; init; } = "nexus-microvm";
}
