// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Bench;

/// <summary>This process's JIT counters (all threads) after <see cref="Invocations"/> warm calls, <see cref="At"/> into the settle phase.</summary>
public readonly record struct JitReading(TimeSpan At, int Invocations, long Methods, TimeSpan CompilationTime);

/// <summary>
/// When the node's JIT counts as settled before a CPU sample. A count of methods per round is not enough: the runtime
/// starts counting calls only after tier-0 compiling has paused for its call-counting delay (100 ms by default), and a
/// method is promoted to tier 1 after 30 counted calls, so a burst of recompiling can follow a quiet round. Settled is
/// therefore a quiet span of both calls and wall time with no method compiled and no compilation time added.
/// </summary>
public static class JitSettle
{
    /// <summary>More than the runtime's 30 calls before a tier-1 promotion, so a method called once per invocation gets promoted inside the span.</summary>
    public const int QuietInvocations = 40;

    /// <summary>Five times the runtime's call-counting delay, leaving its background promotion backlog time to show.</summary>
    public static readonly TimeSpan QuietTime = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// The calls and wall time since the last reading that saw compiling (or since the first reading, taken before any
    /// call, when none did). Measured from the reading, not the compile, which lies somewhere before it: conservative.
    /// </summary>
    public static (int Invocations, TimeSpan Time) Quiet(IReadOnlyList<JitReading> readings)
    {
        ArgumentOutOfRangeException.ThrowIfZero(readings.Count);
        var last = readings.Count - 1;
        var since = last;
        while (since > 0 && readings[since - 1].Methods == readings[since].Methods && readings[since - 1].CompilationTime == readings[since].CompilationTime)
        {
            since--;
        }

        return (readings[last].Invocations - readings[since].Invocations, readings[last].At - readings[since].At);
    }

    public static bool IsSettled(IReadOnlyList<JitReading> readings)
    {
        var (invocations, time) = Quiet(readings);
        return invocations >= QuietInvocations && time >= QuietTime;
    }
}
