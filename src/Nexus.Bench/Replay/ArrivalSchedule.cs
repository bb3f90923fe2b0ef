// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Bench.Trace;

namespace Nexus.Bench.Replay;

/// <summary>One planned invocation: when (from the start of the replay) and which trace function.</summary>
public readonly record struct Arrival(TimeSpan At, int Function);

/// <summary>How a trace is turned into arrival times.</summary>
public sealed record ScheduleOptions
{
    /// <summary>Wall seconds one trace minute is replayed in (60 = real time).</summary>
    public double SecondsPerMinute { get; init; } = 60;

    public int Seed { get; init; } = 1;

    /// <summary>Stop planning after this many invocations.</summary>
    public int MaxInvocations { get; init; } = int.MaxValue;

    /// <summary>Stop planning arrivals after this much wall time.</summary>
    public TimeSpan MaxDuration { get; init; } = TimeSpan.MaxValue;
}

/// <summary>
/// Arrival times as the InVitro loader plans them: per function and minute, n exponential IATs scaled so they sum
/// to exactly the (compressed) minute, rotated at a random split point (exponential_shift) so that functions do not
/// all fire at the start of the minute; timer functions get equidistant arrivals at a fixed phase instead.
/// </summary>
public static class ArrivalSchedule
{
    public static IReadOnlyList<Arrival> Build(TraceData trace, ScheduleOptions options)
    {
        if (!(options.SecondsPerMinute > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.SecondsPerMinute, "seconds per trace minute must be above 0");
        }

        var rng = new Random(options.Seed);
        var minute = options.SecondsPerMinute;
        var arrivals = new List<Arrival>();
        for (var f = 0; f < trace.Functions.Count; f++)
        {
            var function = trace.Functions[f];
            var timer = function.Trigger.Equals("timer", StringComparison.OrdinalIgnoreCase);
            for (var m = 0; m < trace.Minutes; m++)
            {
                var n = function.PerMinute[m];
                if (n == 0)
                {
                    continue;
                }

                var offsets = timer ? Equidistant(n, minute) : ShiftedExponential(rng, n, minute);
                foreach (var offset in offsets)
                {
                    arrivals.Add(new Arrival(TimeSpan.FromSeconds((m * minute) + offset), f));
                }
            }
        }

        return [.. arrivals.OrderBy(a => a.At).ThenBy(a => a.Function)
            .TakeWhile(a => a.At < options.MaxDuration)
            .Take(options.MaxInvocations)];
    }

    /// <summary>Scales <paramref name="iats"/> in place so they sum to <paramref name="total"/> (InVitro: the minute's count stays exact).</summary>
    public static void ScaleToSum(double[] iats, double total)
    {
        var sum = iats.Sum();
        if (!(sum > 0))
        {
            throw new ArgumentException("inter-arrival times must sum to more than 0", nameof(iats));
        }

        for (var i = 0; i < iats.Length; i++)
        {
            iats[i] = iats[i] * total / sum;
        }
    }

    /// <summary>Offsets within [0, minute) of n exponential arrivals scaled to the minute and rotated at a random point.</summary>
    public static double[] ShiftedExponential(Random rng, int n, double minute)
    {
        var iats = new double[n];
        for (var i = 0; i < n; i++)
        {
            iats[i] = -Math.Log(1 - rng.NextDouble());
        }

        ScaleToSum(iats, minute);
        var shift = rng.NextDouble() * minute;
        var offsets = new double[n];
        var t = 0.0;
        for (var i = 0; i < n; i++)
        {
            // Arrival i happens at the end of its IAT: the last one lands on the minute's end, before the shift.
            t += iats[i];
            offsets[i] = (t + shift) % minute;
        }

        Array.Sort(offsets);
        return offsets;
    }

    private static double[] Equidistant(int n, double minute) => [.. Enumerable.Range(0, n).Select(i => i * minute / n)];
}
