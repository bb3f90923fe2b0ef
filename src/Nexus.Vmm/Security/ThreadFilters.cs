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
    private const ulong AccessModeMask = 3;

    private static readonly SeccompDenial[] s_common =
    [
        new("execve"), new("execveat"), new("fork"), new("vfork"),

        // clone without CLONE_THREAD makes a process; threads stay allowed (the runtime may start one anywhere).
        // clone3 passes its flags in memory a filter cannot read: ENOSYS makes glibc fall back to clone.
        new("clone", When: new(0, CloneThread, 0)), new("clone3", SeccompDenial.ENOSYS),
        new("ptrace"), new("process_vm_readv"), new("process_vm_writev"), new("pidfd_getfd"),
        new("mount"), new("umount2"), new("pivot_root"), new("chroot"), new("unshare"), new("setns"),
        new("move_mount"), new("open_tree"), new("fsopen"), new("fsmount"),
        new("setuid"), new("setgid"), new("setreuid"), new("setregid"), new("setresuid"), new("setresgid"),
        new("setgroups"), new("capset"), new("personality"),
        new("init_module"), new("finit_module"), new("delete_module"), new("kexec_load"), new("kexec_file_load"),
        new("bpf"), new("perf_event_open"), new("keyctl"), new("add_key"), new("request_key"),
        new("userfaultfd"), new("reboot"), new("swapon"), new("swapoff"),
    ];

    /// <summary>
    /// vCPU threads: the common denials, every socket call (a vCPU has no network business), and opening any file
    /// for writing. Without the last, code running on a vCPU thread could open /proc/self/mem read-write and patch
    /// the code of the process's unfiltered threads; a filter cannot read the path, so every write-mode open (access
    /// mode O_WRONLY, O_RDWR or 3) is refused, and the calls that open without passing flags a filter can read
    /// (creat, openat2, open_by_handle_at) and io_uring (whose opens bypass seccomp) go too. Reading files stays
    /// allowed: the runtime loads assemblies and reads /proc on any thread. Guarded by
    /// SeccompTests.VcpuThreadCannotOpenProcSelfMemForWriting.
    /// </summary>
    public static IReadOnlyList<SeccompDenial> Vcpu { get; } =
    [
        .. s_common,
        new("socket"), new("socketpair"), new("connect"), new("bind"), new("listen"), new("accept"), new("accept4"),
        .. WriteOpens("open", flagsArgument: 1), .. WriteOpens("openat", flagsArgument: 2),
        new("creat"), new("openat2", SeccompDenial.ENOSYS), new("open_by_handle_at"),
        new("io_uring_setup", SeccompDenial.ENOSYS), new("io_uring_enter", SeccompDenial.ENOSYS), new("io_uring_register", SeccompDenial.ENOSYS),
    ];

    /// <summary>Denials of <paramref name="syscall"/> when its access mode (flags &amp; O_ACCMODE) is anything but O_RDONLY.</summary>
    private static IEnumerable<SeccompDenial> WriteOpens(string syscall, uint flagsArgument) =>
        [new(syscall, When: new(flagsArgument, AccessModeMask, 1)), new(syscall, When: new(flagsArgument, AccessModeMask, 2)), new(syscall, When: new(flagsArgument, AccessModeMask, 3))];

    /// <summary>The device thread: the common denials; it keeps socket, connect and accept for vsock.</summary>
    public static IReadOnlyList<SeccompDenial> DeviceThread { get; } = [.. s_common, new("bind"), new("listen")];
}
