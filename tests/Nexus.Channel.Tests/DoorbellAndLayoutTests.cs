// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Interop;
using Nexus.Testing.Channel;

namespace Nexus.Channel.Tests;

public sealed class DoorbellAndLayoutTests
{
    [Fact]
    public void Eventfd_coalesces_rings_and_resets_on_read()
    {
        using var bell = EventFd.Create(0, EventFdFlags.CloseOnExec | EventFdFlags.NonBlocking);
        Assert.False(bell.TryRead(out _));
        bell.Signal();
        bell.Signal(2);
        Assert.True(bell.TryRead(out var count));
        Assert.Equal(3UL, count);
        Assert.False(bell.TryRead(out _));
    }

    [Fact]
    public void Poller_reports_the_token_of_each_rung_doorbell()
    {
        using var poller = new FdPoller();
        using var a = EventFd.Create(0, EventFdFlags.NonBlocking | EventFdFlags.CloseOnExec);
        using var b = EventFd.Create(0, EventFdFlags.NonBlocking | EventFdFlags.CloseOnExec);
        poller.Add(a.Handle, 11);
        poller.Add(b.Handle, 22);
        Span<ulong> tokens = stackalloc ulong[8];
        Assert.Equal(0, poller.Wait(tokens, 0));
        b.Signal();
        Assert.Equal(1, poller.Wait(tokens, 1000));
        Assert.Equal(22UL, tokens[0]);
        Assert.True(b.TryRead(out _));
        poller.Remove(b.Handle);
        b.Signal();
        Assert.Equal(0, poller.Wait(tokens, 0));
    }

    [Fact]
    public async Task Doorbells_cross_the_process_boundary_in_both_directions()
    {
        using var channel = new ProcessChannel(new ChannelOptions { RegionSize = 1 << 20, SlotSize = 64 << 10 });
        using var poller = new FdPoller();
        poller.Add(channel.ToHost.Handle, 1);
        // The child rings fd 4 three times, then blocks on fd 5 until the host rings it with 7.
        var child = PythonSandbox.Start(channel, """
            import os
            for _ in range(3): os.eventfd_write(4, 1)
            print(os.eventfd_read(5))
            """, out var stdout, out var stderr);
        var tokens = new ulong[4];
        Assert.Equal(1, poller.Wait(tokens, 60_000));
        Assert.Equal(1UL, tokens[0]);
        channel.ToSandbox.Signal(7);
        Assert.Equal(0, await child.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1)));
        Assert.True(channel.ToHost.TryRead(out var rings), File.ReadAllText(stderr));
        Assert.Equal(3UL, rings);
        Assert.Equal("7", File.ReadAllText(stdout).Trim());
        File.Delete(stdout);
        File.Delete(stderr);
    }

    [Fact]
    public void Layout_places_rings_and_areas_inside_the_region_without_overlap()
    {
        var layout = new ChannelLayout(new ChannelOptions());
        Assert.Equal(64L << 20, layout.RegionSize);
        Assert.True(layout.CmpRingOffset >= layout.SubRingOffset + (layout.RingEntries * ChannelLayout.RecordSize));
        Assert.True(layout.RequestAreaOffset >= layout.CmpRingOffset + (layout.RingEntries * ChannelLayout.RecordSize));
        Assert.Equal(layout.RequestAreaOffset + layout.RequestAreaSize, layout.SlotAreaOffset);
        Assert.True(layout.SlotOffset(layout.SlotCount - 1) + layout.SlotSize <= layout.RegionSize);
        Assert.True(layout.InRequestArea((ulong)layout.RequestAreaOffset, (uint)layout.RequestAreaSize));
        Assert.False(layout.InRequestArea((ulong)layout.RequestAreaOffset - 1, 1));
        Assert.False(layout.InRequestArea((ulong)layout.SlotAreaOffset - 1, 2));
        Assert.False(layout.InRequestArea(ulong.MaxValue, 2));
        Assert.False(layout.InRequestArea(ulong.MaxValue - 1, uint.MaxValue));
    }

    [Theory]
    [InlineData(1 << 20, 3, 65536, "power of two")]
    [InlineData(1 << 20, 4, 1000, "multiple of 4096")]
    [InlineData(64 << 10, 4, 65536, "cannot hold")]
    public void Layout_rejects_impossible_options_saying_why(long region, int entries, int slot, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => new ChannelLayout(new ChannelOptions { RegionSize = region, RingEntries = entries, SlotSize = slot }));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Records_round_trip_through_their_64_byte_encoding()
    {
        var record = new ChannelRecord
        {
            RequestId = 0x0102030405060708,
            Op = ChannelOp.CopyObject,
            Flags = ChannelFlags.More,
            Status = -412,
            Offset = 0x1122334455,
            Length = 77,
            HeaderLength = 66,
            TotalLength = 1UL << 33,
            Slot = 9,
            Chunk = 3,
        };
        var bytes = new byte[ChannelLayout.RecordSize];
        record.Write(bytes);
        Assert.Equal(record, ChannelRecord.Read(bytes));
        Assert.All(bytes[48..], b => Assert.Equal(0, b));
    }
}
