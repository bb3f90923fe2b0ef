// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Node.Pool;

namespace Nexus.Node.Tests;

/// <summary>
/// The idle class for instances at their quota (<see cref="QuotaIdleClass"/>, docs/node.md#cpu): an instance that used
/// up its quota since its last reading is demoted; it is restored only after the release time without using it up
/// (hysteresis); while the instances together are saturated nobody is demoted and the demoted are restored. And the
/// pool's wiring: readings of each ready instance's counter and CPU time move its class, on a clock the test moves.
/// </summary>
public sealed class QuotaIdleTests
{
    private static readonly TimeSpan s_release = TimeSpan.FromSeconds(1);

    [Fact]
    public void The_first_reading_only_sets_the_baseline()
    {
        var classes = new QuotaIdleClass(s_release, 1.8);
        Assert.Equal(QuotaIdleMove.Stay, classes.Observe("a", 40, TimeSpan.Zero));
        Assert.False(classes.IsDemoted("a"));
        Assert.Equal(QuotaIdleMove.Stay, classes.Observe("a", 40, TimeSpan.FromSeconds(0.25)));
        Assert.False(classes.IsDemoted("a"));
    }

    /// <summary>With the release time ignored once (restored at the first reading without a throttle), this failed.</summary>
    [Fact]
    public void An_instance_at_its_quota_is_demoted_and_restored_only_after_the_release_time_without_a_throttle()
    {
        var classes = new QuotaIdleClass(s_release, 1.8);
        classes.Observe("a", 0, TimeSpan.Zero);
        Assert.Equal(QuotaIdleMove.Demote, classes.Observe("a", 3, TimeSpan.FromSeconds(0.25)));
        Assert.True(classes.IsDemoted("a"));

        // Still throttled now and then: the release time counts from the last throttle.
        Assert.Equal(QuotaIdleMove.Stay, classes.Observe("a", 3, TimeSpan.FromSeconds(0.75)));
        Assert.Equal(QuotaIdleMove.Stay, classes.Observe("a", 4, TimeSpan.FromSeconds(1)));
        Assert.Equal(QuotaIdleMove.Stay, classes.Observe("a", 4, TimeSpan.FromSeconds(1.75)));
        Assert.True(classes.IsDemoted("a"));
        Assert.Equal(QuotaIdleMove.Restore, classes.Observe("a", 4, TimeSpan.FromSeconds(2)));
        Assert.False(classes.IsDemoted("a"));

        // Restored, it is demoted again at its next throttle.
        Assert.Equal(QuotaIdleMove.Stay, classes.Observe("a", 4, TimeSpan.FromSeconds(2.25)));
        Assert.Equal(QuotaIdleMove.Demote, classes.Observe("a", 5, TimeSpan.FromSeconds(2.5)));
    }

    /// <summary>
    /// An idle-class tenant gets almost no CPU while the others want it all, so saturation restores it and keeps it in
    /// the normal class. With the saturation check removed once, this failed.
    /// </summary>
    [Fact]
    public void While_the_instances_are_saturated_nobody_is_demoted_and_the_demoted_are_restored()
    {
        var classes = new QuotaIdleClass(s_release, 1.8);
        classes.Observe("a", 0, TimeSpan.Zero);
        classes.Observe("b", 0, TimeSpan.Zero);
        Assert.Empty(classes.ObserveSaturation(0.5));
        Assert.Equal(QuotaIdleMove.Demote, classes.Observe("a", 1, TimeSpan.FromSeconds(0.25)));

        Assert.Equal(["a"], classes.ObserveSaturation(1.9));
        Assert.False(classes.IsDemoted("a"));
        Assert.Equal(QuotaIdleMove.Stay, classes.Observe("a", 2, TimeSpan.FromSeconds(0.5)));
        Assert.Equal(QuotaIdleMove.Stay, classes.Observe("b", 1, TimeSpan.FromSeconds(0.5)));

        // Room again: the next throttle demotes.
        Assert.Empty(classes.ObserveSaturation(1.2));
        Assert.Equal(QuotaIdleMove.Demote, classes.Observe("b", 2, TimeSpan.FromSeconds(0.75)));
    }

    [Fact]
    public void A_stopped_instance_is_forgotten_and_starts_from_a_new_baseline()
    {
        var classes = new QuotaIdleClass(s_release, 1.8);
        classes.Observe("a", 0, TimeSpan.Zero);
        classes.Observe("a", 1, TimeSpan.FromSeconds(0.25));
        classes.Retain(new HashSet<string>());
        Assert.False(classes.IsDemoted("a"));
        Assert.Equal(QuotaIdleMove.Stay, classes.Observe("a", 9, TimeSpan.FromSeconds(0.5)));
    }

    /// <summary>
    /// The pool reads a ready instance's counter and moves its class: demoted at the first reading after its counter
    /// moves (the baseline is read as the instance becomes ready), restored after the release time without a throttle,
    /// and restored at once when the instances' CPU time says they are saturated. With the pool's cpu.idle write removed
    /// once, this failed; with the baseline at ready removed once, too.
    /// </summary>
    [Fact]
    public async Task The_pool_demotes_a_ready_instance_at_its_quota_and_restores_it()
    {
        var time = new ManualTime();
        await using var f = new PoolFixture(new PoolOptions { QuotaIdle = true, QuotaIdlePeriod = TimeSpan.FromHours(1), QuotaIdleSaturatedCpus = 1.8 }, time);
        var tenant = PoolFixture.Function("tenant", memory: 256);
        Assert.Equal("success", (await f.InvokeAsync(tenant)).Outcome);
        var sandbox = Assert.Single(f.Driver.Started);
        var id = sandbox.InstanceId;

        // The baseline was read as it became ready: the first reading after a throttle demotes it.
        Assert.Null(sandbox.CpuIdle);
        sandbox.ThrottledPeriods = 7;
        time.Advance(TimeSpan.FromSeconds(0.25));
        Assert.Equal(1, f.Pool.SortQuotaIdle());
        Assert.True(sandbox.CpuIdle);
        Assert.True(f.Pool.IsInQuotaIdleClass(id));

        time.Advance(TimeSpan.FromSeconds(0.75));
        Assert.Equal(0, f.Pool.SortQuotaIdle());
        time.Advance(TimeSpan.FromSeconds(0.25));
        Assert.Equal(1, f.Pool.SortQuotaIdle());
        Assert.False(sandbox.CpuIdle);
        Assert.False(f.Pool.IsInQuotaIdleClass(id));

        // Demoted again; then 0.5 s in which the instances used 1 s of CPU (2 CPUs): saturated, restored.
        sandbox.ThrottledPeriods = 8;
        time.Advance(TimeSpan.FromSeconds(0.25));
        Assert.Equal(1, f.Pool.SortQuotaIdle());
        Assert.True(sandbox.CpuIdle);
        sandbox.CpuTime += TimeSpan.FromSeconds(1);
        time.Advance(TimeSpan.FromSeconds(0.5));
        Assert.Equal(1, f.Pool.SortQuotaIdle());
        Assert.False(sandbox.CpuIdle);
    }

    [Fact]
    public async Task Turned_off_the_pool_moves_nothing()
    {
        var time = new ManualTime();
        await using var f = new PoolFixture(new PoolOptions { QuotaIdle = false }, time);
        Assert.Equal("success", (await f.InvokeAsync(PoolFixture.Function("tenant", memory: 256))).Outcome);
        var sandbox = Assert.Single(f.Driver.Started);
        f.Pool.SortQuotaIdle();
        sandbox.ThrottledPeriods = 7;
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(0, f.Pool.SortQuotaIdle());
        Assert.Null(sandbox.CpuIdle);
    }

    /// <summary>Timestamps the test moves (timers still run on the system clock).</summary>
    private sealed class ManualTime : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref _ticks);

        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
    }
}
