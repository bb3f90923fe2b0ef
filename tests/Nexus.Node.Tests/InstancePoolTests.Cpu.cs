// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text;
using Nexus.Node.Pool;
using Nexus.Node.Transports;

namespace Nexus.Node.Tests;

/// <summary>CPU: the share a function's memory buys, and the invoke budget that keeps one function from taking the invoke path.</summary>
public sealed partial class InstancePoolTests
{
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

    /// <summary>Timestamps that never move (timers still run on the system clock): no budget credit comes back.</summary>
    private sealed class FrozenTime : TimeProvider
    {
        public override long GetTimestamp() => 0;
    }
}
