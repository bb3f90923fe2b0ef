// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.InteropServices;

namespace Nexus.Interop;

public static partial class Libc
{
    [LibraryImport(LibraryName, EntryPoint = "timerfd_create", SetLastError = true)]
    internal static partial int TimerFdCreate(int clockId, int flags);

    [LibraryImport(LibraryName, EntryPoint = "timerfd_settime", SetLastError = true)]
    internal static unsafe partial int TimerFdSetTime(int fd, int flags, long* newValue, long* oldValue);
}

/// <summary>
/// A Linux timerfd on CLOCK_MONOTONIC: a timer an epoll loop waits on like any fd (readable when it expired), so
/// timeouts run on the loop's own thread.
/// </summary>
public sealed class TimerFd : IDisposable
{
    private const int ClockMonotonic = 1;
    private const int NonBlocking = 0x800;
    private const int CloseOnExec = 0x80000;

    private TimerFd(SafeFd handle) => Handle = handle;

    public SafeFd Handle { get; }

    public static TimerFd Create() =>
        new(new SafeFd(Libc.Check(Libc.TimerFdCreate(ClockMonotonic, NonBlocking | CloseOnExec), "timerfd_create")));

    /// <summary>Fires every <paramref name="interval"/> from now on; <see cref="TimeSpan.Zero"/> disarms it.</summary>
    public unsafe void SetPeriodic(TimeSpan interval)
    {
        var ns = interval.Ticks * 100;

        // struct itimerspec { it_interval, it_value }, each a timespec { tv_sec, tv_nsec }.
        var spec = stackalloc long[4];
        spec[0] = spec[2] = ns / 1_000_000_000;
        spec[1] = spec[3] = ns % 1_000_000_000;
        var added = false;
        try
        {
            Handle.DangerousAddRef(ref added);

            // SAFETY: spec is a 32-byte itimerspec on this stack frame; the old value is not asked for.
            Libc.Check(Libc.TimerFdSetTime(Handle.Fd, 0, spec, null), "timerfd_settime");
        }
        finally
        {
            if (added)
            {
                Handle.DangerousRelease();
            }
        }
    }

    /// <summary>Clears the expiry count (false when the timer had not expired).</summary>
    public bool TryRead(out ulong expirations) => EventFd.TryReadCounter(Handle, "read(timerfd)", out expirations);

    public void Dispose() => Handle.Dispose();
}
