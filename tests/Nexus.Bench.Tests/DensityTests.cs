// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Bench.Density;
using Nexus.Bench.Replay;

namespace Nexus.Bench.Tests;

public sealed class DensityTests
{
    private static readonly UnloadedLatency s_reference = new("w", WarmP50Ms: 20, ColdP50Ms: 400);

    private static InvocationRecord Call(double ms, bool cold = false, bool ok = true) => new(0, 0, 0, ms, ok, cold, ok ? "success" : "timeout", "i");

    /// <summary>A level's failures are printed by reason (outcome and error type, whatever the message says), most frequent first.</summary>
    [Fact]
    public void FailuresAreGroupedByOutcomeAndErrorTypeMostFrequentFirst()
    {
        InvocationRecord Failed(string outcome) => new(0, 0, 0, 1, false, true, outcome, null);
        var records = new List<InvocationRecord>
        {
            Call(25),
            Failed("init_error Sandbox.Timedout: init ran 10.1 s"),
            Failed("error: ThrottledException: function 'a' is at its concurrency limit"),
            Failed("init_error Sandbox.Timedout: init ran 12.7 s"),
            Failed("init_error Runtime.ExitError: exit status 1"),
            Failed("init_error Sandbox.Timedout: init ran 11.0 s"),
            Failed("error: ThrottledException: function 'b' is at its concurrency limit"),
        };

        var reasons = DensityBenchmark.FailureReasons(records).ToList();

        Assert.Equal(
            [
                ("init_error Sandbox.Timedout: init ran 10.1 s", 3),
                ("error: ThrottledException: function 'a' is at its concurrency limit", 2),
                ("init_error Runtime.ExitError: exit status 1", 1),
            ],
            reasons);
    }

    [Fact]
    public void SlowdownIsAgainstWarmOrColdReferencePlusSlack()
    {
        var slo = new Slo(Factor: 2, SlackMs: 10);
        Assert.Equal(1.0, slo.Slowdown(Call(25), s_reference), 9);
        Assert.Equal(2.0, slo.Slowdown(Call(50), s_reference), 9);
        Assert.Equal(1.0, slo.Slowdown(Call(405, cold: true), s_reference), 9);
        Assert.Equal(double.PositiveInfinity, slo.Slowdown(Call(1, ok: false), s_reference));
    }

    [Fact]
    public void P99WithinFactorMeetsTheSlo_TimeoutsAreViolations()
    {
        var slo = new Slo();
        var fine = Enumerable.Repeat(Call(25), 99).Append(Call(1000)).ToList();
        var verdict = slo.Evaluate(fine, _ => s_reference);
        Assert.True(verdict.Met);
        Assert.Equal(1, verdict.Violations);

        var twoTimeouts = Enumerable.Repeat(Call(25), 98).Append(Call(1, ok: false)).Append(Call(1, ok: false)).ToList();
        var missed = slo.Evaluate(twoTimeouts, _ => s_reference);
        Assert.False(missed.Met);
        Assert.Equal(double.PositiveInfinity, missed.P99Slowdown);
        Assert.Equal(2, missed.Failures);

        Assert.False(slo.Evaluate([], _ => s_reference).Met);
    }

    [Fact]
    public void WarmupCallsCountOnlyWhenTheyFail()
    {
        InvocationRecord At(double plannedMs, double ms, bool ok = true) => new(0, plannedMs, plannedMs, ms, ok, true, ok ? "success" : "error", "i");
        var slo = new Slo(WarmupMs: 10_000);
        var pileUp = Enumerable.Range(0, 8).Select(i => At(i, 4000)).Concat(Enumerable.Range(0, 50).Select(i => At(10_000 + (i * 100), 405))).ToList();

        var verdict = slo.Evaluate(pileUp, _ => s_reference);
        Assert.True(verdict.Met);
        Assert.Equal(50, verdict.Invocations);
        Assert.False(new Slo().Evaluate(pileUp, _ => s_reference).Met);

        var failedInWarmup = slo.Evaluate([.. pileUp, At(5, 1, ok: false)], _ => s_reference);
        Assert.Equal(1, failedInWarmup.Failures);
        Assert.Equal(51, failedInWarmup.Invocations);
    }

    [Theory]
    [InlineData(5.0, 16.0, 10)]
    [InlineData(1.0, 16.0, 10)]
    [InlineData(0.3, 16.0, 10)]
    [InlineData(0.2, 16.0, 10)]
    [InlineData(11.0, 64.0, 10)]
    [InlineData(2.7, 16.0, 12)]
    public async Task SearchBracketsTheCapacityWithinTheResolution(double capacity, double maxLevel, int maxProbes)
    {
        var (best, probes) = await DensitySearch.FindAsync(level => Task.FromResult(level <= capacity), 0.125, maxLevel, maxProbes, resolution: 1.2);

        Assert.True(best <= capacity);
        Assert.True(best * 1.2 > capacity, $"best {best} is not within 1.2x of capacity {capacity}");
        Assert.True(probes.Count <= maxProbes);
        Assert.All(probes, p => Assert.Equal(p.Level <= capacity, p.Met));
        Assert.Equal(probes.Count, probes.Select(p => p.Level).Distinct().Count());
        Assert.Equal(1.0, probes[0].Level);
        Assert.Contains(probes, p => !p.Met && p.Level / best <= 1.2);
    }

    [Theory]
    [InlineData(0.05, 0.0)]
    [InlineData(40.0, 16.0)]
    public async Task SearchStopsAtTheBounds(double capacity, double expected)
    {
        var (best, probes) = await DensitySearch.FindAsync(level => Task.FromResult(level <= capacity), 0.125, 16, 20);

        Assert.Equal(expected, best);
        Assert.Equal(expected == 0 ? [1, 0.5, 0.25, 0.125] : [1.0, 2, 4, 8, 16], probes.Select(p => p.Level));
    }

    [Fact]
    public async Task SearchIsBoundedByProbes()
    {
        var (best, probes) = await DensitySearch.FindAsync(level => Task.FromResult(level <= 11), 0.125, 64, 3);

        Assert.Equal([1.0, 2, 4], probes.Select(p => p.Level));
        Assert.Equal(4, best);
    }

    [Fact]
    public async Task SearchBelowOneHalvesThenBisects()
    {
        var (best, probes) = await DensitySearch.FindAsync(level => Task.FromResult(level <= 0.3), 0.125, 16, 10);

        Assert.Equal([1.0, 0.5, 0.25], probes.Take(3).Select(p => p.Level));
        Assert.InRange(best, 0.25, 0.3);
    }
}
