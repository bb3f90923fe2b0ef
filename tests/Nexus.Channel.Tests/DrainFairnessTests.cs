// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Channel.Services;
using Nexus.Testing.Channel;

namespace Nexus.Channel.Tests;

/// <summary>
/// A sandbox that refills its ring as fast as the host drains it, on the doorbell thread every channel shares
/// (docs/threat-model.md, "A ring kept full").
/// </summary>
public sealed class DrainFairnessTests
{
    private const int Refills = 50_000;

    /// <summary>
    /// Guards the per-wake drain limit (<c>ChannelSession.OnDoorbell</c>: a ring's worth, then the session waits its turn
    /// behind the doorbells that rang meanwhile): the attacker's service puts a new record in its ring for each one the
    /// host takes, as a sandbox writing from another CPU can, after ringing a neighbour's doorbell first. The neighbour
    /// must be served after at most about a ring's worth of the attacker's records, not after all of them. Ordering, not
    /// timing: the count of records the attacker had placed when the neighbour was served. With the limit removed once,
    /// the neighbour was served after all 50,000 (failed).
    /// </summary>
    [Fact]
    public async Task A_sandbox_that_keeps_its_ring_full_is_served_in_turns_with_its_neighbour()
    {
        await using var host = new ChannelServiceHost();
        using var attackerChannel = new ProcessChannel(new ChannelOptions { RegionSize = 1 << 20, SlotSize = 64 << 10 });
        using var neighbourChannel = new ProcessChannel(new ChannelOptions { RegionSize = 1 << 20, SlotSize = 64 << 10 });
        using var attacker = new RawSandbox(attackerChannel);
        using var neighbour = new RawSandbox(neighbourChannel);

        var placed = 0;
        var servedAfter = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var attackerSession = host.Open(attackerChannel.Host);
        attackerSession.Register(new InlineService(() =>
        {
            if (placed == 0)
            {
                neighbour.SubmitRequest(1, ChannelOp.GetObject, "{}");
            }

            if (placed < Refills)
            {
                placed++;
                attacker.Submit(EmptyRequest((ulong)placed + 1), ring: false);
            }
        }));
        var neighbourSession = host.Open(neighbourChannel.Host);
        neighbourSession.Register(new InlineService(() => servedAfter.TrySetResult(Volatile.Read(ref placed))));
        attackerSession.Start();
        neighbourSession.Start();

        attacker.Submit(EmptyRequest(1));
        var placedWhenServed = await servedAfter.Task.WaitAsync(TimeSpan.FromMinutes(1));

        var ring = attackerChannel.Layout.RingEntries;
        Assert.True(placedWhenServed <= 2 * ring, $"the neighbour was served after the attacker had placed {placedWhenServed} records (a ring holds {ring})");
        Assert.Null(attackerSession.CloseReason);
        await attackerSession.DisposeAsync();
        await neighbourSession.DisposeAsync();
    }

    private static ChannelRecord EmptyRequest(ulong id) =>
        new() { RequestId = id, Op = ChannelOp.GetObject, Slot = ChannelRecord.NoSlot };

    /// <summary>Runs an action inline on the doorbell thread for each request and answers nothing.</summary>
    private sealed class InlineService(Action onRequest) : IChannelService
    {
        public IReadOnlyCollection<ChannelOp> Ops => [ChannelOp.GetObject];

        public Task ServeAsync(ChannelRequest request, CancellationToken cancellationToken)
        {
            onRequest();
            return Task.CompletedTask;
        }
    }
}
