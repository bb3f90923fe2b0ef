// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using Nexus.Interop;

namespace Nexus.Backend;

/// <summary>
/// The CPU time one async flow (a storage request or an invocation: its code between awaits, on whichever pool threads
/// run it, and the tasks it starts) uses on this process's threads. Started in the flow, it rides in the flow's
/// execution context; the runtime reports every time a thread starts or stops running a piece of that flow, and each
/// piece is charged the thread's CPU clock (CLOCK_THREAD_CPUTIME_ID) from its start to its end. Work done for the flow
/// on threads outside it (the embedded store's request threads, the kernel's network stack) is not charged.
/// <para>
/// A meter started with <c>exactAbove</c> charges its pieces their time on the monotonic clock instead until its total
/// reaches that much, then the CPU clock. A thread cannot use more CPU than the time passing, so below the threshold
/// the total is an upper bound of the CPU used, never less; the point is its cost: the thread CPU clock is a system
/// call (1.3-3 us where the host is itself a guest, docs/benchmarks.md), the monotonic clock is read in user space. A
/// caller that charges at least <c>exactAbove</c> anyway (the invoke budget's least charge) gets the same charge for
/// every flow that stays below it, and an exact one, save the piece that crossed it, for a flow that does not.
/// </para>
/// <para>
/// A piece is charged when its thread leaves it (the runtime restores that thread's context), and an await's
/// continuation can start on another thread a moment before that: a <see cref="Stop"/> right after an await can read
/// the total before the piece ahead of that await is charged (its charge then lands in the stopped meter and is not
/// returned). The charge is thus an approximation a caller's budget tolerates, not an exact account.
/// </para>
/// </summary>
public sealed class CpuMeter
{
    private static readonly AsyncLocal<CpuMeter?> s_current = new(OnThreadSwitch);

    // When this thread started running the meter it runs now: on the monotonic clock, and on its CPU clock when that
    // meter was past its threshold by then (s_cpuRead; else the piece is charged by the monotonic clock).
    [ThreadStatic]
    private static long s_wallStartedAt;

    [ThreadStatic]
    private static long s_cpuStartedAt;

    [ThreadStatic]
    private static bool s_cpuRead;

    private readonly long _exactAboveNs;
    private long _nanoseconds;

    private CpuMeter(long exactAboveNs) => _exactAboveNs = exactAboveNs;

    /// <summary>Makes a new meter the calling flow's (and charges from now); call from the flow itself, not inside an async method it awaits.</summary>
    public static CpuMeter Start() => Start(TimeSpan.Zero);

    /// <summary>
    /// Like <see cref="Start()"/>, but the pieces are charged their monotonic time (an upper bound of their CPU time)
    /// until the total reaches <paramref name="exactAbove"/>.
    /// </summary>
    public static CpuMeter Start(TimeSpan exactAbove)
    {
        var meter = new CpuMeter(exactAbove.Ticks * 100);
        s_current.Value = meter;
        return meter;
    }

    /// <summary>Ends the calling flow's metering (charging the piece running now) and returns the CPU time charged.</summary>
    public TimeSpan Stop()
    {
        if (ReferenceEquals(s_current.Value, this))
        {
            s_current.Value = null;
        }

        return TimeSpan.FromTicks(Interlocked.Read(ref _nanoseconds) / 100);
    }

    private bool Exact => Interlocked.Read(ref _nanoseconds) >= _exactAboveNs;

    private static void OnThreadSwitch(AsyncLocalValueChangedArgs<CpuMeter?> change)
    {
        var wall = WallNs();
        var cpu = -1L;
        if (change.PreviousValue is { } previous)
        {
            long used;
            if (s_cpuRead)
            {
                cpu = PreciseClock.ThreadCpuNs();
                used = cpu - s_cpuStartedAt;
            }
            else
            {
                used = wall - s_wallStartedAt;
            }

            Interlocked.Add(ref previous._nanoseconds, used);
        }

        s_wallStartedAt = wall;
        s_cpuRead = change.CurrentValue is { Exact: true };
        if (s_cpuRead)
        {
            s_cpuStartedAt = cpu >= 0 ? cpu : PreciseClock.ThreadCpuNs();
        }
    }

    // Stopwatch reads CLOCK_MONOTONIC through the vDSO on Linux (no system call); its unit is the nanosecond there.
    private static long WallNs() => Stopwatch.Frequency == 1_000_000_000
        ? Stopwatch.GetTimestamp()
        : (long)(Stopwatch.GetTimestamp() * (1e9 / Stopwatch.Frequency));
}
