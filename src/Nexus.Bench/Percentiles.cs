// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Bench;

/// <summary>Order statistics of a sample (nearest-rank percentiles: every reported figure was observed).</summary>
public sealed record Percentiles(int Count, double P50, double P99, double Min, double Max, double Mean)
{
    public static Percentiles Of(IReadOnlyCollection<double> sample)
    {
        if (sample.Count == 0)
        {
            return new Percentiles(0, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);
        }

        var sorted = sample.Order().ToArray();
        return new Percentiles(sorted.Length, Rank(sorted, 0.50), Rank(sorted, 0.99), sorted[0], sorted[^1], sorted.Average());
    }

    /// <summary>The smallest value with at least <paramref name="q"/> of the sample at or below it.</summary>
    public static double Rank(double[] sorted, double q)
    {
        var index = (int)Math.Ceiling(q * sorted.Length) - 1;
        return sorted[Math.Clamp(index, 0, sorted.Length - 1)];
    }
}
