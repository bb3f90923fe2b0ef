// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Channel;
using Nexus.Testing.Channel;

namespace Nexus.Backend.Tests;

/// <summary>
/// Attacks on the caps of one instance's requests (docs/threat-model.md, "Flooding requests"): uploads whose header
/// chunk is sent and whose body never comes stay outstanding and hold an in-flight permit until the stall limit, so a
/// sandbox can pile them up at no cost to itself. Each test names the cap it guards and was checked by removing it once.
/// </summary>
public sealed class RequestCapTests : IAsyncLifetime
{
    private NodeUnderTest _node = null!;

    public async Task InitializeAsync()
    {
        _node = await NodeUnderTest.StartAsync(
            stallTimeout: TimeSpan.FromSeconds(60),
            configure: o => o with { MaxConcurrentRequests = 16, MaxInFlightPerInstance = 2, MaxInFlightPerFunction = 16 },
            session: o => o with { MaxOutstandingPerInstance = 6 });
        await _node.PutAsync("fn/small", "small input"u8.ToArray());
    }

    public async Task DisposeAsync() => await _node.DisposeAsync();

    /// <summary>
    /// Guards the per-instance in-flight cap (<see cref="NexusBackendOptions.MaxInFlightPerInstance"/>, the semaphore
    /// StorageService.ServeAsync takes): an instance holding two stuck uploads gets no third storage call served, while
    /// another instance of the same function is served at once. With the cap raised past the attack once, the third
    /// call was answered and this failed.
    /// </summary>
    [Fact]
    public async Task An_instance_holding_its_in_flight_budget_waits_and_its_neighbour_does_not()
    {
        var (channel, session) = _node.Attach();
        using var hog = new RawSandbox(channel);
        StuckUpload(hog, 1, relative: 0);
        StuckUpload(hog, 2, relative: 4096);
        await Task.Delay(TimeSpan.FromSeconds(1));

        hog.SubmitRequest(3, ChannelOp.GetObject, """{"Bucket":"nexus-test","Key":"fn/small"}""", relative: 8192);
        var (neighbourChannel, _) = _node.Attach();
        using var neighbour = new RawSandbox(neighbourChannel);
        neighbour.SubmitRequest(1, ChannelOp.GetObject, """{"Bucket":"nexus-test","Key":"fn/small"}""");
        var served = await neighbour.NextCompletionAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(200, served?.Status);

        // The hog's own third call waits for one of its permits: nothing but the uploads' header acknowledgements comes.
        var deadline = DateTime.UtcNow.AddSeconds(3);
        while (DateTime.UtcNow < deadline && await hog.NextCompletionAsync(deadline - DateTime.UtcNow) is { } completion)
        {
            Assert.True(completion.Op == ChannelOp.DataAck && completion.RequestId is 1 or 2, $"request {completion.RequestId} ({completion.Op}, status {completion.Status}) was served past the instance's in-flight cap");
        }

        Assert.Null(session.CloseReason);
    }

    /// <summary>
    /// Guards the outstanding-request cap (<see cref="Nexus.Channel.Services.ChannelSessionOptions.MaxOutstandingPerInstance"/>,
    /// checked in ChannelSession.Begin): the seventh stuck upload closes that instance's channel with the reason, and a
    /// neighbour is still served. With the check removed once, the channel stayed open and this failed.
    /// </summary>
    [Fact]
    public async Task More_requests_outstanding_than_the_cap_close_only_that_channel()
    {
        var (channel, session) = _node.Attach();
        using var hog = new RawSandbox(channel);
        for (var i = 0; i < 7; i++)
        {
            StuckUpload(hog, (ulong)(i + 1), relative: i * 4096);
        }

        var reason = await session.Closed.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Contains("more than 6 requests outstanding", reason, StringComparison.Ordinal);
        Assert.True(hog.HostClosed);

        var (neighbourChannel, neighbourSession) = _node.Attach();
        using var neighbour = new RawSandbox(neighbourChannel);
        neighbour.SubmitRequest(1, ChannelOp.GetObject, """{"Bucket":"nexus-test","Key":"fn/small"}""");
        Assert.Equal(200, (await neighbour.NextCompletionAsync(TimeSpan.FromSeconds(30)))?.Status);
        Assert.Null(neighbourSession.CloseReason);
    }

    /// <summary>A PutObject whose header chunk says 10 body bytes follow, which never come.</summary>
    private static void StuckUpload(RawSandbox sandbox, ulong id, int relative)
    {
        var header = """{"Bucket":"nexus-test","Key":"fn/up"}"""u8.ToArray();
        var offset = sandbox.WriteRequestBytes(relative, header);
        sandbox.Submit(new ChannelRecord
        {
            RequestId = id,
            Op = ChannelOp.PutObject,
            Flags = ChannelFlags.More,
            Offset = offset,
            Length = (uint)header.Length,
            HeaderLength = (uint)header.Length,
            TotalLength = 10,
            Slot = ChannelRecord.NoSlot,
        });
    }
}
