// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.InteropServices;

namespace Nexus.Interop;

/// <summary>
/// CLOCK_MONOTONIC and the calling thread's CPU clock in nanoseconds, and sleeps to an absolute instant on
/// CLOCK_MONOTONIC, with the calling thread's timer slack lowered first (the default 50 us slack would be a quarter of a
/// 200 us delay).
/// </summary>
public static unsafe partial class PreciseClock
{
    private const int ClockMonotonic = 1;
    private const int ClockThreadCputime = 3;
    private const int TimerAbsTime = 1;
    private const int PrSetTimerSlack = 29;
    private const int EINTR = 4;

    /// <summary>Now, in nanoseconds of CLOCK_MONOTONIC.</summary>
    public static long NowNs()
    {
        var ts = stackalloc long[2];

        // SAFETY: ts is a 16-byte struct timespec { tv_sec, tv_nsec } on this stack frame; the kernel writes it.
        Libc.Check(ClockGetTime(ClockMonotonic, ts), "clock_gettime(CLOCK_MONOTONIC)");
        return (ts[0] * 1_000_000_000) + ts[1];
    }

    /// <summary>CPU time the calling thread has used (CLOCK_THREAD_CPUTIME_ID), in nanoseconds.</summary>
    public static long ThreadCpuNs()
    {
        var ts = stackalloc long[2];

        // SAFETY: ts is a 16-byte struct timespec { tv_sec, tv_nsec } on this stack frame; the kernel writes it.
        Libc.Check(ClockGetTime(ClockThreadCputime, ts), "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
        return (ts[0] * 1_000_000_000) + ts[1];
    }

    /// <summary>Sleeps until <paramref name="deadlineNs"/> (CLOCK_MONOTONIC); returns at once when it has passed.</summary>
    public static void SleepUntil(long deadlineNs)
    {
        var ts = stackalloc long[2];
        ts[0] = deadlineNs / 1_000_000_000;
        ts[1] = deadlineNs % 1_000_000_000;
        int error;

        // SAFETY: ts is a 16-byte struct timespec on this stack frame; the kernel only reads it (no remainder pointer).
        while ((error = ClockNanosleep(ClockMonotonic, TimerAbsTime, ts, null)) == EINTR)
        {
        }

        if (error != 0)
        {
            throw new UnixException("clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME)", error);
        }
    }

    /// <summary>Sets the calling thread's timer slack (how late the kernel may wake its sleeps to batch wake-ups).</summary>
    public static void SetThreadTimerSlack(TimeSpan slack) =>
        Libc.Check(Prctl(PrSetTimerSlack, (nuint)Math.Max(1, slack.Ticks * 100)), "prctl(PR_SET_TIMERSLACK)");

    [LibraryImport(Libc.LibraryName, EntryPoint = "clock_gettime", SetLastError = true)]
    private static partial int ClockGetTime(int clockId, long* timespec);

    // Returns the error number itself (not -1 and errno), as POSIX specifies for clock_nanosleep.
    [LibraryImport(Libc.LibraryName, EntryPoint = "clock_nanosleep")]
    private static partial int ClockNanosleep(int clockId, int flags, long* request, long* remain);

    [LibraryImport(Libc.LibraryName, EntryPoint = "prctl", SetLastError = true)]
    private static partial int Prctl(int option, nuint value);
}
