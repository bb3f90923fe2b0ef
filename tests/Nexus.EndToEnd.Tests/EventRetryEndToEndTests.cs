// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Node;
using Nexus.Node.Transports;
using Nexus.Testing;

namespace Nexus.EndToEnd.Tests;

/// <summary>Failed Event (asynchronous) invocations run again, as Lambda retries them, on a real node with runc.</summary>
public sealed class EventRetryEndToEndTests
{
    /// <summary>
    /// A function that fails every time, invoked as an Event: run 1 + <c>eventRetries</c> times (Lambda's
    /// MaximumRetryAttempts: 2 by default, 1 here for one of them), each attempt logged with what comes next. They ran
    /// once before (found by a new user's test, 2026-12-06). The pauses are the node's (Lambda's 1 and 2 minutes), made
    /// short here.
    /// </summary>
    [RootFact]
    public async Task A_failing_event_runs_again_as_many_times_as_its_function_allows()
    {
        var home = Directory.CreateTempSubdirectory("nexus-e2e-retry-").FullName;
        try
        {
            var options = NodeFixture.Options(home) with { EventRetryDelays = [TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(300)] };
            await using var node = await NexusNode.StartAsync(options);
            await DeployAsync(node, "ev-default", "");
            await DeployAsync(node, "ev-once", "eventRetries: 1\n");
            foreach (var name in new[] { "ev-default", "ev-once" })
            {
                Assert.True(node.TryGetFunction(name, out var function));
                await node.EnqueueEventAsync(function, "{}"u8.ToArray(), new InvocationRequest("req-" + name, null), CancellationToken.None);
            }

            var always = await NodeFixture.ReadLogUntilAsync(Path.Combine(home, "logs", "ev-default.log"), "(attempt 3 of 3)");
            var once = await NodeFixture.ReadLogUntilAsync(Path.Combine(home, "logs", "ev-once.log"), "(attempt 2 of 2)");
            Assert.Equal(3, always.Count(l => l.Contains("START RequestId: req-ev-default", StringComparison.Ordinal)));
            Assert.Equal(2, always.Count(l => l.Contains("runs again in 0.3 s", StringComparison.Ordinal)));
            Assert.Contains(always, l => l.EndsWith("event invocation finished: error (attempt 3 of 3)", StringComparison.Ordinal));
            Assert.Equal(2, once.Count(l => l.Contains("START RequestId: req-ev-once", StringComparison.Ordinal)));
            Assert.Contains(once, l => l.EndsWith("event invocation finished: error (attempt 2 of 2)", StringComparison.Ordinal));
            Assert.Empty(Directory.EnumerateFiles(options.EventsDirectory, "*.event"));
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    /// <summary>
    /// An Event whose function finds no room (the node's one instance busy for longer than the event may wait) is
    /// deferred with back-off and runs once there is room, instead of being dropped after three tries in ~3 s though its
    /// 202 had been sent (Lambda retries such an event for up to 6 hours).
    /// </summary>
    [RootFact]
    public async Task An_event_that_finds_no_room_runs_once_there_is_room_instead_of_being_dropped()
    {
        var home = Directory.CreateTempSubdirectory("nexus-e2e-defer-").FullName;
        try
        {
            var options = NodeFixture.Options(home) with { MaxInstancesPerNode = 1 };
            await using var node = await NexusNode.StartAsync(options);
            var hog = await NodeFixture.DeployAsync(node, "name: ev-hog\nhandler: handler.handler\ntimeout: 30\n", "import time\ndef handler(event, context):\n    time.sleep(12)\n    return 'done'\n");
            var later = await NodeFixture.DeployAsync(node, "name: ev-later\nhandler: handler.handler\ntimeout: 2\n", "def handler(event, context):\n    return 'ran'\n");
            var busy = node.InvokeAsync(hog, "{}"u8.ToArray(), "hog", CancellationToken.None);
            await NodeFixture.ReadLogUntilAsync(Path.Combine(home, "logs", "ev-hog.log"), "START RequestId: hog");
            await node.EnqueueEventAsync(later, "{}"u8.ToArray(), new InvocationRequest("req-later", null), CancellationToken.None);

            var log = await NodeFixture.ReadLogUntilAsync(Path.Combine(home, "logs", "ev-later.log"), "event invocation finished: success");
            Assert.Contains(log, l => l.Contains("event invocation finished: success", StringComparison.Ordinal));
            Assert.Contains(log, l => l.Contains("event invocation could not run:", StringComparison.Ordinal) && l.Contains("runs again in", StringComparison.Ordinal));
            Assert.DoesNotContain(log, l => l.Contains("dropped", StringComparison.Ordinal));
            Assert.Equal("success", (await busy).Outcome);
            Assert.Empty(Directory.EnumerateFiles(options.EventsDirectory, "*.event"));
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    /// <summary>
    /// Guards the event queue's short wait at a concurrency limit (<c>NexusNode.EventWaitAtLimit</c>): with one event
    /// worker, an event of a function at its limit (one instance, busy for 8 s) waits a moment and is deferred, so
    /// another function's event queued behind it runs while the first function is still busy. Before, the worker waited
    /// up to the busy function's 30 s timeout and every other function's events queued behind it (a security review).
    /// </summary>
    [RootFact]
    public async Task An_event_of_a_function_at_its_limit_does_not_hold_up_another_functions_event()
    {
        var home = Directory.CreateTempSubdirectory("nexus-e2e-evfair-").FullName;
        try
        {
            var options = NodeFixture.Options(home) with { MaxInstancesPerFunction = 1, EventWorkers = 1 };
            await using var node = await NexusNode.StartAsync(options);
            var hog = await NodeFixture.DeployAsync(node, "name: ev-busy\nhandler: handler.handler\ntimeout: 30\n", "import time\ndef handler(event, context):\n    time.sleep(8)\n    return 'done'\n");
            var other = await NodeFixture.DeployAsync(node, "name: ev-other\nhandler: handler.handler\ntimeout: 30\n", "def handler(event, context):\n    return 'ran'\n");
            var busy = node.InvokeAsync(hog, "{}"u8.ToArray(), "busy", CancellationToken.None);
            await NodeFixture.ReadLogUntilAsync(Path.Combine(home, "logs", "ev-busy.log"), "START RequestId: busy");
            await node.EnqueueEventAsync(hog, "{}"u8.ToArray(), new InvocationRequest("req-busy-2", null), CancellationToken.None);
            await node.EnqueueEventAsync(other, "{}"u8.ToArray(), new InvocationRequest("req-other", null), CancellationToken.None);

            await NodeFixture.ReadLogUntilAsync(Path.Combine(home, "logs", "ev-other.log"), "event invocation finished: success");
            Assert.False(busy.IsCompleted, "the other function's event ran only after the busy function's call ended");
            Assert.Equal("success", (await busy).Outcome);

            // The deferred event still runs once its function has room.
            await NodeFixture.ReadLogUntilAsync(Path.Combine(home, "logs", "ev-busy.log"), "event invocation finished: success");
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    private static Task DeployAsync(NexusNode node, string name, string extra) =>
        NodeFixture.DeployAsync(node, $"name: {name}\nhandler: handler.handler\n{extra}", "def handler(event, context):\n    raise ValueError('always fails')\n");
}
