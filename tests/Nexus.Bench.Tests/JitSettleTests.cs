// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Bench.Tests;

public sealed class JitSettleTests
{
    // Readings after rounds of 10 calls, `roundMs` apart; `compiled[i]` methods (and 2 ms of JIT each) in round i.
    private static List<JitReading> Trace(double roundMs, params int[] compiled)
    {
        var readings = new List<JitReading> { new(TimeSpan.Zero, 0, 5000, TimeSpan.FromMilliseconds(900)) };
        foreach (var methods in compiled)
        {
            var last = readings[^1];
            readings.Add(new(last.At + TimeSpan.FromMilliseconds(roundMs), last.Invocations + 10, last.Methods + methods, last.CompilationTime + TimeSpan.FromMilliseconds(2 * methods)));
        }

        return readings;
    }

    [Fact]
    public void A_late_tier1_burst_is_not_called_settled_before_it_lands()
    {
        // Tier-0 tails off, two quiet rounds while the runtime holds back call counting, then the promotions land:
        // the shape seen when the old per-round method count said "settled" before the sample.
        var readings = Trace(150, 40, 12, 2, 0, 0, 35, 8, 0, 0, 0, 0);
        var burst = 6;
        for (var n = 1; n <= burst; n++)
        {
            Assert.False(JitSettle.IsSettled(readings[..n]), $"settled after {n - 1} rounds, before the burst in round {burst - 1}");
        }

        Assert.False(JitSettle.IsSettled(readings[..^1]));
        Assert.True(JitSettle.IsSettled(readings));
        Assert.Equal((40, TimeSpan.FromMilliseconds(600)), JitSettle.Quiet(readings));
    }

    [Fact]
    public void Quiet_calls_in_less_time_than_the_quiet_span_are_not_settled()
    {
        // Fast calls: 40 quiet calls in 200 ms is inside what the call-counting delay and the promotion backlog can hide.
        Assert.False(JitSettle.IsSettled(Trace(50, 20, 0, 0, 0, 0)));
        Assert.True(JitSettle.IsSettled(Trace(50, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)));
    }

    [Fact]
    public void Quiet_time_over_fewer_calls_than_a_tier1_promotion_takes_is_not_settled()
    {
        // Slow calls: a method called once per invocation needs 30 counted calls before it is promoted.
        Assert.False(JitSettle.IsSettled(Trace(400, 20, 0, 0)));
        Assert.True(JitSettle.IsSettled(Trace(400, 20, 0, 0, 0, 0)));
    }

    [Fact]
    public void Compilation_time_growing_without_a_new_method_counted_is_not_quiet()
    {
        var readings = Trace(150, 20, 0, 0, 0, 0, 0);
        Assert.True(JitSettle.IsSettled(readings));
        var last = readings[^1];
        readings[^1] = last with { CompilationTime = last.CompilationTime + TimeSpan.FromMilliseconds(3) };
        Assert.False(JitSettle.IsSettled(readings));
        Assert.Equal((0, TimeSpan.Zero), JitSettle.Quiet(readings));
    }
}
