// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Backend.Tests;

/// <summary>
/// The backend's request budgets (<see cref="FairShareGate"/>) on a clock the test moves: who gets a freed permit, the
/// per-function cap, cancellation, and the decay of the backend time charged to a function.
/// </summary>
public sealed class FairShareGateTests
{
    [Fact]
    public async Task A_freed_permit_goes_to_the_function_that_used_least_not_to_the_oldest_waiter()
    {
        var time = new ManualTime();
        var gate = new FairShareGate(permits: 2, perFunction: 2, TimeSpan.FromSeconds(5), time);
        var hog1 = await gate.EnterAsync("hog", default);
        var hog2 = await gate.EnterAsync("hog", default);
        time.Advance(TimeSpan.FromSeconds(1));
        var hog3 = gate.EnterAsync("hog", default).AsTask();
        var victim = gate.EnterAsync("victim", default).AsTask();

        hog1.Dispose();

        // The victim used no backend time: the permit is its, although the hog's request waited longer.
        var victimLease = await victim.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(hog3.IsCompleted);
        hog2.Dispose();
        var hog3Lease = await hog3.WaitAsync(TimeSpan.FromSeconds(10));
        victimLease.Dispose();
        hog3Lease.Dispose();
        Assert.Equal(0, gate.InUse);
    }

    [Fact]
    public async Task A_function_at_its_cap_waits_while_permits_are_free_for_others()
    {
        var gate = new FairShareGate(permits: 4, perFunction: 2, TimeSpan.FromSeconds(5), new ManualTime());
        var first = await gate.EnterAsync("hog", default);
        using var second = await gate.EnterAsync("hog", default);
        var third = gate.EnterAsync("hog", default).AsTask();

        var other = gate.EnterAsync("victim", default).AsTask();

        Assert.False(third.IsCompleted);
        Assert.True(other.IsCompletedSuccessfully);
        first.Dispose();
        (await third.WaitAsync(TimeSpan.FromSeconds(10))).Dispose();
        (await other).Dispose();
    }

    [Fact]
    public async Task A_cancelled_wait_leaves_the_queue_and_takes_no_permit()
    {
        var gate = new FairShareGate(permits: 1, perFunction: 1, TimeSpan.FromSeconds(5), new ManualTime());
        var held = await gate.EnterAsync("a", default);
        using var cancel = new CancellationTokenSource();
        var waiting = gate.EnterAsync("b", cancel.Token).AsTask();
        Assert.Equal(1, gate.Waiting);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.Equal(0, gate.Waiting);
        held.Dispose();
        Assert.Equal(0, gate.InUse);
        (await gate.EnterAsync("b", default)).Dispose();
    }

    [Fact]
    public async Task Backend_time_is_charged_to_the_function_and_halves_every_half_life()
    {
        var time = new ManualTime();
        var gate = new FairShareGate(permits: 1, perFunction: 1, TimeSpan.FromSeconds(5), time);
        var lease = await gate.EnterAsync("f", default);
        time.Advance(TimeSpan.FromSeconds(2));
        lease.Dispose();
        Assert.Equal(2.0, gate.UsedSeconds("f"), 6);

        time.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal(1.0, gate.UsedSeconds("f"), 6);
        Assert.Equal(0.0, gate.UsedSeconds("never-ran"));
    }

    private sealed class ManualTime : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => 1_000_000;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += (long)(by.TotalSeconds * TimestampFrequency);
    }
}
