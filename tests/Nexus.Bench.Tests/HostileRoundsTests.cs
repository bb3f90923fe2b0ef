// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Bench.Hostile;

namespace Nexus.Bench.Tests;

// The aggregation `bench hostile --rounds` prints: pooled percentiles, the spread of the rounds' ratios, the sign test
// and the bootstrap interval, on made-up samples (no node, nothing timed).
public sealed class HostileRoundsTests
{
    // A block of 100 calls: 98 at 1 ms, then two at `tail` ms, so its nearest-rank p99 (the 99th value) is `tail`.
    private static double[] Block(double tail) => [.. Enumerable.Repeat(1.0, 98), tail, tail];

    [Fact]
    public void The_pooled_p99_is_taken_over_every_call_of_every_round_not_averaged_over_rounds()
    {
        // Alone: one round with a 50 ms tail among three quiet ones. Pooled over 400 calls the p99 is the 4th slowest
        // call (2 ms), where the mean of the rounds' p99s would be 13.75 ms.
        var rounds = new[]
        {
            new HostileRound(Block(50), Block(3)),
            new HostileRound(Block(2), Block(3)),
            new HostileRound(Block(2), Block(3)),
            new HostileRound(Block(1), Block(3)),
        };

        var summary = RoundSummary.Of(rounds);

        Assert.Equal(400, summary.Alone.Count);
        Assert.Equal(2, summary.Alone.P99);
        Assert.Equal(3, summary.With.P99);
        Assert.Equal(1.5, summary.PooledRatio);
        Assert.Equal(4, summary.Rounds);
    }

    [Fact]
    public void The_rounds_ratios_give_median_and_range_and_count_each_side()
    {
        // Per-round ratios 3/1, 2/2, 1/2, 4/2: 3, 1, 0.5, 2; sorted 0.5, 1, 2, 3.
        var rounds = new[]
        {
            new HostileRound(Block(1), Block(3)),
            new HostileRound(Block(2), Block(2)),
            new HostileRound(Block(2), Block(1)),
            new HostileRound(Block(2), Block(4)),
        };

        var summary = RoundSummary.Of(rounds);

        Assert.Equal(1.5, summary.RatioMedian);
        Assert.Equal(0.5, summary.RatioMin);
        Assert.Equal(3, summary.RatioMax);
        Assert.Equal(2, summary.RoundsAbove);
        Assert.Equal(1, summary.RoundsBelow); // the round with equal p99s counts on neither side
    }

    [Theory]
    [InlineData(5, 5, 1.0)]
    [InlineData(10, 0, 2.0 / 1024)] // both all-above and all-below splits: 2 of 2^10
    [InlineData(0, 10, 2.0 / 1024)]
    [InlineData(9, 1, 22.0 / 1024)] // (1 + 10) splits at least this uneven on each side
    [InlineData(8, 2, 112.0 / 1024)] // 2 × (1 + 10 + 45)
    [InlineData(1, 0, 1.0)]
    [InlineData(0, 0, 1.0)]
    public void The_sign_test_is_the_exact_two_sided_binomial(int above, int below, double p)
    {
        Assert.Equal(p, RoundSummary.SignTest(above, below), precision: 12);
    }

    [Fact]
    public void Rounds_that_all_move_the_same_way_are_told_from_noise_and_mixed_ones_are_not()
    {
        var moved = Enumerable.Range(0, 10).Select(i => new HostileRound(Block(2 + (i % 3)), Block(3 + (i % 3)))).ToArray();
        var mixed = Enumerable.Range(0, 10).Select(i => new HostileRound(Block(2 + (i % 2)), Block(3 - (i % 2)))).ToArray();

        Assert.True(RoundSummary.Of(moved).SignTestP < 0.01);
        Assert.Equal(1.0, RoundSummary.Of(mixed).SignTestP);
    }

    [Fact]
    public void The_interval_is_one_point_when_every_round_is_alike_and_spans_the_rounds_when_they_differ()
    {
        var alike = Enumerable.Repeat(new HostileRound(Block(2), Block(3)), 6).ToArray();
        var same = RoundSummary.Of(alike);
        Assert.Equal((1.5, 1.5), (same.RatioLow, same.RatioHigh));

        // Half the rounds at 1x, half at 3x: a resample can be all of one kind, so the interval reaches toward both.
        var differ = Enumerable.Range(0, 6).Select(i => new HostileRound(Block(2), Block(i % 2 == 0 ? 2 : 6))).ToArray();
        var summary = RoundSummary.Of(differ);
        Assert.True(summary.RatioLow <= summary.PooledRatio && summary.PooledRatio <= summary.RatioHigh);
        Assert.True(summary.RatioLow < 1.5, $"low {summary.RatioLow}");
        Assert.True(summary.RatioHigh > 2.5, $"high {summary.RatioHigh}");
        Assert.Equal(summary, RoundSummary.Of(differ)); // seeded: the same rounds give the same interval
    }

    [Theory]
    [InlineData(1.2, 1.4, "met")]
    [InlineData(1.2, 1.5, "met")]
    [InlineData(1.4, 1.7, "open")]
    [InlineData(1.6, 2.0, "missed")]
    public void The_goal_is_judged_on_the_interval(double low, double high, string verdict)
    {
        var pooled = Percentiles.Of([1.0]);
        var summary = new RoundSummary(pooled, pooled, 5, 1, 1, 1, 0, 0, 1, low, high);

        Assert.Equal(verdict, HostileBenchmark.Verdict(summary));
    }
}
