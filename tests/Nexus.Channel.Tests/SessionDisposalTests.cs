// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Channel.Services;
using Nexus.Testing.Channel;

namespace Nexus.Channel.Tests;

/// <summary>
/// Defence: a session's DisposeAsync returns only once the doorbell thread has left that session's drain, so its
/// owner may unmap the region right after (the node's transport does). Found by `nexus fuzz session`: the doorbell thread
/// started a request whose service wrote into a slot of a region its owner had just unmapped, and the node crashed.
/// </summary>
public sealed class SessionDisposalTests
{
    [Fact]
    public async Task Dispose_waits_for_a_request_the_doorbell_thread_is_still_starting()
    {
        await using var host = new ChannelServiceHost();
        using var channel = new ProcessChannel(new ChannelOptions { RegionSize = 1 << 20, SlotSize = 64 << 10 });
        using var sandbox = new RawSandbox(channel);
        var session = host.Open(channel.Host);
        using var service = new GatedService(channel.Host);
        session.Register(service);
        session.Start();

        sandbox.SubmitRequest(1, ChannelOp.HeadObject, "{}");
        Assert.True(service.Entered.Wait(TimeSpan.FromSeconds(30)), "the service never started");
        var disposing = Task.Run(async () => await session.DisposeAsync());

        // The service is held inside the doorbell thread's drain: a disposal that returns now would let the owner unmap
        // the region under it.
        var returnedEarly = await Task.WhenAny(disposing, Task.Delay(TimeSpan.FromMilliseconds(500))) == disposing;
        service.Gate.Set();
        await disposing.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(returnedEarly, "DisposeAsync returned while the doorbell thread was still inside the session's drain");
        Assert.True(service.WroteSlot);
    }

    /// <summary>Its synchronous part (run on the doorbell thread) waits for the test, then writes into a response slot.</summary>
    private sealed class GatedService(HostChannel channel) : IChannelService, IDisposable
    {
        public ManualResetEventSlim Entered { get; } = new();

        public ManualResetEventSlim Gate { get; } = new();

        public bool WroteSlot { get; private set; }

        public IReadOnlyCollection<ChannelOp> Ops { get; } = [ChannelOp.HeadObject];

        public Task ServeAsync(ChannelRequest request, CancellationToken cancellationToken)
        {
            Entered.Set();
            Gate.Wait(TimeSpan.FromSeconds(30));
            channel.SlotMemory(0).Span.Fill(1);
            WroteSlot = true;
            return Task.CompletedTask;
        }

        public void Dispose()
        {
            Entered.Dispose();
            Gate.Dispose();
        }
    }
}
