// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Collections.Concurrent;
using Nexus.Testing;

namespace Nexus.Node.Tests;

/// <summary>
/// The node's queue of asynchronous (Event) invocations: acknowledged events are spooled durably, replayed at the next
/// start, and run only once the queue is started. The node starts it after its API and the Lambda endpoint functions
/// invoke each other through are up; before, a replayed event whose handler invoked another function could run in the
/// instant before and fail with "no endpoint for lambda".
/// </summary>
public sealed class EventQueueTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nexus-events-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Spooled_events_are_replayed_in_order_with_their_trace_and_run_only_once_started()
    {
        // A node that acknowledged two events and stopped before running them.
        await using (var stopped = new EventQueue(_dir, 1, (_, _) => throw new InvalidOperationException("not started: runs nothing")))
        {
            await stopped.EnqueueAsync("f", """{"n":1}"""u8.ToArray(), "req-1", "Root=1-5759e988-bd862e3fe1be46a994272793", CancellationToken.None);
            await stopped.EnqueueAsync("f", """{"n":2}"""u8.ToArray(), "req-2", null, CancellationToken.None);
        }

        var ran = new ConcurrentQueue<QueuedEvent>();
        var both = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var queue = new EventQueue(_dir, 2, (queued, _) =>
        {
            // Two workers: both may see the count reach 2 (the order check below says whether anything ran twice).
            ran.Enqueue(queued);
            if (ran.Count == 2)
            {
                both.TrySetResult();
            }

            return Task.FromResult<EventRerun?>(null);
        });
        Assert.Equal(2, queue.Pending);
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        Assert.Empty(ran);

        queue.Start();
        await both.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(["req-1", "req-2"], ran.Select(e => e.RequestId).Order(StringComparer.Ordinal));
        Assert.Equal("Root=1-5759e988-bd862e3fe1be46a994272793", ran.Single(e => e.RequestId == "req-1").TraceId);
        Assert.Null(ran.Single(e => e.RequestId == "req-2").TraceId);
        Assert.Equal("""{"n":2}""", System.Text.Encoding.UTF8.GetString(ran.Single(e => e.RequestId == "req-2").Payload));
    }

    /// <summary>
    /// A run that asks for another attempt (a failed invocation, as Lambda retries one) has its event run again after
    /// the pause, with the attempt counted, while the event stays spooled and pending; the pause holds no worker (an
    /// event queued meanwhile runs on the queue's one worker before the retry); the event's file goes once a run ends it.
    /// </summary>
    [Fact]
    public async Task A_run_that_asks_again_is_run_again_after_its_pause_without_holding_a_worker()
    {
        var runs = new ConcurrentQueue<(string RequestId, int Attempt, bool Spooled)>();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var queue = new EventQueue(_dir, 1, (queued, _) =>
        {
            runs.Enqueue((queued.RequestId, queued.Attempt, File.Exists(queued.SpoolPath)));
            if (queued.RequestId == "failing" && queued.Attempt < 3)
            {
                return Task.FromResult<EventRerun?>(new EventRerun(TimeSpan.FromMilliseconds(queued.Attempt == 1 ? 1500 : 100)));
            }

            if (queued.RequestId == "failing")
            {
                done.SetResult();
            }

            return Task.FromResult<EventRerun?>(null);
        });
        queue.Start();
        await queue.EnqueueAsync("f", "{}"u8.ToArray(), "failing", null, CancellationToken.None);
        await Task.Delay(300);
        Assert.Equal(1, queue.Pending);
        Assert.Single(Directory.EnumerateFiles(_dir, "*.event"));
        await queue.EnqueueAsync("f", "{}"u8.ToArray(), "other", null, CancellationToken.None);

        await done.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal([("failing", 1, true), ("other", 1, true), ("failing", 2, true), ("failing", 3, true)], runs.ToArray());
        for (var waited = 0; queue.Pending > 0 && waited < 100; waited++)
        {
            await Task.Delay(50);
        }

        Assert.Equal(0, queue.Pending);
        Assert.Empty(Directory.EnumerateFiles(_dir, "*.event"));
    }

    /// <summary>
    /// A run that did not happen (no room, no sandbox) asks again without using one of the event's attempts: its
    /// deferrals count instead, and its next real run is still attempt 1 (so its function's eventRetries are whole).
    /// </summary>
    [Fact]
    public async Task A_run_that_could_not_happen_is_deferred_without_using_an_attempt()
    {
        var runs = new ConcurrentQueue<(int Attempt, int Deferrals)>();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var queue = new EventQueue(_dir, 1, (queued, _) =>
        {
            runs.Enqueue((queued.Attempt, queued.Deferrals));
            if (queued.Deferrals < 2)
            {
                return Task.FromResult<EventRerun?>(new EventRerun(TimeSpan.FromMilliseconds(50), DidNotRun: true));
            }

            if (queued.Attempt == 1)
            {
                return Task.FromResult<EventRerun?>(new EventRerun(TimeSpan.FromMilliseconds(50)));
            }

            done.SetResult();
            return Task.FromResult<EventRerun?>(null);
        });
        queue.Start();
        await queue.EnqueueAsync("f", "{}"u8.ToArray(), "deferred", null, CancellationToken.None);
        await done.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal([(1, 0), (1, 1), (1, 2), (2, 0), (2, 1), (2, 2)], runs.ToArray());
    }

    [Fact]
    public void A_deferred_event_backs_off_from_a_second_to_five_minutes_until_its_maximum_age()
    {
        var sixHours = TimeSpan.FromHours(6);
        Assert.Equal([1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300], Enumerable.Range(0, 11).Select(n => (int)EventDeferral.Next(n, TimeSpan.Zero, sixHours)!.Value.Pause.TotalSeconds));
        Assert.True(EventDeferral.Next(3, TimeSpan.Zero, sixHours)!.Value.DidNotRun);
        Assert.NotNull(EventDeferral.Next(20, sixHours - TimeSpan.FromMinutes(5), sixHours));
        Assert.Null(EventDeferral.Next(20, sixHours - TimeSpan.FromMinutes(4), sixHours));
        Assert.Null(EventDeferral.Next(0, sixHours, sixHours));
    }

    /// <summary>
    /// A stopping queue starts no more events: the rest stay spooled for the next start. ReadAllAsync goes on handing
    /// out what is queued after its token is cancelled, so `nexus down` ran the whole queue first (90 queued 3 s events
    /// outlasted its 120 s wait); without the check this ran all five.
    /// </summary>
    [Fact]
    public async Task A_stopping_queue_runs_no_more_events_and_leaves_them_spooled()
    {
        var runs = 0;
        var first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var queue = new EventQueue(_dir, 1, async (queued, _) =>
        {
            // As an invocation already under way: it ends on its own, whatever the stop.
            Interlocked.Increment(ref runs);
            first.TrySetResult();
            await Task.Delay(300);
            return null;
        });
        foreach (var n in Enumerable.Range(1, 5))
        {
            await queue.EnqueueAsync("f", "{}"u8.ToArray(), $"req-{n}", null, CancellationToken.None);
        }

        queue.Start();
        await first.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await queue.DisposeAsync();
        Assert.Equal(1, runs);
        Assert.Equal(4, Directory.EnumerateFiles(_dir, "*.event").Count());
    }

    /// <summary>
    /// A removed function's queued events are discarded, as Lambda discards a deleted function's: the spooled ones (so
    /// a restart does not run them against a function of that name deployed later) and those queued in memory (skipped,
    /// their file being gone); another function's, and one whose name only begins the same, still run.
    /// </summary>
    [Fact]
    public async Task Discarding_a_functions_events_drops_them_and_only_them()
    {
        var ran = new ConcurrentQueue<string>();
        await using var queue = new EventQueue(_dir, 1, (queued, _) =>
        {
            ran.Enqueue(queued.Function + "/" + queued.RequestId);
            return Task.FromResult<EventRerun?>(null);
        });
        await queue.EnqueueAsync("f", "{}"u8.ToArray(), "f-1", null, CancellationToken.None);
        await queue.EnqueueAsync("fo", "{}"u8.ToArray(), "fo-1", null, CancellationToken.None);
        await queue.EnqueueAsync("f", "{}"u8.ToArray(), "f-2", null, CancellationToken.None);
        await queue.EnqueueAsync("g", "{}"u8.ToArray(), "g-1", null, CancellationToken.None);

        Assert.Equal(2, queue.Discard("f"));
        Assert.Equal(2, Directory.EnumerateFiles(_dir, "*.event").Count());
        queue.Start();
        for (var waited = 0; queue.Pending > 0 && waited < 200; waited++)
        {
            await Task.Delay(50);
        }

        Assert.Equal(["fo/fo-1", "g/g-1"], ran.Order(StringComparer.Ordinal));
        Assert.Equal(0, queue.Pending);
    }

    /// <summary>
    /// The spool's limit: an event past it is refused and leaves nothing behind, the bytes of events that end (run or
    /// discarded) are taken off, a restart counts what it finds, and one that finds more than the limit runs it all.
    /// </summary>
    [Fact]
    public async Task An_event_past_the_spools_limit_is_refused_and_room_comes_back_as_events_end()
    {
        var payload = new byte[1000];
        const long Limit = 2500;
        await using (var stopped = new EventQueue(_dir, 1, (_, _) => throw new InvalidOperationException("not started"), Limit))
        {
            await stopped.EnqueueAsync("f", payload, "r1", null, CancellationToken.None);
            await stopped.EnqueueAsync("g", payload, "r2", null, CancellationToken.None);
            var refused = await Assert.ThrowsAsync<EventQueueFullException>(() => stopped.EnqueueAsync("f", payload, "r3", null, CancellationToken.None));
            Assert.Contains("event queue is full: 2 events", refused.Message, StringComparison.Ordinal);
            Assert.Equal(2, Directory.EnumerateFileSystemEntries(_dir).Count());
            Assert.Equal(Directory.EnumerateFiles(_dir).Sum(f => new FileInfo(f).Length), stopped.SpooledBytes);
            Assert.Equal(2, stopped.Pending);

            // A discarded function's event makes room.
            Assert.Equal(1, stopped.Discard("g"));
            await stopped.EnqueueAsync("f", payload, "r4", null, CancellationToken.None);
        }

        // A node started with a lower limit than the spool holds counts it, takes no more, and runs what it has.
        var ran = new ConcurrentQueue<string>();
        await using var queue = new EventQueue(_dir, 1, (queued, _) =>
        {
            ran.Enqueue(queued.RequestId);
            return Task.FromResult<EventRerun?>(null);
        }, 1500);
        Assert.Equal(Directory.EnumerateFiles(_dir).Sum(f => new FileInfo(f).Length), queue.SpooledBytes);
        await Assert.ThrowsAsync<EventQueueFullException>(() => queue.EnqueueAsync("f", payload, "r5", null, CancellationToken.None));
        queue.Start();
        for (var waited = 0; queue.Pending > 0 && waited < 200; waited++)
        {
            await Task.Delay(50);
        }

        Assert.Equal(["r1", "r4"], ran.Order(StringComparer.Ordinal));
        Assert.Equal(0, queue.SpooledBytes);
        await queue.EnqueueAsync("f", payload, "r6", null, CancellationToken.None);
    }

    /// <summary>
    /// Guards the spool's share per function (<c>EventQueue</c>'s maxFunctionBytes): a function whose events cannot run
    /// (deferred for as long as eventMaxAgeSeconds, 6 h) is refused past its share, so another function's event still
    /// finds room; without the share the deferred events filled the spool and the victim's was refused. A restart counts
    /// each function's share from what it finds.
    /// </summary>
    [Fact]
    public async Task A_function_whose_events_cannot_run_leaves_room_in_the_spool_for_another()
    {
        var payload = new byte[1000];
        var victimRan = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using (var queue = new EventQueue(_dir, 1, (queued, _) =>
        {
            if (queued.Function == "victim")
            {
                victimRan.TrySetResult();
                return Task.FromResult<EventRerun?>(null);
            }

            return Task.FromResult<EventRerun?>(new EventRerun(TimeSpan.FromMilliseconds(20), DidNotRun: true));
        }, 3000, 1500))
        {
            queue.Start();
            await queue.EnqueueAsync("hog", payload, "h1", null, CancellationToken.None);
            var refused = await Assert.ThrowsAsync<EventQueueFullException>(() => queue.EnqueueAsync("hog", payload, "h2", null, CancellationToken.None));
            Assert.Contains("'hog'", refused.Message, StringComparison.Ordinal);

            await queue.EnqueueAsync("victim", payload, "v1", null, CancellationToken.None);
            await victimRan.Task.WaitAsync(TimeSpan.FromSeconds(10));

            // The victim's run has returned; its worker ends it just after.
            for (var waited = 0; queue.Pending > 1 && waited < 100; waited++)
            {
                await Task.Delay(20);
            }

            Assert.Equal(1, queue.Pending);
        }

        await using var restarted = new EventQueue(_dir, 1, (_, _) => throw new InvalidOperationException("not started"), 3000, 1500);
        await Assert.ThrowsAsync<EventQueueFullException>(() => restarted.EnqueueAsync("hog", payload, "h3", null, CancellationToken.None));
        await restarted.EnqueueAsync("victim", payload, "v2", null, CancellationToken.None);
    }

    /// <summary>
    /// A disk that fills while an event is spooled: the caller gets the error, nothing of the event stays behind to run
    /// later, and its bytes are not counted (a real 64 KiB tmpfs, filled by the event itself).
    /// </summary>
    [Fact]
    public async Task An_event_the_disk_cannot_hold_fails_and_leaves_nothing()
    {
        using var disk = SmallTmpfs.Mount(Path.Combine(_dir, "small"), "64k");
        var mount = disk.Path;
        await using var queue = new EventQueue(mount, 1, (_, _) => Task.FromResult<EventRerun?>(null));
        var failure = await Assert.ThrowsAnyAsync<IOException>(() => queue.EnqueueAsync("f", new byte[256 * 1024], "big", null, CancellationToken.None));
        Assert.Contains("No space left on device", failure.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(mount));
        Assert.Equal(0, queue.SpooledBytes);
        Assert.Equal(0, queue.Pending);
        await queue.EnqueueAsync("f", new byte[1000], "small", null, CancellationToken.None);
        Assert.Single(Directory.EnumerateFiles(mount, "*.event"));
    }
}
