// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Text;
using System.Text.Json;
using Nexus.Node.Pool;
using Nexus.Node.Transports;
using Nexus.Sandbox;

namespace Nexus.Node.Tests;

public sealed class InstancePoolTests
{
    private static string ErrorType(InvocationOutcome outcome)
    {
        using var doc = JsonDocument.Parse(outcome.Result.Payload);
        return doc.RootElement.GetProperty("errorType").GetString()!;
    }

    private static string ErrorMessage(InvocationOutcome outcome)
    {
        using var doc = JsonDocument.Parse(outcome.Result.Payload);
        return doc.RootElement.GetProperty("errorMessage").GetString()!;
    }

    [Fact]
    public async Task SequentialInvocationsReuseOneWarmInstance()
    {
        await using var f = new PoolFixture();
        var fn = PoolFixture.Function();
        var first = await f.InvokeAsync(fn, """{"a":1}""");
        var second = await f.InvokeAsync(fn, """{"a":2}""");

        Assert.True(first.ColdStart);
        Assert.False(second.ColdStart);
        Assert.Equal(first.InstanceId, second.InstanceId);
        Assert.Equal("""{"a":2}""", Encoding.UTF8.GetString(second.Result.Payload.Span));
        Assert.Single(f.Driver.Started);
        Assert.Equal("success", second.Outcome);
    }

    [Fact]
    public async Task PrefetchBeginsBeforeAColdSandboxStartsAndForEveryWarmInvocation()
    {
        await using var f = new PoolFixture();
        var fn = PoolFixture.Function();
        await f.InvokeAsync(fn, """{"a":1}""");
        await f.InvokeAsync(fn, """{"a":2}""");

        var transport = Assert.Single(f.Transports.Created);
        Assert.Equal([("""{"a":1}""", false), ("""{"a":2}""", true)], transport.Prefetches);
    }

    [Fact]
    public async Task StoppingIdleInstancesMakesTheNextInvocationCold()
    {
        await using var f = new PoolFixture();
        var fn = PoolFixture.Function();
        var first = await f.InvokeAsync(fn);
        await f.Pool.StopIdleAsync(fn.Name);
        var second = await f.InvokeAsync(fn);

        Assert.True(second.ColdStart);
        Assert.NotEqual(first.InstanceId, second.InstanceId);
        Assert.Equal(2, f.Driver.Started.Count);
    }

    [Fact]
    public async Task SpecCarriesTheContractEnvironmentAndLimits()
    {
        await using var f = new PoolFixture();
        var fn = PoolFixture.Function(memory: 256) with
        {
            Manifest = PoolFixture.Function().Manifest with { MemoryMb = 256, Cpus = 0.5, Environment = new Dictionary<string, string> { ["INPUT_KEY"] = "k" } },
        };
        await f.InvokeAsync(fn);
        var spec = Assert.Single(f.Driver.Started).Spec;
        Assert.Equal(["python3", "-m", "nexus_runtime"], spec.Command);
        Assert.Equal("/var/task", spec.WorkingDirectory);
        Assert.Equal("/var/task", spec.ReadOnlyMounts["/code/f"]);
        Assert.Equal("/rootfs", spec.RootfsPath);
        Assert.Equal(256, spec.MemoryMb);

        // The init runs on a full CPU; the manifest's cpus apply once it is over.
        Assert.Equal(1.0, spec.Cpus);
        Assert.Equal(0.5, f.Driver.Started.Single().CpuLimit);
        Assert.Equal("/opt/nexus/runtime", spec.Environment["PYTHONPATH"]);
        Assert.Equal("baseline", spec.Environment["NEXUS_IO"]);
        Assert.Equal("handler.handler", spec.Environment["_HANDLER"]);
        Assert.Equal("f-r1", spec.TemplateKey);
        Assert.Contains("AWS_LAMBDA_LOG_STREAM_NAME", spec.InstanceVariables);
        Assert.Contains("FAKE_TRANSPORT", spec.InstanceVariables);
        Assert.Equal("/var/task", spec.Environment["LAMBDA_TASK_ROOT"]);
        Assert.Equal("f", spec.Environment["AWS_LAMBDA_FUNCTION_NAME"]);
        Assert.Equal("256", spec.Environment["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]);
        Assert.Equal("$LATEST", spec.Environment["AWS_LAMBDA_FUNCTION_VERSION"]);
        Assert.Equal("us-east-1", spec.Environment["AWS_REGION"]);
        Assert.Equal("us-east-1", spec.Environment["AWS_DEFAULT_REGION"]);
        Assert.Equal("k", spec.Environment["INPUT_KEY"]);
        Assert.Equal("1", spec.Environment["FAKE_TRANSPORT"]);
    }

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

    [Fact]
    public async Task BeyondTheFunctionLimitInvocationsQueueAndReuseTheInstance()
    {
        await using var f = new PoolFixture(new PoolOptions { MaxInstancesPerFunction = 1 });
        var release = new TaskCompletionSource();
        var gate = new SemaphoreSlim(0);
        f.Transports.Handler = async (inv, _, ct) =>
        {
            gate.Release();
            await release.Task.WaitAsync(ct);
            return new InvocationResult(inv.Payload.ToArray(), null);
        };
        var fn = PoolFixture.Function();
        var first = f.InvokeAsync(fn);
        await gate.WaitAsync();
        var second = f.InvokeAsync(fn);
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
    public async Task QueuedInvocationIsThrottledAfterItsTimeout()
    {
        await using var f = new PoolFixture(new PoolOptions { MaxInstancesPerFunction = 1 });
        var release = new TaskCompletionSource();
        var started = new TaskCompletionSource();
        f.Transports.Handler = async (inv, _, ct) =>
        {
            started.TrySetResult();
            await release.Task.WaitAsync(ct);
            return new InvocationResult(inv.Payload.ToArray(), null);
        };
        var slow = PoolFixture.Function(timeoutSeconds: 30);
        var first = f.InvokeAsync(slow);
        await started.Task;
        var quick = PoolFixture.Function(timeoutSeconds: 1);
        var e = await Assert.ThrowsAsync<ThrottledException>(() => f.InvokeAsync(quick));
        Assert.Contains("concurrency limit", e.Message, StringComparison.Ordinal);
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
    public async Task TimeoutKillsTheInstanceAndTheNextCallGetsAFreshOne()
    {
        await using var f = new PoolFixture();
        var hang = true;
        f.Transports.Handler = async (inv, _, ct) =>
        {
            if (hang)
            {
                await Task.Delay(Timeout.Infinite, ct);
            }

            return new InvocationResult(inv.Payload.ToArray(), null);
        };
        var fn = PoolFixture.Function(timeoutSeconds: 1);
        var timedOut = await f.InvokeAsync(fn);
        Assert.Equal("timeout", timedOut.Outcome);
        Assert.Equal("Sandbox.Timedout", ErrorType(timedOut));
        Assert.EndsWith("Task timed out after 1.00 seconds", ErrorMessage(timedOut), StringComparison.Ordinal);
        Assert.True(timedOut.Result.IsError);

        hang = false;
        var next = await f.InvokeAsync(fn);
        Assert.Equal("success", next.Outcome);
        Assert.True(next.ColdStart);
        Assert.NotEqual(timedOut.InstanceId, next.InstanceId);

        // The pool stops a failed instance in the background (BeginStop), so the next call may finish first.
        var killed = f.Driver.Started.First();
        for (var i = 0; i < 400 && !killed.Stopped; i++)
        {
            await Task.Delay(25);
        }

        Assert.True(killed.Stopped);
    }

    /// <summary>
    /// An instance's time limit is one timer re-armed per invocation (InvocationDeadline): each invocation gets the whole
    /// of its timeout, however long the one before it ran, an instance that met its limits stays warm, and one that
    /// overruns is stopped at its limit, not before. With Begin not arming the timer once, the last invocation ran its
    /// 1.5 s to success and this failed.
    /// </summary>
    [Fact]
    public async Task Each_invocation_on_a_warm_instance_gets_its_whole_timeout()
    {
        await using var f = new PoolFixture();
        f.Transports.Handler = async (inv, _, _) =>
        {
            await Task.Delay(int.Parse(System.Text.Encoding.UTF8.GetString(inv.Payload.Span), CultureInfo.InvariantCulture));
            return new InvocationResult("{}"u8.ToArray(), null);
        };
        var fn = PoolFixture.Function(timeoutSeconds: 1);
        var first = await f.InvokeAsync(fn, "600");
        Assert.Equal("success", first.Outcome);
        var second = await f.InvokeAsync(fn, "10");
        var third = await f.InvokeAsync(fn, "700");
        Assert.Equal(("success", "success"), (second.Outcome, third.Outcome));
        Assert.Equal(first.InstanceId, third.InstanceId);
        var late = await f.InvokeAsync(fn, "1500");
        Assert.Equal("timeout", late.Outcome);
        Assert.True(late.Duration >= TimeSpan.FromSeconds(1), $"timed out after {late.Duration}");
    }

    [Fact]
    public async Task OutOfMemoryIsReportedAndTheInstanceReplaced()
    {
        await using var f = new PoolFixture();
        var oom = true;
        f.Transports.Handler = async (inv, t, ct) =>
        {
            if (oom)
            {
                t.Instance!.Exit(new SandboxExit(null, 9, OutOfMemory: true));
                await Task.Delay(Timeout.Infinite, ct);
            }

            return new InvocationResult(inv.Payload.ToArray(), null);
        };
        var fn = PoolFixture.Function();
        var failed = await f.InvokeAsync(fn);
        Assert.Equal("oom", failed.Outcome);
        Assert.Equal("Runtime.OutOfMemory", ErrorType(failed));
        Assert.Contains("signal: killed", ErrorMessage(failed), StringComparison.Ordinal);

        oom = false;
        var next = await f.InvokeAsync(fn);
        Assert.Equal("success", next.Outcome);
        Assert.NotEqual(failed.InstanceId, next.InstanceId);
    }

    [Fact]
    public async Task AnInstanceThatDiesMidInvocationFailsItAndNeverTakesAnother()
    {
        await using var f = new PoolFixture();
        var die = true;
        f.Transports.Handler = async (inv, t, ct) =>
        {
            if (die)
            {
                t.Instance!.Exit(new SandboxExit(1, null, false));
                await Task.Delay(Timeout.Infinite, ct);
            }

            return new InvocationResult(inv.Payload.ToArray(), null);
        };
        var fn = PoolFixture.Function();
        var failed = await f.InvokeAsync(fn);
        Assert.Equal("crashed", failed.Outcome);
        Assert.Equal("Runtime.ExitError", ErrorType(failed));
        Assert.Contains("exit status 1", ErrorMessage(failed), StringComparison.Ordinal);
        die = false;
        var next = await f.InvokeAsync(fn);
        Assert.NotEqual(failed.InstanceId, next.InstanceId);
        Assert.Equal(2, f.Driver.Started.Count);
    }

    /// <summary>
    /// Guards the restart backoff (PoolOptions.RestartBackoff): a function whose instances keep failing waits longer and
    /// longer before each new one starts, and one normal invocation clears it. With the wait removed once, the third start
    /// came at once and this failed.
    /// </summary>
    [Fact]
    public async Task AFunctionWhoseInstancesKeepFailingRestartsWithAGrowingBackoff()
    {
        await using var f = new PoolFixture(new PoolOptions { RestartBackoff = TimeSpan.FromMilliseconds(200), MaxRestartBackoff = TimeSpan.FromMilliseconds(400) });
        var die = true;
        f.Transports.Handler = async (inv, t, ct) =>
        {
            if (die)
            {
                t.Instance!.Exit(new SandboxExit(1, null, false));
                await Task.Delay(Timeout.Infinite, ct);
            }

            return new InvocationResult(inv.Payload.ToArray(), null);
        };
        var fn = PoolFixture.Function();
        await f.InvokeAsync(fn);
        Assert.Equal(TimeSpan.Zero, f.Pool.RestartDelay("f"));
        await f.InvokeAsync(fn);
        Assert.Equal(TimeSpan.FromMilliseconds(200), f.Pool.RestartDelay("f"));

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var third = await f.InvokeAsync(fn);

        // A lower bound only: the wait is never shorter than asked, however busy the machine.
        Assert.True(System.Diagnostics.Stopwatch.GetElapsedTime(started) >= TimeSpan.FromMilliseconds(190), "the third instance started without waiting");
        Assert.Equal("crashed", third.Outcome);
        Assert.Equal(TimeSpan.FromMilliseconds(400), f.Pool.RestartDelay("f"));
        await f.InvokeAsync(fn);
        Assert.Equal(TimeSpan.FromMilliseconds(400), f.Pool.RestartDelay("f"));
        Assert.Equal(4, f.Driver.Started.Count);

        die = false;
        Assert.Equal("success", (await f.InvokeAsync(fn)).Outcome);
        Assert.Equal(TimeSpan.Zero, f.Pool.RestartDelay("f"));
    }

    /// <summary>
    /// The CPU follows the memory when the manifest names none (1,769 MB per CPU by default, the node's option): the
    /// init on a full CPU, then the share. A function that buys more than one CPU has it from the start.
    /// </summary>
    [Theory]
    [InlineData(256, 1769, 1.0, 256 / 1769.0)]
    [InlineData(128, 1024, 1.0, 0.125)]
    [InlineData(3538, 1769, 2.0, null)]
    [InlineData(256, 0, 1.0, null)]
    public async Task An_instance_without_cpus_gets_the_share_its_memory_buys_after_its_init(int memoryMb, int mbPerCpu, double initCpus, double? limit)
    {
        await using var f = new PoolFixture(new PoolOptions { MemoryMbPerCpu = mbPerCpu });
        await f.InvokeAsync(PoolFixture.Function(memory: memoryMb));
        var instance = Assert.Single(f.Driver.Started);
        Assert.Equal(initCpus, instance.Spec.Cpus, 6);
        Assert.Equal(limit, instance.CpuLimit);
    }

    /// <summary>
    /// Guards the invoke budget (InvokeBudget): while another function has an invocation in flight, a function that used
    /// more of the node's CPU on the invoke path than its share (128 MB: 0.072 CPU, a burst of 7.2 ms) waits; alone it
    /// is never held back. Time stands still here, so no credit comes back and the wait lasts exactly as long as the other
    /// function is present. With the wait removed once (EnterAsync returning at once) the hog's invocation completed
    /// while the other function ran, and this failed.
    /// </summary>
    [Fact]
    public async Task A_function_that_burned_the_invoke_path_waits_while_another_function_runs()
    {
        await using var f = new PoolFixture(time: new FrozenTime());
        var hog = PoolFixture.Function("hog");
        var other = PoolFixture.Function("other");
        var hold = new TaskCompletionSource<InvocationResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        f.Transports.Handler = (inv, _, _) =>
        {
            if (Encoding.UTF8.GetString(inv.Payload.Span) == "\"hold\"")
            {
                return hold.Task;
            }

            // 20 ms of CPU on the invoking thread: the invoke path's own work, charged to the hog.
            var until = Nexus.Interop.PreciseClock.ThreadCpuNs() + 20_000_000;
            while (Nexus.Interop.PreciseClock.ThreadCpuNs() < until)
            {
            }

            return Task.FromResult(new InvocationResult(inv.Payload.ToArray(), null));
        };

        // A cold start is not charged; the warm invocations are, 40 ms against a 7.2 ms burst: the hog is in debt, yet
        // alone it runs.
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal("success", (await f.InvokeAsync(hog).WaitAsync(TimeSpan.FromSeconds(10))).Outcome);
        }

        var held = f.InvokeAsync(other, "\"hold\"");
        while (f.Pool.Status().FirstOrDefault(s => s.Function == "other") is not { Busy: 1 })
        {
            await Task.Delay(5);
        }

        var next = f.InvokeAsync(hog);
        await Task.Delay(300);
        Assert.False(next.IsCompleted, "the hog in debt ran while another function was in flight");

        hold.SetResult(new InvocationResult("{}"u8.ToArray(), null));
        Assert.Equal("success", (await held).Outcome);
        Assert.Equal("success", (await next.WaitAsync(TimeSpan.FromSeconds(10))).Outcome);
    }

    /// <summary>
    /// Guards the least charge per invocation (PoolOptions.MinInvocationCharge, 1 ms): invocations that cost the node
    /// little in their own flow still pay for the work around it, so a function re-sending an invocation that fails at
    /// once runs out of its budget (128 MB: a 7.2 ms burst) after a few and waits while another function is in flight.
    /// With the least charge removed once (each charged only its metered microseconds) the ninth invocation ran at once
    /// and this failed.
    /// </summary>
    [Fact]
    public async Task A_function_resending_cheap_failures_runs_out_of_its_invoke_budget()
    {
        await using var f = new PoolFixture(time: new FrozenTime());
        var flood = PoolFixture.Function("flood");
        var other = PoolFixture.Function("other");
        var hold = new TaskCompletionSource<InvocationResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        f.Transports.Handler = (inv, _, _) => Encoding.UTF8.GetString(inv.Payload.Span) == "\"hold\""
            ? hold.Task
            : Task.FromResult(InvocationResult.Error("RuntimeError", "fail-fast"));

        // The invoke path's code compiled first, by another function: its JIT time is no part of what the flood is charged.
        for (var i = 0; i < 3; i++)
        {
            await f.InvokeAsync(PoolFixture.Function("warm-up"));
        }

        // Alone, 8 invocations of at least 1 ms each (the first one's cold start itself is not charged): 8 ms against
        // the 7.2 ms burst, and none waits.
        for (var i = 0; i < 8; i++)
        {
            Assert.Equal("error", (await f.InvokeAsync(flood).WaitAsync(TimeSpan.FromSeconds(10))).Outcome);
        }

        var held = f.InvokeAsync(other, "\"hold\"");
        while (f.Pool.Status().FirstOrDefault(s => s.Function == "other") is not { Busy: 1 })
        {
            await Task.Delay(5);
        }

        var next = f.InvokeAsync(flood);
        await Task.Delay(300);
        Assert.False(next.IsCompleted, "the flood ran past its invoke budget while another function was in flight");

        hold.SetResult(new InvocationResult("{}"u8.ToArray(), null));
        await held;
        Assert.Equal("error", (await next.WaitAsync(TimeSpan.FromSeconds(10))).Outcome);
    }

    [Fact]
    public async Task AnIdleInstanceThatDiesIsDropped()
    {
        await using var f = new PoolFixture();
        var fn = PoolFixture.Function();
        var first = await f.InvokeAsync(fn);
        f.Driver.Started.First().Exit(new SandboxExit(0, null, false));
        while (f.Pool.Status().Count > 0)
        {
            await Task.Delay(10);
        }

        var second = await f.InvokeAsync(fn);
        Assert.True(second.ColdStart);
        Assert.NotEqual(first.InstanceId, second.InstanceId);
    }

    [Fact]
    public async Task InitErrorIsReturnedAsTheFunctionError()
    {
        await using var f = new PoolFixture();
        f.Transports.ReadyOnAttach = false;
        f.Transports.OnAttach = t =>
        {
            t.InitError = InvocationResult.Error("Runtime.ImportModuleError", "Unable to import module 'handler': No module named 'nope'");
            t.Instance!.Exit(new SandboxExit(1, null, false));
        };
        var outcome = await f.InvokeAsync(PoolFixture.Function());
        Assert.Equal("init_error", outcome.Outcome);
        Assert.Equal("Runtime.ImportModuleError", ErrorType(outcome));
        Assert.Empty(f.Pool.Status());
    }

    [Fact]
    public async Task HandlerErrorKeepsTheInstance()
    {
        await using var f = new PoolFixture();
        f.Transports.Handler = (_, _, _) => Task.FromResult(InvocationResult.Error("ValueError", "bad input"));
        var fn = PoolFixture.Function();
        var a = await f.InvokeAsync(fn);
        var b = await f.InvokeAsync(fn);
        Assert.Equal("error", a.Outcome);
        Assert.True(a.Result.IsError);
        Assert.Equal(a.InstanceId, b.InstanceId);
    }

    [Fact]
    public async Task StartFailureThrowsAndFreesTheSlot()
    {
        await using var f = new PoolFixture(new PoolOptions { MaxInstancesPerFunction = 1 });
        f.Driver.FailStart = new IOException("runc: boom");
        var e = await Assert.ThrowsAsync<SandboxStartException>(() => f.InvokeAsync(PoolFixture.Function()));
        Assert.Contains("runc: boom", e.Message, StringComparison.Ordinal);
        f.Driver.FailStart = null;
        Assert.Equal("success", (await f.InvokeAsync(PoolFixture.Function())).Outcome);
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

    [Fact]
    public async Task LogTailHoldsStartEndReportAndHandlerOutput()
    {
        await using var f = new PoolFixture();
        f.Transports.Handler = (inv, t, _) =>
        {
            t.Instance!.Spec.OnOutput!("hello from the handler", false);
            return Task.FromResult(new InvocationResult(inv.Payload.ToArray(), null));
        };
        var outcome = await f.InvokeAsync(PoolFixture.Function());
        var tail = Encoding.UTF8.GetString(outcome.LogTail);
        Assert.Contains("START RequestId:", tail, StringComparison.Ordinal);
        Assert.Contains("hello from the handler", tail, StringComparison.Ordinal);
        Assert.Contains("END RequestId:", tail, StringComparison.Ordinal);
        Assert.Contains("REPORT RequestId:", tail, StringComparison.Ordinal);
        Assert.Contains("Init Duration:", tail, StringComparison.Ordinal);
        Assert.Contains("Memory Size: 128 MB", tail, StringComparison.Ordinal);
        var log = string.Join("\n", f.Logs.Tail("f", 100));
        Assert.Contains("hello from the handler", log, StringComparison.Ordinal);
        Assert.Contains(outcome.InstanceId, log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DisposeStopsEveryInstanceIncludingBusyOnes()
    {
        var f = new PoolFixture();
        var started = new TaskCompletionSource();
        await f.InvokeAsync(PoolFixture.Function("idle"));
        f.Transports.Handler = async (_, _, ct) =>
        {
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
            throw new InvalidOperationException("unreachable");
        };
        var busy = f.InvokeAsync(PoolFixture.Function("busy"));
        await started.Task;
        await f.DisposeAsync();
        Assert.All(f.Driver.Started, i => Assert.True(i.Stopped));
        Assert.All(f.Transports.Created, t => Assert.True(t.Disposed));
        Assert.Equal("crashed", (await busy).Outcome);
    }

    /// <summary>Timestamps that never move (timers still run on the system clock): no budget credit comes back.</summary>
    private sealed class FrozenTime : TimeProvider
    {
        public override long GetTimestamp() => 0;
    }
}
