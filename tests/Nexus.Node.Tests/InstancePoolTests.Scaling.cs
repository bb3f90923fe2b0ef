// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Node.Pool;
using Nexus.Node.Transports;
using Nexus.Testing;

namespace Nexus.Node.Tests;

/// <summary>Scaling out, throttling and queueing, the node limit and idle instances: how many instances a function gets and when they go.</summary>
public sealed partial class InstancePoolTests
{
    [Fact]
    public async Task ConcurrentInvocationsScaleOut()
    {
        await using var f = new PoolFixture();
        var release = new TaskCompletionSource();
        var arrived = 0;
        f.Transports.Handler = async (inv, _, ct) =>
        {
            Interlocked.Increment(ref arrived);
            await release.Task.WaitAsync(ct);
            return new InvocationResult(inv.Payload.ToArray(), null);
        };
        var fn = PoolFixture.Function();
        var calls = Enumerable.Range(0, 3).Select(_ => f.InvokeAsync(fn)).ToArray();
        while (Volatile.Read(ref arrived) < 3)
        {
            await Task.Delay(10);
        }

        Assert.Equal(3, f.Driver.Started.Count);
        Assert.Equal(3, f.Pool.Status().Single().Busy);
        release.SetResult();
        var outcomes = await Task.WhenAll(calls);
        Assert.All(outcomes, o => Assert.True(o.ColdStart));
        Assert.Equal(3, outcomes.Select(o => o.InstanceId).Distinct().Count());
        Assert.Equal(3, f.Pool.Status().Single().Idle);
    }

    /// <summary>
    /// Lambda answers a synchronous Invoke over the function's concurrency at once with 429 (Reason
    /// ReservedFunctionConcurrentInvocationLimitExceeded) and boto3 and the AWS CLI retry it with backoff; before, the
    /// pool held it for up to the function's timeout (30 s here) and only then throttled it.
    /// </summary>
    [Fact]
    public async Task At_the_functions_limit_an_invocation_that_does_not_wait_is_throttled_at_once()
    {
        await using var f = new PoolFixture(new PoolOptions { MaxInstancesPerFunction = 1 });
        var (started, release) = f.HoldInvocations();
        var fn = PoolFixture.Function(timeoutSeconds: 30);
        var first = f.InvokeAsync(fn);
        await started;

        var second = f.InvokeAsync(fn);
        var e = await Assert.ThrowsAsync<ThrottledException>(() => second.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(ThrottledException.FunctionLimit, e.Reason);
        Assert.Contains("maxInstancesPerFunction", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, f.Pool.Waiting);
        release.SetResult();
        Assert.Equal("success", (await first).Outcome);
        Assert.Single(f.Driver.Started);
        Assert.Contains("nexus_invocations_total{function=\"f\",outcome=\"throttled\"} 1", f.Exporter.Scrape(), StringComparison.Ordinal);
    }

    /// <summary>At the node's limit, with no idle instance to evict, Lambda's account-level throttle: at once, Reason ConcurrentInvocationLimitExceeded.</summary>
    [Fact]
    public async Task At_the_nodes_limit_with_nothing_idle_an_invocation_that_does_not_wait_is_throttled_at_once()
    {
        await using var f = new PoolFixture(new PoolOptions { MaxInstancesPerNode = 1 });
        var (started, release) = f.HoldInvocations();
        var first = f.InvokeAsync(PoolFixture.Function("a", timeoutSeconds: 30));
        await started;

        var other = f.InvokeAsync(PoolFixture.Function("b", timeoutSeconds: 30));
        var e = await Assert.ThrowsAsync<ThrottledException>(() => other.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(ThrottledException.NodeLimit, e.Reason);
        Assert.Contains("maxInstancesPerNode", e.Message, StringComparison.Ordinal);
        release.SetResult();
        Assert.Equal("success", (await first).Outcome);
    }

    [Fact]
    public async Task BeyondTheFunctionLimitInvocationsThatWaitQueueAndReuseTheInstance()
    {
        await using var f = new PoolFixture(new PoolOptions { MaxInstancesPerFunction = 1 });
        var (started, release) = f.HoldInvocations();
        var fn = PoolFixture.Function();
        var first = f.InvokeAsync(fn);
        await started;
        var second = f.InvokeAsync(fn, waitsAtLimit: true);
        while (f.Pool.Waiting == 0)
        {
            await Task.Delay(10);
        }

        Assert.Equal(1, f.Pool.Status().Single().Waiting);
        release.SetResult();
        var (a, b) = (await first, await second);
        Assert.Single(f.Driver.Started);
        Assert.True(a.ColdStart);
        Assert.False(b.ColdStart);
        Assert.Equal(a.InstanceId, b.InstanceId);
    }

    [Fact]
    public async Task QueuedInvocationThatWaitsIsThrottledAfterItsTimeout()
    {
        await using var f = new PoolFixture(new PoolOptions { MaxInstancesPerFunction = 1 });
        var (started, release) = f.HoldInvocations();
        var slow = PoolFixture.Function(timeoutSeconds: 30);
        var first = f.InvokeAsync(slow);
        await started;
        var quick = PoolFixture.Function(timeoutSeconds: 1);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<ThrottledException>(() => f.InvokeAsync(quick, waitsAtLimit: true));
        Assert.True(waited.Elapsed >= TimeSpan.FromSeconds(0.9), $"throttled after {waited.Elapsed.TotalSeconds:0.00} s, before its 1 s timeout");
        Assert.Contains("concurrency limit", e.Message, StringComparison.Ordinal);
        Assert.Equal(ThrottledException.FunctionLimit, e.Reason);
        Assert.Equal(0, f.Pool.Waiting);
        release.SetResult();
        Assert.Equal("success", (await first).Outcome);
        Assert.Contains("nexus_invocations_total{function=\"f\",outcome=\"throttled\"} 1", f.Exporter.Scrape(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task NodeLimitEvictsTheIdleInstanceOfAnotherFunction()
    {
        await using var f = new PoolFixture(new PoolOptions { MaxInstancesPerNode = 1 });
        var a = await f.InvokeAsync(PoolFixture.Function("a"));
        var b = await f.InvokeAsync(PoolFixture.Function("b"));
        Assert.True(b.ColdStart);
        Assert.NotEqual(a.InstanceId, b.InstanceId);
        var status = f.Pool.Status();
        Assert.Equal("b", Assert.Single(status).Function);
        while (f.Driver.Running > 1)
        {
            await Task.Delay(10);
        }

        Assert.True(f.Driver.Started.First().Stopped);
    }

    [Fact]
    public async Task IdleInstancesAreReapedAfterKeepAliveOnly()
    {
        await using var f = new PoolFixture(new PoolOptions { KeepAlive = TimeSpan.FromMinutes(10) });
        await f.InvokeAsync(PoolFixture.Function());
        Assert.Equal(0, f.Pool.ReapIdle());
        Assert.Equal(1, f.Pool.Status().Single().Idle);

        await using var g = new PoolFixture(new PoolOptions { KeepAlive = TimeSpan.FromMilliseconds(100) });
        await g.InvokeAsync(PoolFixture.Function());
        await Task.Delay(300);
        g.Pool.ReapIdle();
        Assert.Empty(g.Pool.Status());
        while (g.Driver.Running > 0)
        {
            await Task.Delay(10);
        }

        Assert.True(Assert.Single(g.Driver.Started).Stopped);
        Assert.Contains("nexus_instance_stops_total{function=\"f\",reason=\"keep_alive\"} 1", g.Exporter.Scrape(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnInstanceIdleForTheReleaseTimeGivesItsTransportsMemoryBackOncePerIdleSpell()
    {
        await using var f = new PoolFixture(new PoolOptions { IdleMemoryRelease = TimeSpan.FromMilliseconds(50) });
        var fn = PoolFixture.Function();
        await f.InvokeAsync(fn);
        var transport = Assert.Single(f.Transports.Created);
        await Wait.ForAsync(() => transport.IdleReleases == 1, "the first idle release");

        // Still idle: the same spell is not released again, however many times the pool looks.
        await Task.Delay(300);
        Assert.Equal(1, transport.IdleReleases);

        // A busy instance is not released while it runs; its next idle spell is.
        var releasesWhileBusy = -1;
        f.Transports.Handler = async (invocation, t, ct) =>
        {
            await Task.Delay(300, ct);
            releasesWhileBusy = t.IdleReleases;
            return new InvocationResult(invocation.Payload.ToArray(), null);
        };
        await f.InvokeAsync(fn);
        Assert.Equal(1, releasesWhileBusy);
        await Wait.ForAsync(() => transport.IdleReleases == 2, "the release of the second idle spell");
    }

    [Fact]
    public async Task RetireStopsIdleInstancesAndNewRevisionGetsFreshOnes()
    {
        await using var f = new PoolFixture();
        var v1 = PoolFixture.Function(revision: "r1");
        var a = await f.InvokeAsync(v1);
        var v2 = PoolFixture.Function(revision: "r2");
        await f.Pool.RetireAsync("f", v2);
        Assert.True(f.Driver.Started.First().Stopped);
        var b = await f.InvokeAsync(v2);
        Assert.True(b.ColdStart);
        Assert.NotEqual(a.InstanceId, b.InstanceId);
    }

    // Found by an operator's review: an instance busy during a redeploy stopped after its call was logged as
    // "instance stopped (success)" and counted under reason="success" in /metrics.
    [Fact]
    public async Task An_instance_busy_during_a_redeploy_stops_as_retired_after_its_call()
    {
        await using var f = new PoolFixture();
        var (started, release) = f.HoldInvocations();
        var call = f.InvokeAsync(PoolFixture.Function(revision: "r1"));
        await started;
        var redeploy = f.Pool.RetireAsync("f", PoolFixture.Function(revision: "r2"));
        release.SetResult();
        Assert.Equal("success", (await call).Outcome);
        await redeploy.WaitAsync(TimeSpan.FromSeconds(30));
        await Wait.ForAsync(() => f.Exporter.Scrape().Contains("nexus_instance_stops_total{function=\"f\",reason=", StringComparison.Ordinal), "the old revision's instance to stop");

        Assert.Contains("nexus_instance_stops_total{function=\"f\",reason=\"retired\"} 1", f.Exporter.Scrape(), StringComparison.Ordinal);
        Assert.Contains(f.Logs.Tail("f", 100), line => line.EndsWith(" instance stopped (retired)", StringComparison.Ordinal));
    }

    /// <summary>
    /// A function removed just after a redeploy: the removal's retire completes only once the instance the redeploy is
    /// still stopping has stopped. The node closes the function's log when it completes; the stop writes "instance
    /// stopped" there, which opened the file again for good when the retire did not wait for it (bench soak found the
    /// removed functions' log files still open).
    /// </summary>
    [Fact]
    public async Task Removing_a_function_waits_for_the_instances_an_earlier_retire_is_still_stopping()
    {
        await using var f = new PoolFixture();
        await f.InvokeAsync(PoolFixture.Function(revision: "r1"));
        var teardown = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        f.Driver.StopGate = teardown.Task;

        var redeploy = f.Pool.RetireAsync("f", PoolFixture.Function(revision: "r2"));
        var removal = f.Pool.RetireAsync("f", null);

        var completedEarly = removal.IsCompleted;
        teardown.SetResult();
        Assert.False(completedEarly, "the removal completed while the redeploy's instance was still stopping");
        await removal.WaitAsync(TimeSpan.FromSeconds(30));
        await redeploy.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.All(f.Driver.Started, i => Assert.True(i.Stopped));
    }
}
