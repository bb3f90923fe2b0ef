// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Channel;
using Nexus.Testing.Channel;

namespace Nexus.Backend.Tests;

/// <summary>
/// Guards the time-fair grant of the backend's global budget (<see cref="FairShareGate"/>, the least-used function's
/// oldest request gets a freed permit): a function flooding a real backend from many instances keeps a queue of its
/// requests waiting for the budget, and a victim's request arriving behind that queue is served next, not after it.
/// The per-function cap is set equal to the global budget here, so it is not what serves the victim. Evidence is a
/// count (the hog's requests finished while the victim's waited), not a time. With the grant made oldest-first instead
/// (the defence removed, once), 37 of the hog's requests finished while the victim's waited and this failed.
/// </summary>
public sealed class BackendTimeFairnessTests : IAsyncLifetime
{
    private const int HogInstances = 16;
    private const int RequestsPerHog = 8;
    private NodeUnderTest _node = null!;

    public async Task InitializeAsync()
    {
        _node = await NodeUnderTest.StartAsync(configure: o => o with { MaxConcurrentRequests = 2, MaxInFlightPerInstance = 2, MaxInFlightPerFunction = 2 });
        await _node.PutAsync("fn/quarter", new byte[256 << 10]);
        await _node.PutAsync("fn/small", "victim's input"u8.ToArray());
    }

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task A_victims_request_is_served_before_the_queue_of_a_function_flooding_the_backend()
    {
        // The hog: 16 instances, 8 GETs of 256 KiB each, streamed through 64 KiB slots it releases as it reads them, so
        // every GET holds a permit for several round trips to its sandbox. 32 of its GETs pass the instance caps at any
        // time; the 2 permits serve 2, the rest queue for the backend.
        var finished = 0;
        var hogs = new List<RawSandbox>();
        var readers = new List<Task>();
        for (var i = 0; i < HogInstances; i++)
        {
            var (channel, _) = _node.Attach(new ChannelOptions { RegionSize = 1 << 20, SlotSize = 64 << 10 }, NodeUnderTest.Manifest("hog"));
            var hog = new RawSandbox(channel);
            hogs.Add(hog);
            for (var r = 1; r <= RequestsPerHog; r++)
            {
                hog.SubmitRequest((ulong)r, ChannelOp.GetObject, """{"Bucket":"nexus-test","Key":"fn/quarter"}""");
            }

            readers.Add(ReadAllAsync(hog, RequestsPerHog, () => Interlocked.Increment(ref finished)));
        }

        while (Volatile.Read(ref finished) < HogInstances)
        {
            await Task.Delay(5);
        }

        var (victimChannel, _) = _node.Attach(manifest: NodeUnderTest.Manifest("victim"));
        using var victim = new RawSandbox(victimChannel);
        var before = Volatile.Read(ref finished);
        victim.SubmitRequest(1, ChannelOp.HeadObject, """{"Bucket":"nexus-test","Key":"fn/small"}""");
        var answer = await victim.NextCompletionAsync(TimeSpan.FromSeconds(30));
        var overtaken = Volatile.Read(ref finished) - before;

        Assert.True(answer is not null, "the victim's HEAD got no answer");
        Assert.Equal(200, answer.Value.Status);
        Assert.True(before < (HogInstances * RequestsPerHog) - 40, $"the hog had only {(HogInstances * RequestsPerHog) - before} GETs left when the victim asked: no queue to jump");

        // Served next means behind at most the 2 GETs holding the permits (plus a few that finish while this test polls).
        Assert.True(overtaken <= 8, $"{overtaken} of the hog's GETs finished while the victim's HEAD waited: it queued behind them");
        await Task.WhenAll(readers).WaitAsync(TimeSpan.FromSeconds(60));
        foreach (var hog in hogs)
        {
            hog.Dispose();
        }
    }

    // Reads every completion chunk, returns its slot at once, and counts each response whose last chunk arrived.
    private static async Task ReadAllAsync(RawSandbox sandbox, int responses, Action finishedOne)
    {
        for (var done = 0; done < responses;)
        {
            var record = await sandbox.NextCompletionAsync(TimeSpan.FromSeconds(60)) ?? throw new TimeoutException("a hog's GET got no answer");
            if (record.Slot != ChannelRecord.NoSlot)
            {
                sandbox.Release(record.Slot);
            }

            if ((record.Flags & ChannelFlags.More) == 0)
            {
                Assert.True(record.Status is 200 or 0, $"a hog GET answered {record.Status}");
                done++;
                finishedOne();
            }
        }
    }
}
