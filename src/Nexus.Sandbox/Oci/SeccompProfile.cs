// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.InteropServices;

namespace Nexus.Sandbox.Oci;

/// <summary>
/// The seccomp filter of every sandbox: Docker's default profile (moby/moby profiles/seccomp/default.json,
/// 2023-2024 revision) resolved for a process with NO capabilities on one 64-bit architecture.
/// Semantics kept from Docker: default action ERRNO(EPERM); the unconditional allow list; socket() except
/// AF_VSOCK; personality() only with the values Docker allows; clone() only without namespace flags;
/// clone3() fails with ENOSYS so libc falls back to clone(); the CAP_*-gated rules are absent because the
/// sandbox has no capabilities, but for a fork template's one (<see cref="OciWithChroot"/>). Deliberately stricter than Docker: io_uring_* is denied (Docker 25 and
/// later deny it too) and only the native architecture is allowed (no 32-bit/x32 syscall entry points).
/// Syscall names unknown to the host's libseccomp are skipped by runc.
/// </summary>
public static class SeccompProfile
{
    /// <summary>EPERM, what a denied syscall returns.</summary>
    public const uint DeniedErrno = 1;

    /// <summary>ENOSYS for clone3: glibc then uses clone(), whose flags the filter can inspect.</summary>
    public const uint Clone3Errno = 38;

    /// <summary>CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET: clone() may set none of them.</summary>
    public const ulong CloneNamespaceFlags = 0x7E020000;

    /// <summary>AF_VSOCK, the one socket family refused.</summary>
    public const ulong AfVsock = 40;

    /// <summary>personality() values allowed: PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32, query (0xffffffff).</summary>
    public static IReadOnlyList<ulong> AllowedPersonalities { get; } = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];

    /// <summary>Syscalls allowed whatever their arguments.</summary>
    public static IReadOnlyList<string> AllowedSyscalls { get; } =
    [
        "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "capget", "capset", "chdir", "chmod",
        "chown", "clock_adjtime", "clock_getres", "clock_gettime", "clock_nanosleep", "close", "close_range",
        "connect", "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl",
        "epoll_ctl_old", "epoll_pwait", "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2",
        "execve", "execveat", "exit", "exit_group", "faccessat", "faccessat2", "fadvise64", "fallocate",
        "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchown", "fchownat", "fcntl", "fdatasync", "fgetxattr",
        "flistxattr", "flock", "fork", "fremovexattr", "fsetxattr", "fstat", "fstatfs", "fsync", "ftruncate",
        "futex", "futex_waitv", "futimesat", "getcpu", "getcwd", "getdents", "getdents64", "getegid", "geteuid",
        "getgid", "getgroups", "getitimer", "getpeername", "getpgid", "getpgrp", "getpid", "getppid",
        "getpriority", "getrandom", "getresgid", "getresuid", "getrlimit", "get_robust_list", "getrusage",
        "getsid", "getsockname", "getsockopt", "get_thread_area", "gettid", "gettimeofday", "getuid", "getxattr",
        "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch", "io_cancel", "ioctl",
        "io_destroy", "io_getevents", "io_pgetevents", "ioprio_get", "ioprio_set", "io_setup", "io_submit", "ipc",
        "kill", "landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self", "lchown", "lgetxattr",
        "link", "linkat", "listen", "listxattr", "llistxattr", "lremovexattr", "lseek", "lsetxattr", "lstat",
        "madvise", "membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir", "mkdirat", "mknod", "mknodat",
        "mlock", "mlock2", "mlockall", "mmap", "mprotect", "mq_getsetattr", "mq_notify", "mq_open",
        "mq_timedreceive", "mq_timedsend", "mq_unlink", "mremap", "msgctl", "msgget", "msgrcv", "msgsnd", "msync",
        "munlock", "munlockall", "munmap", "name_to_handle_at", "nanosleep", "newfstatat", "open", "openat",
        "openat2", "pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free",
        "pkey_mprotect", "poll", "ppoll", "prctl", "pread64", "preadv", "preadv2", "prlimit64",
        "process_mrelease", "pselect6", "pwrite64", "pwritev", "pwritev2", "read", "readahead", "readlink",
        "readlinkat", "readv", "recvfrom", "recvmmsg", "recvmsg", "remap_file_pages", "removexattr", "rename",
        "renameat", "renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending",
        "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
        "rt_tgsigqueueinfo", "sched_getaffinity", "sched_getattr", "sched_getparam", "sched_get_priority_max",
        "sched_get_priority_min", "sched_getscheduler", "sched_rr_get_interval", "sched_setaffinity",
        "sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select", "semctl",
        "semget", "semop", "semtimedop", "sendfile", "sendmmsg", "sendmsg", "sendto", "setfsgid", "setfsuid",
        "setgid", "setgroups", "setitimer", "setpgid", "setpriority", "setregid", "setresgid", "setresuid",
        "setreuid", "setrlimit", "set_robust_list", "setsid", "setsockopt", "set_thread_area", "set_tid_address",
        "setuid", "setxattr", "shmat", "shmctl", "shmdt", "shmget", "shutdown", "sigaltstack", "signalfd",
        "signalfd4", "socketpair", "splice", "stat", "statfs", "statx", "symlink", "symlinkat", "sync",
        "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create", "timer_delete",
        "timer_getoverrun", "timer_gettime", "timer_settime", "timerfd_create", "timerfd_gettime",
        "timerfd_settime", "times", "tkill", "truncate", "umask", "uname", "unlink", "unlinkat", "utime",
        "utimensat", "utimes", "vfork", "vmsplice", "wait4", "waitid", "write", "writev",

        // Docker allows these on kernels >= 4.8, where ptrace can no longer bypass seccomp.
        "process_vm_readv", "process_vm_writev", "ptrace",
    ];

    /// <summary>Architecture-specific allowances (Docker: arch_prctl and modify_ldt on amd64, the arm set on arm64).</summary>
    public static IReadOnlyList<string> ArchitectureSyscalls { get; } =
        RuntimeInformation.ProcessArchitecture == Architecture.Arm64
            ? ["arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush", "set_tls"]
            : ["arch_prctl", "modify_ldt"];

    /// <summary>The libseccomp name of the one architecture the filter admits.</summary>
    public static string NativeArchitecture { get; } =
        RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "SCMP_ARCH_AARCH64" : "SCMP_ARCH_X86_64";

    /// <summary>The OCI seccomp section (built once; immutable, shared by every config).</summary>
    public static OciSeccomp Oci { get; } = Build([]);

    /// <summary>
    /// A fork template's: chroot allowed as well, which Docker allows a container given CAP_SYS_CHROOT (its one
    /// capability, <see cref="OciConfigBuilder"/>). Its forked instances keep the filter but not the capability.
    /// </summary>
    public static OciSeccomp OciWithChroot { get; } = Build(["chroot"]);

    private static OciSeccomp Build(IReadOnlyList<string> capabilitySyscalls)
    {
        var rules = new List<OciSyscallRule>
        {
            new([.. AllowedSyscalls, .. ArchitectureSyscalls, .. capabilitySyscalls], "SCMP_ACT_ALLOW"),
            new(["socket"], "SCMP_ACT_ALLOW", Args: [new OciSyscallArg(0, AfVsock, "SCMP_CMP_NE")]),
        };
        foreach (var persona in AllowedPersonalities)
        {
            rules.Add(new(["personality"], "SCMP_ACT_ALLOW", Args: [new OciSyscallArg(0, persona, "SCMP_CMP_EQ")]));
        }

        // MASKED_EQ compares (arg & value) == valueTwo; the spec's JSON names the mask "value" and the result
        // "valueTwo", which defaults to 0: "no namespace flag set".
        rules.Add(new(["clone"], "SCMP_ACT_ALLOW", Args: [new OciSyscallArg(0, CloneNamespaceFlags, "SCMP_CMP_MASKED_EQ")]));
        rules.Add(new(["clone3"], "SCMP_ACT_ERRNO", ErrnoRet: Clone3Errno));
        return new OciSeccomp("SCMP_ACT_ERRNO", DeniedErrno, [NativeArchitecture], rules);
    }
}
