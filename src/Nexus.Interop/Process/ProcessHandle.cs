// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.InteropServices;

namespace Nexus.Interop;

/// <summary>A process that is not our child, held by a pidfd so that a recycled pid can never be signalled.</summary>
public sealed class ProcessHandle : IDisposable
{
    private readonly SafeFd _pidFd;

    private ProcessHandle(int pid, SafeFd pidFd)
    {
        Pid = pid;
        _pidFd = pidFd;
    }

    public int Pid { get; }

    /// <summary>The pidfd: readable (poll/epoll) once the process has exited.</summary>
    public SafeFd Handle => _pidFd;

    /// <summary>Opens the process; null when it has already gone.</summary>
    public static ProcessHandle? TryOpen(int pid)
    {
        var fd = ProcessNative.pidfd_open(pid, 0);
        if (fd == -1 && Marshal.GetLastPInvokeError() == ProcessNative.ESRCH)
        {
            return null;
        }

        return new ProcessHandle(pid, new SafeFd(Libc.Check(fd, $"pidfd_open({pid})")));
    }

    /// <summary>Sends <paramref name="signal"/>; false when the process has already exited.</summary>
    public bool Signal(int signal) => Signal(_pidFd, signal);

    /// <summary>
    /// Sends <paramref name="signal"/> to every process of the group <paramref name="processGroup"/> (kill with a negative
    /// pid); false when the group is empty. Only for a group whose leader is our child and not yet reaped, so the id is
    /// still its own.
    /// </summary>
    public static bool SignalGroup(int processGroup, int signal)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(processGroup, 2);
        var result = ProcessNative.kill(-processGroup, signal);
        if (result == -1 && Marshal.GetLastPInvokeError() == ProcessNative.ESRCH)
        {
            return false;
        }

        Libc.Check(result, $"kill(-{processGroup})");
        return true;
    }

    /// <summary>Sends <paramref name="signal"/> through <paramref name="pidFd"/>; false when the process has already exited or the pidfd is closed.</summary>
    internal static unsafe bool Signal(SafeFd pidFd, int signal)
    {
        int result;
        try
        {
            // SAFETY: a null siginfo is allowed (the kernel fills in a SI_USER one); the pidfd is kept alive by the marshaller.
            result = ProcessNative.pidfd_send_signal(pidFd, signal, null, 0);
        }
        catch (ObjectDisposedException)
        {
            return false;
        }

        if (result == -1 && Marshal.GetLastPInvokeError() == ProcessNative.ESRCH)
        {
            return false;
        }

        Libc.Check(result, "pidfd_send_signal");
        return true;
    }

    public void Dispose() => _pidFd.Dispose();
}
