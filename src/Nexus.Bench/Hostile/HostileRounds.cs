// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Bench.Hostile;

/// <summary>One round of an attack: the victim's latencies (ms) in a block alone, then in a block with the attack.</summary>
public sealed record HostileRound(IReadOnlyList<double> AloneMs, IReadOnlyList<double> WithMs)
{
    public double P99Ratio => Percentiles.Of(WithMs).P99 / Percentiles.Of(AloneMs).P99;
}

/// <summary>
/// What alternated rounds say together. <see cref="Alone"/> and <see cref="With"/> are the pooled samples' percentiles
/// (R rounds of N calls: the p99 is the R·N/100-th slowest call, not one block's handful); the per-round p99 ratios
/// give the spread a single block would have shown; the sign test asks whether the with-block's p99 is above its
/// round's alone-block p99 more often than chance (no effect: each side equally likely, rounds with equal p99s left out);
/// the interval is a bootstrap over whole rounds (resampled with replacement, pooled again), so that drift within a
/// round stays with its round.
/// </summary>
public sealed record RoundSummary(
    Percentiles Alone,
    Percentiles With,
    int Rounds,
    double RatioMedian,
    double RatioMin,
    double RatioMax,
    int RoundsAbove,
    int RoundsBelow,
    double SignTestP,
    double RatioLow,
    double RatioHigh)
{
    /// <summary>Bootstrap resamples behind <see cref="RatioLow"/> and <see cref="RatioHigh"/>.</summary>
    public const int Resamples = 1000;

    /// <summary>The pooled p99 with the attack over the pooled p99 alone.</summary>
    public double PooledRatio => With.P99 / Alone.P99;

    /// <summary>
    /// Summarizes <paramref name="rounds"/> (at least one); the 95% interval of the pooled ratio comes from
    /// <see cref="Resamples"/> resamples drawn with <paramref name="seed"/>, so a summary is reproducible.
    /// </summary>
    public static RoundSummary Of(IReadOnlyList<HostileRound> rounds, int seed = 13)
    {
        ArgumentOutOfRangeException.ThrowIfZero(rounds.Count);
        var ratios = rounds.Select(r => r.P99Ratio).Order().ToArray();
        var above = rounds.Count(r => r.P99Ratio > 1);
        var below = rounds.Count(r => r.P99Ratio < 1);
        var (low, high) = Interval(rounds, seed);
        return new RoundSummary(
            Pool(rounds, r => r.AloneMs),
            Pool(rounds, r => r.WithMs),
            rounds.Count,
            Median(ratios),
            ratios[0],
            ratios[^1],
            above,
            below,
            SignTest(above, below),
            low,
            high);
    }

    /// <summary>
    /// Two-sided exact sign test: the chance, if each side were equally likely, of a split at least as uneven as
    /// <paramref name="above"/> against <paramref name="below"/>.
    /// </summary>
    public static double SignTest(int above, int below)
    {
        var n = above + below;
        var tail = 0.0;
        var choose = 1.0; // C(n, i), built up from C(n, 0)
        for (var i = 0; i <= Math.Min(above, below); i++)
        {
            tail += choose;
            choose = choose * (n - i) / (i + 1);
        }

        return Math.Min(1, 2 * tail / Math.Pow(2, n));
    }

    /// <summary>The middle value of a sorted array, or the mean of the middle two.</summary>
    public static double Median(double[] sorted) =>
        sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;

    private static Percentiles Pool(IReadOnlyList<HostileRound> rounds, Func<HostileRound, IReadOnlyList<double>> block) =>
        Percentiles.Of([.. rounds.SelectMany(block)]);

    // 2.5th and 97.5th percentiles of the pooled ratio over resampled sets of rounds.
    private static (double Low, double High) Interval(IReadOnlyList<HostileRound> rounds, int seed)
    {
        var random = new Random(seed);
        var ratios = new double[Resamples];
        var drawn = new HostileRound[rounds.Count];
        for (var s = 0; s < Resamples; s++)
        {
            for (var i = 0; i < drawn.Length; i++)
            {
                drawn[i] = rounds[random.Next(rounds.Count)];
            }

            ratios[s] = Pool(drawn, r => r.WithMs).P99 / Pool(drawn, r => r.AloneMs).P99;
        }

        Array.Sort(ratios);
        return (Percentiles.Rank(ratios, 0.025), Percentiles.Rank(ratios, 0.975));
    }
}
