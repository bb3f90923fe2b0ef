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
/// continuation can start on another thread a moment before that; tasks the flow started may also run on after it
/// stops. So a piece can be charged after <see cref="Stop"/> has returned the total: such late pieces go to the
/// meter's <see cref="ICpuLateCharge"/>, when it was started with one, so the flow's account still gets them.
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

    // Set in _nanoseconds by Stop, atomically with reading the total: a piece whose addition returns it came after.
    // The total stays far below it (2^62 ns is 146 years).
    private const long StoppedBit = 1L << 62;

    private readonly long _exactAboveNs;
    private readonly ICpuLateCharge? _late;
    private long _nanoseconds;

    private CpuMeter(long exactAboveNs, ICpuLateCharge? late) => (_exactAboveNs, _late) = (exactAboveNs, late);

    /// <summary>Makes a new meter the calling flow's (and charges from now); call from the flow itself, not inside an async method it awaits.</summary>
    public static CpuMeter Start(ICpuLateCharge? late = null) => Start(TimeSpan.Zero, late);

    /// <summary>
    /// Like <see cref="Start(ICpuLateCharge?)"/>, but the pieces are charged their monotonic time (an upper bound of
    /// their CPU time) until the total reaches <paramref name="exactAbove"/>.
    /// </summary>
    public static CpuMeter Start(TimeSpan exactAbove, ICpuLateCharge? late = null)
    {
        var meter = new CpuMeter(exactAbove.Ticks * 100, late);
        s_current.Value = meter;
        return meter;
    }

    /// <summary>
    /// Ends the calling flow's metering (charging the piece running now) and returns the CPU time charged so far; what
    /// is charged after this goes to the meter's <see cref="ICpuLateCharge"/>.
    /// </summary>
    public TimeSpan Stop()
    {
        if (ReferenceEquals(s_current.Value, this))
        {
            s_current.Value = null;
        }

        var total = Interlocked.Read(ref _nanoseconds);
        while ((total & StoppedBit) == 0 && Interlocked.CompareExchange(ref _nanoseconds, total | StoppedBit, total) is var seen && seen != total)
        {
            total = seen;
        }

        return Nanoseconds(total);
    }

    private bool Exact => (Interlocked.Read(ref _nanoseconds) & ~StoppedBit) >= _exactAboveNs;

    private static TimeSpan Nanoseconds(long total) => TimeSpan.FromTicks((total & ~StoppedBit) / 100);

    private void Charge(long used)
    {
        var after = Interlocked.Add(ref _nanoseconds, used);
        if ((after & StoppedBit) != 0)
        {
            _late?.ChargeLate(Nanoseconds(after - used), Nanoseconds(after));
        }
    }

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

            previous.Charge(used);
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

/// <summary>Takes the pieces of a flow's CPU time charged after its <see cref="CpuMeter"/> was stopped.</summary>
public interface ICpuLateCharge
{
    /// <summary>
    /// One late piece: the meter's total was <paramref name="before"/> and is <paramref name="after"/> with it. Called on
    /// the thread leaving the piece, while the runtime switches its context: it must be short and must not throw.
    /// </summary>
    void ChargeLate(TimeSpan before, TimeSpan after);
}
