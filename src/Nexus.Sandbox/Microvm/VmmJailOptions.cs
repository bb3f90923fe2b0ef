// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Sandbox.Microvm;

/// <summary>How the <c>microvm</c> driver jails each VMM process (<see cref="VmmJail"/>).</summary>
public sealed record VmmJailOptions
{
    /// <summary>First uid (and gid) of jailed VMMs; each VM gets its own, counted up from here.</summary>
    public int UidBase { get; init; } = 900_000;

    /// <summary>How many uids the jails cycle through (a uid is reused only after this many VMs).</summary>
    public int UidCount { get; init; } = 65_536;

    /// <summary>
    /// What the VM's memory cgroup allows beyond guest memory and the Nexus region: the VMM process itself (the NativeAOT
    /// nexus-vmm's own RSS is about 5.5 MiB, docs/vmm.md; the rest is headroom for its page tables, KVM's per-VM kernel
    /// memory charged to it, and the console and snapshot buffers).
    /// </summary>
    public long OverheadBytes { get; init; } = 64L << 20;

    /// <summary>
    /// The VM's pids cgroup limit: processes and threads of the jail together (unshare, the VMM, its vCPU and device
    /// threads, the .NET runtime's finalizer and signal threads and KVM's huge-page recovery thread: 7 when a 1-vCPU VM runs). A VMM escape cannot fork past it.
    /// </summary>
    public int PidsMax { get; init; } = 32;

    /// <summary>
    /// The VM's CPU quota in CPUs (a CFS quota per 100 ms period): the guest's one vCPU plus half a CPU for the VMM's own
    /// threads (device thread, runtime), so a VM cannot take more than that of the host however it spins.
    /// </summary>
    public double CpuLimit { get; init; } = 1.5;

    /// <summary>Where the cgroup v1 hierarchies are mounted.</summary>
    public string CgroupRoot { get; init; } = "/sys/fs/cgroup";

    /// <summary>The cgroup (below the memory hierarchy) every VM's own cgroup is made in.</summary>
    public string CgroupParent { get; init; } = "nexus-microvm";

    /// <summary>util-linux's unshare (mount, PID and network namespaces, chroot, uid/gid) and nsenter (joining a VM's netns).</summary>
    public string UnsharePath { get; init; } = "unshare";

    public string NsenterPath { get; init; } = "nsenter";

    /// <summary>The shell that puts the process into its cgroup before it execs nsenter/unshare.</summary>
    public string ShellPath { get; init; } = "/bin/sh";

    /// <summary>
    /// Libraries the VMM opens at run time (dlopen; ldd does not list them), looked up in the loader's default directories
    /// and placed in every jail with their own dependencies: seccomp for the thread filters, OpenSSL for the snapshot
    /// file's SHA-256 (.NET's cryptography opens it).
    /// </summary>
    public IReadOnlyList<string> RuntimeLibraries { get; init; } = ["libseccomp.so.2", "libssl.so.3"];

    /// <summary>The dynamic linker's dependency lister, run once per driver on the VMM executable and <see cref="RuntimeLibraries"/>.</summary>
    public string LddPath { get; init; } = "ldd";
}
