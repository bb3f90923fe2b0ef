// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;
using CsCheck;

namespace Nexus.Channel.Tests;

/// <summary>
/// Properties of the channel's record and ring types on generated input (CsCheck): records round-trip through their
/// 64 bytes, a layout keeps every area inside the region and apart, the request-area check agrees with exact
/// arithmetic, and the host refuses a submission tail exactly when it claims more than a ring of records.
/// </summary>
public sealed class RecordPropertyTests
{
    private static readonly Gen<ChannelRecord> s_record =
        Gen.Select(Gen.ULong, Gen.UShort, Gen.UShort, Gen.Int, Gen.ULong, Gen.UInt, Gen.UInt, Gen.Select(Gen.ULong, Gen.UInt, Gen.UInt))
            .Select((id, op, flags, status, offset, length, header, rest) => new ChannelRecord
            {
                RequestId = id,
                Op = (ChannelOp)op,
                Flags = (ChannelFlags)flags,
                Status = status,
                Offset = offset,
                Length = length,
                HeaderLength = header,
                TotalLength = rest.Item1,
                Slot = rest.Item2,
                Chunk = rest.Item3,
            });

    [Fact]
    public void RecordRoundTripsThroughItsBytes() =>
        s_record.Sample(record =>
        {
            var bytes = new byte[ChannelLayout.RecordSize];
            record.Write(bytes);
            Assert.Equal(record, ChannelRecord.Read(bytes));
        }, iter: 20000);

    [Fact]
    public void AnyBytesReadAsARecordWriteBackTheSameFields() =>
        Gen.Byte.Array[ChannelLayout.RecordSize].Sample(shared =>
        {
            var copy = new byte[ChannelLayout.RecordSize];
            ChannelRecord.Read(shared).Write(copy);
            Assert.Equal(shared.AsSpan(0, 48).ToArray(), copy.AsSpan(0, 48).ToArray());
            Assert.All(copy.AsSpan(48).ToArray(), b => Assert.Equal(0, b));
        }, iter: 20000);

    private static readonly Gen<ChannelOptions> s_options =
        Gen.Select(Gen.Long[1 << 14, 1L << 32], Gen.Int[0, 17], Gen.Int[-1, 64], Gen.Double[-0.1, 1.1])
            .Select((region, ringLog, slotPages, fraction) => new ChannelOptions
            {
                RegionSize = region,
                RingEntries = ringLog == 17 ? 100 : 1 << ringLog,
                SlotSize = slotPages * 4096,
                RequestAreaFraction = fraction,
            });

    [Fact]
    public void LayoutKeepsEveryAreaInsideTheRegionAndApartOrRefuses() =>
        s_options.Sample(options =>
        {
            ChannelLayout layout;
            try
            {
                layout = new ChannelLayout(options);
            }
            catch (ArgumentException)
            {
                return;
            }

            var ringBytes = (long)layout.RingEntries * ChannelLayout.RecordSize;
            Assert.True(layout.SubRingOffset >= ChannelLayout.HeaderSize);
            Assert.True(layout.CmpRingOffset >= layout.SubRingOffset + ringBytes);
            Assert.True(layout.RequestAreaOffset >= layout.CmpRingOffset + ringBytes);
            Assert.True(layout.RequestAreaSize >= layout.SlotSize);
            Assert.Equal(layout.RequestAreaOffset + layout.RequestAreaSize, layout.SlotAreaOffset);
            Assert.InRange(layout.SlotCount, 1, 65535);
            Assert.True(layout.SlotOffset(layout.SlotCount - 1) + layout.SlotSize <= layout.RegionSize, "the last slot ends past the region");
            Assert.Equal(0, layout.RequestAreaOffset % 4096);
            Assert.Equal(0, layout.SlotAreaOffset % 4096);
        }, iter: 20000);

    [Fact]
    public void RequestAreaCheckAgreesWithExactArithmetic()
    {
        var layout = new ChannelLayout(new ChannelOptions { RegionSize = 1 << 20, RingEntries = 16, SlotSize = 4096 });
        var start = (ulong)layout.RequestAreaOffset;
        var end = start + (ulong)layout.RequestAreaSize;
        var offsets = Gen.Frequency(
            (2, Gen.OneOf([0UL, start, end, ulong.MaxValue]).SelectMany(a => Gen.Long[-70, 70].Select(d => unchecked(a + (ulong)d)))),
            (1, Gen.ULong));
        var lengths = Gen.Frequency((2, Gen.UInt[0, 70]), (1, Gen.OneOf([(uint)layout.RequestAreaSize, uint.MaxValue])), (1, Gen.UInt));
        Gen.Select(offsets, lengths).Sample((offset, length) =>
        {
            var inside = offset >= start && (UInt128)offset + length <= end;
            Assert.Equal(inside, layout.InRequestArea(offset, length));
        }, iter: 50000);
    }

    [Fact]
    public void HostRefusesATailClaimingMoreThanARing()
    {
        using var channel = new ProcessChannel(new ChannelOptions { RegionSize = 1 << 20, RingEntries = 16, SlotSize = 4096 }, "nexus-property");
        var host = channel.Host;
        using var sandbox = Nexus.Interop.Memory.MapShared(channel.RegionFd, host.Layout.RegionSize);
        var records = new ChannelRecord[64];
        var tails = Gen.Frequency((3, Gen.UInt[0, 40]), (1, Gen.OneOf([uint.MaxValue, uint.MaxValue - 15, 1u << 31])), (1, Gen.UInt));
        tails.Sample(ahead =>
        {
            var head = ReadIndex(sandbox, ChannelLayout.OffSubHead);
            WriteIndex(sandbox, ChannelLayout.OffSubTail, unchecked(head + ahead));
            try
            {
                Assert.Equal((int)ahead, host.DrainSubmissions(records));
                Assert.True(ahead <= 16, $"a tail {ahead} records ahead in a 16-record ring was accepted");
                Assert.Equal(unchecked(head + ahead), ReadIndex(sandbox, ChannelLayout.OffSubHead));
            }
            catch (ChannelProtocolException)
            {
                Assert.True(ahead > 16, $"a tail {ahead} records ahead in a 16-record ring was refused");
                Assert.Equal(head, ReadIndex(sandbox, ChannelLayout.OffSubHead));
            }
        }, iter: 5000, threads: 1);
    }

    private static unsafe uint ReadIndex(Nexus.Interop.SafeMemoryMapping region, int offset) =>
        // SAFETY: a header constant inside the first page of a live mapping of the whole region.
        BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>((byte*)region.Address + offset, 4));

    private static unsafe void WriteIndex(Nexus.Interop.SafeMemoryMapping region, int offset, uint value) =>
        // SAFETY: as ReadIndex.
        BinaryPrimitives.WriteUInt32LittleEndian(new Span<byte>((byte*)region.Address + offset, 4), value);
}
