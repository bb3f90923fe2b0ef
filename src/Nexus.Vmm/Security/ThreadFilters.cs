// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Interop;

namespace Nexus.Vmm.Security;

/// <summary>
/// The seccomp filters of the VMM's guest-facing threads (docs/threat-model-vmm.md): the vCPU threads, which decode
/// guest exits, and the device thread, which parses virtqueues and bridges vsock. A guest that found a bug in that
/// code would run on one of these threads; the filters take away what it would want next: new processes and
/// programs, tracing other processes, namespaces and mounts, privilege changes, kernel modules, BPF and keys.
/// They are deny-lists, not Firecracker's allow-lists: the .NET runtime may run JIT, GC and assembly loading on any
/// thread, and an allow-list that missed one of its syscalls would kill the VMM. vCPU threads also lose sockets.
/// </summary>
public static class ThreadFilters
{
    private const ulong CloneThread = 0x0001_0000;

    private static readonly SeccompDenial[] s_common =
    [
        new("execve"), new("execveat"), new("fork"), new("vfork"),

        // clone without CLONE_THREAD makes a process; threads stay allowed (the runtime may start one anywhere).
        // clone3 passes its flags in memory a filter cannot read: ENOSYS makes glibc fall back to clone.
        new("clone", ArgZeroMask: CloneThread), new("clone3", SeccompDenial.ENOSYS),
        new("ptrace"), new("process_vm_readv"), new("process_vm_writev"), new("pidfd_getfd"),
        new("mount"), new("umount2"), new("pivot_root"), new("chroot"), new("unshare"), new("setns"),
        new("move_mount"), new("open_tree"), new("fsopen"), new("fsmount"),
        new("setuid"), new("setgid"), new("setreuid"), new("setregid"), new("setresuid"), new("setresgid"),
        new("setgroups"), new("capset"), new("personality"),
        new("init_module"), new("finit_module"), new("delete_module"), new("kexec_load"), new("kexec_file_load"),
        new("bpf"), new("perf_event_open"), new("keyctl"), new("add_key"), new("request_key"),
        new("userfaultfd"), new("reboot"), new("swapon"), new("swapoff"),
    ];

    /// <summary>vCPU threads: the common denials plus every socket call (a vCPU has no network business).</summary>
    public static IReadOnlyList<SeccompDenial> Vcpu { get; } =
    [
        .. s_common,
        new("socket"), new("socketpair"), new("connect"), new("bind"), new("listen"), new("accept"), new("accept4"),
    ];

    /// <summary>The device thread: the common denials; it keeps socket, connect and accept for vsock.</summary>
    public static IReadOnlyList<SeccompDenial> DeviceThread { get; } = [.. s_common, new("bind"), new("listen")];
}
