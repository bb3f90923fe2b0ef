// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.InteropServices;

namespace Nexus.Interop;

/// <summary>
/// libc entry points for starting and reaping child processes (posix_spawn, pidfd, waitpid, epoll).
/// A class of its own so that its names cannot collide with other partial files of <see cref="Libc"/>.
/// Sizes and constants are glibc x86-64 (Debian 12, glibc 2.36: pidfd_open and
/// posix_spawn_file_actions_addclosefrom_np exist there).
/// </summary>
internal static unsafe partial class ProcessNative
{
    /// <summary>sizeof(posix_spawn_file_actions_t) is 80 and sizeof(posix_spawnattr_t) 336; we reserve more.</summary>
    internal const int SpawnStructBytes = 512;

    /// <summary>sizeof(sigset_t).</summary>
    internal const int SigSetBytes = 128;

    internal const short POSIX_SPAWN_SETSIGDEF = 0x04;
    internal const short POSIX_SPAWN_SETSIGMASK = 0x08;
    internal const short POSIX_SPAWN_SETSID = 0x80;

    internal const int O_RDONLY = 0;
    internal const int O_WRONLY = 1;
    internal const int O_CLOEXEC = 0x80000;

    internal const int WNOHANG = 1;
    internal const int ECHILD = 10;
    internal const int ESRCH = 3;
    internal const int EINTR = 4;

    internal const int PR_SET_CHILD_SUBREAPER = 36;

    internal const int AF_UNIX = 1;
    internal const int SOCK_STREAM = 1;
    internal const int SOCK_CLOEXEC = 0x80000;

    internal const int EPOLL_CLOEXEC = 0x80000;
    internal const int EPOLL_CTL_ADD = 1;
    internal const int EPOLL_CTL_DEL = 2;
    internal const uint EPOLLIN = 0x001;

    /// <summary>struct epoll_event is packed on x86-64: 4-byte events then the 8-byte data, 12 bytes.</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    internal struct epoll_event
    {
        public uint events;
        public ulong data;
    }

    [LibraryImport(Libc.LibraryName, EntryPoint = "posix_spawn_file_actions_init")]
    internal static partial int posix_spawn_file_actions_init(void* actions);

    [LibraryImport(Libc.LibraryName, EntryPoint = "posix_spawn_file_actions_destroy")]
    internal static partial int posix_spawn_file_actions_destroy(void* actions);

    [LibraryImport(Libc.LibraryName, EntryPoint = "posix_spawn_file_actions_adddup2")]
    internal static partial int posix_spawn_file_actions_adddup2(void* actions, int fd, int newfd);

    [LibraryImport(Libc.LibraryName, EntryPoint = "posix_spawn_file_actions_addopen", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int posix_spawn_file_actions_addopen(void* actions, int fd, string path, int oflag, uint mode);

    [LibraryImport(Libc.LibraryName, EntryPoint = "posix_spawn_file_actions_addclosefrom_np")]
    internal static partial int posix_spawn_file_actions_addclosefrom_np(void* actions, int from);

    [LibraryImport(Libc.LibraryName, EntryPoint = "posix_spawnattr_init")]
    internal static partial int posix_spawnattr_init(void* attr);

    [LibraryImport(Libc.LibraryName, EntryPoint = "posix_spawnattr_destroy")]
    internal static partial int posix_spawnattr_destroy(void* attr);

    [LibraryImport(Libc.LibraryName, EntryPoint = "posix_spawnattr_setflags")]
    internal static partial int posix_spawnattr_setflags(void* attr, short flags);

    [LibraryImport(Libc.LibraryName, EntryPoint = "posix_spawnattr_setsigmask")]
    internal static partial int posix_spawnattr_setsigmask(void* attr, void* sigmask);

    [LibraryImport(Libc.LibraryName, EntryPoint = "posix_spawnattr_setsigdefault")]
    internal static partial int posix_spawnattr_setsigdefault(void* attr, void* sigdefault);

    [LibraryImport(Libc.LibraryName, EntryPoint = "sigemptyset")]
    internal static partial int sigemptyset(void* set);

    [LibraryImport(Libc.LibraryName, EntryPoint = "sigfillset")]
    internal static partial int sigfillset(void* set);

    /// <summary>Returns 0 or an error number (posix_spawn does not set errno).</summary>
    [LibraryImport(Libc.LibraryName, EntryPoint = "posix_spawn")]
    internal static partial int posix_spawn(int* pid, byte* path, void* fileActions, void* attr, byte** argv, byte** envp);

    [LibraryImport(Libc.LibraryName, EntryPoint = "pidfd_open", SetLastError = true)]
    internal static partial int pidfd_open(int pid, uint flags);

    [LibraryImport(Libc.LibraryName, EntryPoint = "kill", SetLastError = true)]
    internal static partial int kill(int pid, int sig);

    [LibraryImport(Libc.LibraryName, EntryPoint = "pidfd_send_signal", SetLastError = true)]
    internal static partial int pidfd_send_signal(SafeHandle pidfd, int sig, void* info, uint flags);

    [LibraryImport(Libc.LibraryName, EntryPoint = "waitpid", SetLastError = true)]
    internal static partial int waitpid(int pid, int* status, int options);

    /// <summary>prctl is variadic in C; a fixed-arity import is sound on x86-64 SysV (arguments in registers).</summary>
    [LibraryImport(Libc.LibraryName, EntryPoint = "prctl", SetLastError = true)]
    internal static partial int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    [LibraryImport(Libc.LibraryName, EntryPoint = "socketpair", SetLastError = true)]
    internal static partial int socketpair(int domain, int type, int protocol, int* sv);

    [LibraryImport(Libc.LibraryName, EntryPoint = "epoll_create1", SetLastError = true)]
    internal static partial int epoll_create1(int flags);

    [LibraryImport(Libc.LibraryName, EntryPoint = "epoll_ctl", SetLastError = true)]
    internal static partial int epoll_ctl(SafeHandle epfd, int op, SafeHandle fd, epoll_event* ev);

    [LibraryImport(Libc.LibraryName, EntryPoint = "epoll_wait", SetLastError = true)]
    internal static partial int epoll_wait(SafeHandle epfd, epoll_event* events, int maxevents, int timeout);

    [LibraryImport(Libc.LibraryName, EntryPoint = "getpid")]
    internal static partial int getpid();
}
