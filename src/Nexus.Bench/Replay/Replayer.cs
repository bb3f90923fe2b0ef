// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;

namespace Nexus.Bench.Replay;

/// <summary>What one invocation came to, as the target reports it.</summary>
public sealed record ReplayOutcome(bool Success, bool Cold, string Outcome, string? InstanceId);

/// <summary>Where the replayer sends invocations (a node in-process, or a fake in unit tests).</summary>
public interface IReplayTarget
{
    Task<ReplayOutcome> InvokeAsync(int function, CancellationToken cancellationToken);
}

/// <summary>One issued invocation: planned and real start (from the replay's start), latency, outcome.</summary>
public sealed record InvocationRecord(int Function, double PlannedMs, double StartMs, double LatencyMs, bool Success, bool Cold, string Outcome, string? InstanceId);

/// <summary>The replay's account: issued = completed + failed, every invocation recorded once.</summary>
public sealed record ReplayResult(int Planned, int Issued, int Completed, int Failed, double WallSeconds, IReadOnlyList<InvocationRecord> Records);

/// <summary>
/// Open-loop replay: each arrival is started at its planned time whether or not earlier calls have finished (they
/// run concurrently; a late arrival is issued immediately, never skipped). Bounded by the schedule (count and time)
/// and by a drain timeout for the calls still running at its end, which then count as failed
/// ("abandoned") and are cancelled.
/// </summary>
public static class Replayer
{
    public static async Task<ReplayResult> RunAsync(
        IReadOnlyList<Arrival> schedule, IReplayTarget target, TimeSpan drainTimeout,
        IProgress<(int Issued, int Done, int Planned)>? progress, CancellationToken cancellationToken)
    {
        using var abandon = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var records = new InvocationRecord?[schedule.Count];
        var running = new List<Task>(schedule.Count);
        var done = 0;
        var clock = Stopwatch.StartNew();
        var lastProgress = TimeSpan.Zero;
        for (var i = 0; i < schedule.Count; i++)
        {
            var wait = schedule[i].At - clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, cancellationToken);
            }

            var index = i;
            running.Add(Task.Run(
                async () =>
                {
                    records[index] = await InvokeOneAsync(schedule[index], target, clock, abandon.Token);
                    Interlocked.Increment(ref done);
                },
                CancellationToken.None));
            if (progress is not null && clock.Elapsed - lastProgress >= TimeSpan.FromSeconds(1))
            {
                lastProgress = clock.Elapsed;
                progress.Report((i + 1, Volatile.Read(ref done), schedule.Count));
            }
        }

        var all = Task.WhenAll(running);
        if (await Task.WhenAny(all, Task.Delay(drainTimeout, cancellationToken)) != all)
        {
            await abandon.CancelAsync();
            await all;
        }

        progress?.Report((schedule.Count, done, schedule.Count));
        var list = records.Select(r => r ?? throw new InvalidOperationException("an issued invocation has no record")).ToList();
        var completed = list.Count(r => r.Success);
        return new ReplayResult(schedule.Count, list.Count, completed, list.Count - completed, clock.Elapsed.TotalSeconds, list);
    }

    private static async Task<InvocationRecord> InvokeOneAsync(Arrival arrival, IReplayTarget target, Stopwatch clock, CancellationToken cancellationToken)
    {
        var start = clock.Elapsed;
        try
        {
            var outcome = await target.InvokeAsync(arrival.Function, cancellationToken);
            return new InvocationRecord(arrival.Function, arrival.At.TotalMilliseconds, start.TotalMilliseconds, (clock.Elapsed - start).TotalMilliseconds, outcome.Success, outcome.Cold, outcome.Outcome, outcome.InstanceId);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return new InvocationRecord(arrival.Function, arrival.At.TotalMilliseconds, start.TotalMilliseconds, (clock.Elapsed - start).TotalMilliseconds, false, false, "abandoned", null);
        }
        catch (Exception e)
        {
            // A failing call is an outcome to count, not a reason to stop the replay.
            return new InvocationRecord(arrival.Function, arrival.At.TotalMilliseconds, start.TotalMilliseconds, (clock.Elapsed - start).TotalMilliseconds, false, false, "error: " + e.GetType().Name + ": " + e.Message, null);
        }
    }
}
