// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Interop;

namespace Nexus.Backend;

/// <summary>
/// The CPU time one async flow (a storage request: its code between awaits, on whichever pool threads run it, and the
/// tasks it starts) uses on this process's threads. Started in the flow, it rides in the flow's execution context; the
/// runtime reports every time a thread starts or stops running a piece of that flow, and each piece is charged the
/// thread's CPU clock (CLOCK_THREAD_CPUTIME_ID) from its start to its end. Work done for the flow on threads outside
/// it (the embedded store's request threads, the kernel's network stack) is not charged.
/// </summary>
public sealed class CpuMeter
{
    private static readonly AsyncLocal<CpuMeter?> s_current = new(OnThreadSwitch);

    // Where the CPU clock stood when this thread started running the meter it runs now.
    [ThreadStatic]
    private static long s_threadStartedAt;

    private long _nanoseconds;

    /// <summary>Makes a new meter the calling flow's (and charges from now); call from the flow itself, not inside an async method it awaits.</summary>
    public static CpuMeter Start()
    {
        var meter = new CpuMeter();
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

    private static void OnThreadSwitch(AsyncLocalValueChangedArgs<CpuMeter?> change)
    {
        var now = PreciseClock.ThreadCpuNs();
        if (change.PreviousValue is { } previous)
        {
            Interlocked.Add(ref previous._nanoseconds, now - s_threadStartedAt);
        }

        s_threadStartedAt = now;
    }
}
