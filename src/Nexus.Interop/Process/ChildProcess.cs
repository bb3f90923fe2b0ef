// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Nexus.Interop;

/// <summary>How a child process ended: an exit code, or the signal that killed it.</summary>
public readonly record struct ChildExitStatus(int? ExitCode, int? Signal);

/// <summary>What to start: an absolute path, its arguments and exactly which descriptors it gets.</summary>
public sealed class ChildStartInfo
{
    /// <summary>Absolute path of the executable (no PATH search: resolve it once, up front).</summary>
    public required string Path { get; init; }

    /// <summary>argv[1..]; argv[0] is <see cref="Path"/>.</summary>
    public IReadOnlyList<string> Arguments { get; init; } = [];

    /// <summary>The environment as NAME=value strings; null inherits this process's environment.</summary>
    public IReadOnlyList<string>? Environment { get; init; }

    /// <summary>fd 0, 1, 2 of the child; null means /dev/null.</summary>
    public SafeHandle? StandardInput { get; init; }

    public SafeHandle? StandardOutput { get; init; }

    public SafeHandle? StandardError { get; init; }

    /// <summary>Descriptors that become fd 3, 4, ... in the child, in this order; every other descriptor is closed.</summary>
    public IReadOnlyList<SafeHandle> InheritedFds { get; init; } = [];

    /// <summary>Starts the child in a session of its own, so terminal signals aimed at us do not reach it.</summary>
    public bool NewSession { get; init; }
}

/// <summary>
/// A child process started with posix_spawn (or adopted after reparenting to us as a child subreaper),
/// tracked by a pidfd so that signalling it can never hit a recycled pid, and reaped by one shared
/// epoll thread (no thread per child). The .NET runtime only reaps children it started itself,
/// so these children are ours alone to reap.
/// </summary>
public sealed class ChildProcess
{
    private readonly SafeFd _pidFd;
    private readonly TaskCompletionSource<ChildExitStatus> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ChildProcess(int pid, SafeFd pidFd)
    {
        Pid = pid;
        _pidFd = pidFd;
    }

    public int Pid { get; }

    /// <summary>Completes once the child has exited and been reaped.</summary>
    public Task<ChildExitStatus> Exited => _exited.Task;

    internal SafeFd PidFd => _pidFd;

    /// <summary>Sends <paramref name="signal"/>; false when the child has already exited.</summary>
    public bool Signal(int signal) => ProcessHandle.Signal(_pidFd, signal);

    /// <summary>
    /// Makes this process the reaper of orphaned descendants (prctl PR_SET_CHILD_SUBREAPER), so a
    /// daemon's child that outlives its parent (e.g. a container started by <c>runc run --detach</c>)
    /// becomes our child: we can wait for it and read its exit status.
    /// </summary>
    public static void BecomeSubreaper() =>
        Libc.Check(ProcessNative.prctl(ProcessNative.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), "prctl(PR_SET_CHILD_SUBREAPER)");

    /// <summary>
    /// Signals any process by pid through a pidfd (for leftovers that are not our children); false when it
    /// is already gone. The pid is resolved once, at pidfd_open; the caller vouches that it is the right one.
    /// </summary>
    public static bool Kill(int pid, int signal)
    {
        using var process = ProcessHandle.TryOpen(pid);
        return process?.Signal(signal) ?? false;
    }

    /// <summary>Takes over a process that is already our child (reparented to us); see <see cref="BecomeSubreaper"/>.</summary>
    public static ChildProcess Adopt(int pid)
    {
        var pidFd = new SafeFd(Libc.Check(ProcessNative.pidfd_open(pid, 0), $"pidfd_open({pid})"));
        var child = new ChildProcess(pid, pidFd);
        ChildReaper.Watch(child);
        return child;
    }

    /// <summary>A connected AF_UNIX stream pair: the host end as an async socket, the other end for a child's stdio.</summary>
    public static unsafe (Socket Host, SafeFd Child) CreateSocketPair()
    {
        var fds = stackalloc int[2];

        // SAFETY: fds points at two ints on this stack frame, exactly what socketpair writes.
        Libc.Check(ProcessNative.socketpair(ProcessNative.AF_UNIX, ProcessNative.SOCK_STREAM | ProcessNative.SOCK_CLOEXEC, 0, fds), "socketpair");
        var child = new SafeFd(fds[1]);
        try
        {
            return (new Socket(new SafeSocketHandle(fds[0], ownsHandle: true)), child);
        }
        catch
        {
            child.Dispose();
            throw;
        }
    }

    /// <summary>Starts a child with posix_spawn: stdio and <see cref="ChildStartInfo.InheritedFds"/> placed exactly, signals reset.</summary>
    public static unsafe ChildProcess Spawn(ChildStartInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        if (!System.IO.Path.IsPathRooted(info.Path))
        {
            throw new ArgumentException($"executable path must be absolute: '{info.Path}'", nameof(info));
        }

        // SAFETY (whole method): the spawn structures are zeroed native blocks larger than glibc's (checked
        // sizes in ProcessNative) and initialised before use; argv/envp are NULL-terminated arrays of UTF-8
        // strings that live until after posix_spawn returns; every fd number handed to a file action is kept
        // open by DangerousAddRef until posix_spawn has duplicated it into the child.
        var handles = new List<SafeHandle>();
        var strings = new List<nint>();
        var fileActions = NativeMemory.AllocZeroed(ProcessNative.SpawnStructBytes);
        var attr = NativeMemory.AllocZeroed(ProcessNative.SpawnStructBytes);
        var sigSets = (byte*)NativeMemory.AllocZeroed(2 * ProcessNative.SigSetBytes);
        var argc = info.Arguments.Count + 1;
        var envList = info.Environment ?? CurrentEnvironment();
        var argv = (byte**)NativeMemory.AllocZeroed((nuint)(argc + 1), (nuint)sizeof(byte*));
        var envp = (byte**)NativeMemory.AllocZeroed((nuint)(envList.Count + 1), (nuint)sizeof(byte*));
        var faReady = false;
        var attrReady = false;
        try
        {
            SpawnCheck(ProcessNative.posix_spawn_file_actions_init(fileActions), "posix_spawn_file_actions_init");
            faReady = true;
            SpawnCheck(ProcessNative.posix_spawnattr_init(attr), "posix_spawnattr_init");
            attrReady = true;

            // The runtime blocks and handles signals of its own; the child starts with none blocked and all default.
            ProcessNative.sigemptyset(sigSets);
            ProcessNative.sigfillset(sigSets + ProcessNative.SigSetBytes);
            SpawnCheck(ProcessNative.posix_spawnattr_setsigmask(attr, sigSets), "posix_spawnattr_setsigmask");
            SpawnCheck(ProcessNative.posix_spawnattr_setsigdefault(attr, sigSets + ProcessNative.SigSetBytes), "posix_spawnattr_setsigdefault");
            var flags = (short)(ProcessNative.POSIX_SPAWN_SETSIGMASK | ProcessNative.POSIX_SPAWN_SETSIGDEF
                | (info.NewSession ? ProcessNative.POSIX_SPAWN_SETSID : 0));
            SpawnCheck(ProcessNative.posix_spawnattr_setflags(attr, flags), "posix_spawnattr_setflags");

            var inherited = new int[info.InheritedFds.Count];
            for (var i = 0; i < inherited.Length; i++)
            {
                inherited[i] = AddRef(info.InheritedFds[i], handles);
            }

            var stdio = new[] { info.StandardInput, info.StandardOutput, info.StandardError };
            var stdioFds = stdio.Select(h => h is null ? -1 : AddRef(h, handles)).ToArray();

            // Move the inherited descriptors out of the way first (above every source and target), so
            // placing one at 3+i can never clobber another's source; closefrom then drops the copies.
            var parking = Math.Max(3 + inherited.Length, inherited.Concat(stdioFds).DefaultIfEmpty(0).Max() + 1);
            for (var i = 0; i < inherited.Length; i++)
            {
                SpawnCheck(ProcessNative.posix_spawn_file_actions_adddup2(fileActions, inherited[i], parking + i), "posix_spawn_file_actions_adddup2");
            }

            for (var target = 0; target < 3; target++)
            {
                var result = stdioFds[target] >= 0
                    ? ProcessNative.posix_spawn_file_actions_adddup2(fileActions, stdioFds[target], target)
                    : ProcessNative.posix_spawn_file_actions_addopen(fileActions, target, "/dev/null", target == 0 ? ProcessNative.O_RDONLY : ProcessNative.O_WRONLY, 0);
                SpawnCheck(result, "posix_spawn_file_actions (stdio)");
            }

            for (var i = 0; i < inherited.Length; i++)
            {
                SpawnCheck(ProcessNative.posix_spawn_file_actions_adddup2(fileActions, parking + i, 3 + i), "posix_spawn_file_actions_adddup2");
            }

            SpawnCheck(ProcessNative.posix_spawn_file_actions_addclosefrom_np(fileActions, 3 + inherited.Length), "posix_spawn_file_actions_addclosefrom_np");

            argv[0] = Utf8(info.Path, strings);
            for (var i = 1; i < argc; i++)
            {
                argv[i] = Utf8(info.Arguments[i - 1], strings);
            }

            for (var i = 0; i < envList.Count; i++)
            {
                envp[i] = Utf8(envList[i], strings);
            }

            int pid;
            SpawnCheck(ProcessNative.posix_spawn(&pid, argv[0], fileActions, attr, argv, envp), $"posix_spawn({info.Path})");

            // An unreaped child's pid cannot be recycled, so this pidfd is certainly the child's.
            return Adopt(pid);
        }
        finally
        {
            foreach (var handle in handles)
            {
                handle.DangerousRelease();
            }

            foreach (var s in strings)
            {
                Marshal.FreeCoTaskMem(s);
            }

            if (faReady)
            {
                ProcessNative.posix_spawn_file_actions_destroy(fileActions);
            }

            if (attrReady)
            {
                ProcessNative.posix_spawnattr_destroy(attr);
            }

            NativeMemory.Free(fileActions);
            NativeMemory.Free(attr);
            NativeMemory.Free(sigSets);
            NativeMemory.Free(argv);
            NativeMemory.Free(envp);
        }
    }

    /// <summary>Called by the reaper once the pidfd is readable (the child has exited).</summary>
    internal unsafe void Reap()
    {
        int status;
        int result;
        do
        {
            // SAFETY: status is a local the kernel writes once.
            result = ProcessNative.waitpid(Pid, &status, ProcessNative.WNOHANG);
        }
        while (result == -1 && Marshal.GetLastPInvokeError() == ProcessNative.EINTR);

        var errno = result == -1 ? Marshal.GetLastPInvokeError() : 0;
        _pidFd.Dispose();
        if (result == Pid)
        {
            var signal = status & 0x7f;
            _exited.TrySetResult(signal == 0 ? new ChildExitStatus((status >> 8) & 0xff, null) : new ChildExitStatus(null, signal));
        }
        else if (errno == ProcessNative.ECHILD)
        {
            _exited.TrySetException(new InvalidOperationException(
                $"process {Pid} exited but is not a child of this process, so its exit status is unknown (a container's init is ours only if this process is a child subreaper)"));
        }
        else
        {
            _exited.TrySetException(new UnixException($"waitpid({Pid})", errno));
        }
    }

    internal void Fail(Exception e) => _exited.TrySetException(e);

    private static List<string> CurrentEnvironment() =>
        System.Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .Select(e => $"{e.Key}={e.Value}").ToList();

    private static int AddRef(SafeHandle handle, List<SafeHandle> refs)
    {
        var added = false;
        handle.DangerousAddRef(ref added);
        refs.Add(handle);
        return (int)handle.DangerousGetHandle();
    }

    private static unsafe byte* Utf8(string value, List<nint> allocations)
    {
        // SAFETY: the allocation is NUL-terminated UTF-8 and freed by the caller only after posix_spawn returned.
        var p = Marshal.StringToCoTaskMemUTF8(value);
        allocations.Add(p);
        return (byte*)p;
    }

    private static void SpawnCheck(int error, string call)
    {
        if (error != 0)
        {
            throw new UnixException(call, error);
        }
    }
}
