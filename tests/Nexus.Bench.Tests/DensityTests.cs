// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Bench.Density;
using Nexus.Bench.Replay;

namespace Nexus.Bench.Tests;

public sealed class DensityTests
{
    private static readonly UnloadedLatency s_reference = new("w", WarmP50Ms: 20, ColdP50Ms: 400);

    private static InvocationRecord Call(double ms, bool cold = false, bool ok = true) => new(0, 0, 0, ms, ok, cold, ok ? "success" : "timeout", "i");

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

    [Theory]
    [InlineData(5, 16, 10, 5)]
    [InlineData(1, 16, 10, 1)]
    [InlineData(0, 16, 10, 0)]
    [InlineData(16, 16, 10, 16)]
    [InlineData(40, 16, 10, 16)]
    [InlineData(11, 64, 10, 11)]
    public async Task SearchFindsTheLargestPassingLevel(int capacity, int maxLevel, int maxProbes, int expected)
    {
        var (best, probes) = await DensitySearch.FindAsync(level => Task.FromResult(level <= capacity), maxLevel, maxProbes);

        Assert.Equal(expected, best);
        Assert.True(probes.Count <= maxProbes);
        Assert.All(probes, p => Assert.Equal(p.Level <= capacity, p.Met));
        Assert.Equal(probes.Count, probes.Select(p => p.Level).Distinct().Count());
    }

    [Fact]
    public async Task SearchIsBoundedByProbes()
    {
        var (best, probes) = await DensitySearch.FindAsync(level => Task.FromResult(level <= 11), 64, 3);

        Assert.Equal([1, 2, 4], probes.Select(p => p.Level));
        Assert.Equal(4, best);
    }
}
