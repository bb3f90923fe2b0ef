// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;
using Nexus.Channel.Services;
using Nexus.Interop;
using Nexus.Testing.Channel;

namespace Nexus.Channel.Tests;

/// <summary>
/// Lost wake-ups between the two ends: each side sleeps on its doorbell after asking (a flag in the header) to be rung
/// when the other frees ring space. A missed ring used to stall a large download for 30 s and close the channel.
/// </summary>
public sealed class WakeupTests
{
    private const int Entries = 8;

    private static ChannelOptions Small => new() { RegionSize = 1 << 20, SlotSize = 64 << 10, RingEntries = Entries };

    [Fact]
    public void Host_answers_a_sandbox_waiting_for_submission_space_even_when_it_has_already_drained_everything()
    {
        using var channel = new ProcessChannel(Small);
        using var sandbox = new RawSandbox(channel);

        // The sandbox's doorbell blocks on read (Python sleeps in it): look with a poll instead.
        using var poller = new FdPoller();
        poller.Add(channel.ToSandbox.Handle, 1);
        var rung = new ulong[1];
        for (var i = 0; i < Entries; i++)
        {
            sandbox.Release((uint)i);
        }

        // The host drains the full ring before the sandbox has raised its flag: nobody to ring yet.
        var records = new ChannelRecord[Entries];
        Assert.Equal(Entries, channel.Host.DrainSubmissions(records));
        Assert.Equal(0, poller.Wait(rung, 0));

        // The sandbox saw the full ring a moment earlier: it raises the flag, rings and sleeps.
        BinaryPrimitives.WriteUInt32LittleEndian(sandbox.Region[ChannelLayout.OffSandboxWantsSubSpace..], 1);
        Assert.Equal(0, channel.Host.DrainSubmissions(records));
        Assert.True(poller.Wait(rung, 0) == 1, "the host left the sandbox asleep on a ring that has space");
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(sandbox.Region[ChannelLayout.OffSandboxWantsSubSpace..]));
    }

    [Fact]
    public async Task A_completion_waiting_for_ring_space_is_posted_when_the_sandbox_drains_without_ringing()
    {
        await using var host = new ChannelServiceHost();
        using var channel = new ProcessChannel(Small);
        using var sandbox = new RawSandbox(channel);
        var session = host.Open(channel.Host);
        session.Start();
        for (var i = 0; i < Entries; i++)
        {
            Assert.True(channel.Host.TryPostCompletion(new ChannelRecord { RequestId = (ulong)i + 1, Slot = ChannelRecord.NoSlot }));
        }

        var post = session.PostAsync(new ChannelRecord { RequestId = 99, Slot = ChannelRecord.NoSlot }, CancellationToken.None);
        await Task.Delay(50);
        Assert.False(post.IsCompleted);

        // The sandbox drains one record and, racing the host's flag, does not ring (its store of the head and load of
        // the flag are unfenced). The host must still notice the space well before its 30 s stall limit.
        Assert.NotNull(await sandbox.NextCompletionAsync(TimeSpan.FromSeconds(1)));
        await post.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Null(session.CloseReason);
    }
}
