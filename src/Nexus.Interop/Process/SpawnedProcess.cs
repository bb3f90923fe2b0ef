// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.InteropServices;

namespace Nexus.Interop;

public static partial class Libc
{
    [LibraryImport(LibraryName, EntryPoint = "posix_spawn_file_actions_init")]
    internal static unsafe partial int PosixSpawnFileActionsInit(void* actions);

    [LibraryImport(LibraryName, EntryPoint = "posix_spawn_file_actions_destroy")]
    internal static unsafe partial int PosixSpawnFileActionsDestroy(void* actions);

    [LibraryImport(LibraryName, EntryPoint = "posix_spawn_file_actions_adddup2")]
    internal static unsafe partial int PosixSpawnFileActionsAddDup2(void* actions, int fd, int newFd);

    [LibraryImport(LibraryName, EntryPoint = "posix_spawn_file_actions_addopen", StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial int PosixSpawnFileActionsAddOpen(void* actions, int fd, string path, int flags, uint mode);

    [LibraryImport(LibraryName, EntryPoint = "posix_spawnp", StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial int PosixSpawnp(int* pid, string file, void* actions, void* attributes, nint* argv, nint* envp);

    [LibraryImport(LibraryName, EntryPoint = "waitpid", SetLastError = true)]
    internal static unsafe partial int WaitPid(int pid, int* status, int options);

    [LibraryImport(LibraryName, EntryPoint = "kill", SetLastError = true)]
    internal static partial int Kill(int pid, int signal);
}

/// <summary>
/// A child started with posix_spawnp and explicit descriptor passing: each (source, target) pair is dup2'd
/// into the child (which clears close-on-exec on the target), so the child gets exactly the fds it is given.
/// </summary>
public sealed class SpawnedProcess
{
    private const int O_WRONLY = 0x1;
    private const int O_RDONLY = 0x0;
    private const int O_CREAT = 0x40;
    private const int O_TRUNC = 0x200;
    private const int EINTR = 4;

    private readonly Lazy<Task<int>> _exit;

    private SpawnedProcess(int pid)
    {
        Pid = pid;
        _exit = new Lazy<Task<int>>(() => Task.Factory.StartNew(WaitBlocking, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default));
    }

    public int Pid { get; }

    /// <summary>
    /// Starts <paramref name="file"/> (looked up in PATH) with <paramref name="argv"/> (argv[0] included) and exactly
    /// <paramref name="environment"/>; stdin is /dev/null, stdout and stderr go to the given files (or /dev/null).
    /// </summary>
    public static unsafe SpawnedProcess Start(
        string file,
        IReadOnlyList<string> argv,
        IReadOnlyDictionary<string, string> environment,
        IReadOnlyList<(SafeFd Source, int Target)> fds,
        string? stdoutPath = null,
        string? stderrPath = null)
    {
        ArgumentNullException.ThrowIfNull(argv);
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(fds);
        var envStrings = environment.Select(kv => $"{kv.Key}={kv.Value}").ToArray();
        var native = new List<nint>();
        var refs = new List<SafeFd>();
        // glibc's posix_spawn_file_actions_t is 80 bytes on 64-bit; 512 leaves room for any libc layout.
        var actions = NativeMemory.AllocZeroed(512);
        var actionsReady = false;
        try
        {
            CheckSpawn(Libc.PosixSpawnFileActionsInit(actions), "posix_spawn_file_actions_init");
            actionsReady = true;
            CheckSpawn(Libc.PosixSpawnFileActionsAddOpen(actions, 0, "/dev/null", O_RDONLY, 0), "posix_spawn_file_actions_addopen");
            CheckSpawn(Libc.PosixSpawnFileActionsAddOpen(actions, 1, stdoutPath ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0x1a4), "posix_spawn_file_actions_addopen");
            CheckSpawn(Libc.PosixSpawnFileActionsAddOpen(actions, 2, stderrPath ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0x1a4), "posix_spawn_file_actions_addopen");
            foreach (var (source, target) in fds)
            {
                var added = false;
                source.DangerousAddRef(ref added);
                if (added)
                {
                    refs.Add(source);
                }

                CheckSpawn(Libc.PosixSpawnFileActionsAddDup2(actions, source.Fd, target), "posix_spawn_file_actions_adddup2");
            }

            var argvPtrs = stackalloc nint[argv.Count + 1];
            for (var i = 0; i < argv.Count; i++)
            {
                argvPtrs[i] = Marshal.StringToCoTaskMemUTF8(argv[i]);
                native.Add(argvPtrs[i]);
            }

            argvPtrs[argv.Count] = 0;
            var envPtrs = stackalloc nint[envStrings.Length + 1];
            for (var i = 0; i < envStrings.Length; i++)
            {
                envPtrs[i] = Marshal.StringToCoTaskMemUTF8(envStrings[i]);
                native.Add(envPtrs[i]);
            }

            envPtrs[envStrings.Length] = 0;
            int pid;
            // SAFETY: actions was initialised above; argv/envp are NULL-terminated arrays of live UTF-8 strings;
            // the source fds are kept open by the AddRef above until posix_spawnp has duplicated them.
            CheckSpawn(Libc.PosixSpawnp(&pid, file, actions, null, argvPtrs, envPtrs), $"posix_spawnp({file})");
            return new SpawnedProcess(pid);
        }
        finally
        {
            if (actionsReady)
            {
                Libc.PosixSpawnFileActionsDestroy(actions);
            }

            NativeMemory.Free(actions);
            foreach (var p in native)
            {
                Marshal.FreeCoTaskMem(p);
            }

            foreach (var r in refs)
            {
                r.DangerousRelease();
            }
        }
    }

    /// <summary>Completes with the exit code (128 + signal when killed by a signal).</summary>
    public Task<int> WaitForExitAsync() => _exit.Value;

    /// <summary>Sends <paramref name="signal"/> (default SIGKILL); a child that already exited is not an error.</summary>
    public void Kill(int signal = 9)
    {
        if (!_exit.IsValueCreated || !_exit.Value.IsCompleted)
        {
            _ = Libc.Kill(Pid, signal);
        }
    }

    // posix_spawn functions return the error number instead of setting errno.
    private static void CheckSpawn(int result, string call)
    {
        if (result != 0)
        {
            throw new UnixException(call, result);
        }
    }

    private unsafe int WaitBlocking()
    {
        while (true)
        {
            int status;
            // SAFETY: status is a stack local the kernel writes once.
            var r = Libc.WaitPid(Pid, &status, 0);
            if (r == -1 && Marshal.GetLastPInvokeError() == EINTR)
            {
                continue;
            }

            Libc.Check(r, "waitpid");
            var signal = status & 0x7f;
            return signal == 0 ? (status >> 8) & 0xff : 128 + signal;
        }
    }
}
