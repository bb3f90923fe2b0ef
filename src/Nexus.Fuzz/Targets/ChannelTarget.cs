// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;
using Nexus.Channel;
using Nexus.Interop;

namespace Nexus.Fuzz.Targets;

/// <summary>
/// The host's reading of what a sandbox writes into its channel region: the submission tail and completion head
/// indices (ring positions) and the 64-byte submission records, through a real <see cref="HostChannel"/> whose
/// memfd this target maps a second time as the sandbox does. Input: u32 submission tail ahead of the host's head,
/// u32 completion head behind the host's tail, then up to one ring of records. Invariants: a lying index is refused
/// with <see cref="ChannelProtocolException"/> exactly when it is impossible, the host consumes only what the ring
/// holds, its private copy of each record is the bytes the sandbox wrote, and an extent is served exactly when it
/// lies inside the request area, with the length asked for.
/// </summary>
public sealed unsafe class ChannelTarget : IFuzzTarget
{
    private const int RingEntries = 16;
    private const int IndexBytes = 8;

    private readonly ProcessChannel _channel;
    private readonly SafeMemoryMapping _sandboxView;
    private readonly byte* _region;
    private readonly ChannelRecord[] _drained = new ChannelRecord[RingEntries * 2];
    private readonly byte[] _copy = new byte[ChannelLayout.RecordSize];

    public ChannelTarget()
    {
        _channel = new ProcessChannel(new ChannelOptions { RegionSize = 1 << 20, RingEntries = RingEntries, SlotSize = 4096 }, "nexus-fuzz-channel");
        _sandboxView = Memory.MapShared(_channel.RegionFd, _channel.Layout.RegionSize);
        _region = (byte*)_sandboxView.Address;
        var layout = _channel.Layout;
        var areaEnd = (ulong)(layout.RequestAreaOffset + layout.RequestAreaSize);
        InterestingValues =
        [
            RingEntries, RingEntries + 1, (ulong)layout.RequestAreaOffset, areaEnd, (ulong)layout.RequestAreaSize,
            (ulong)layout.SlotAreaOffset, (ulong)layout.RegionSize, (ulong)layout.SlotCount, ChannelRecord.NoSlot,
            (ulong)layout.MaxHeaderBytes, 5UL << 30, (ulong)ChannelOp.Data, (ulong)ChannelOp.Release, (ulong)ChannelOp.DataAck,
        ];
        Seeds = [Seed(layout, 1), Seed(layout, 3), Seed(layout, RingEntries)];
    }

    public string Name => "channel";

    public IReadOnlyList<byte[]> Seeds { get; }

    public IReadOnlyList<ulong> InterestingValues { get; }

    public int MaxInputLength => IndexBytes + (RingEntries * ChannelLayout.RecordSize);

    public FuzzOutcome Execute(ReadOnlySpan<byte> input)
    {
        Span<byte> indices = stackalloc byte[IndexBytes];
        input[..Math.Min(IndexBytes, input.Length)].CopyTo(indices);
        var records = input[Math.Min(IndexBytes, input.Length)..];
        var tailAhead = BinaryPrimitives.ReadUInt32LittleEndian(indices);
        var headBehind = BinaryPrimitives.ReadUInt32LittleEndian(indices[4..]);

        var submissionsOk = Submit(tailAhead, records);
        var completionsOk = Complete(headBehind);
        return submissionsOk && completionsOk ? FuzzOutcome.Accepted : FuzzOutcome.Rejected;
    }

    public void Dispose()
    {
        _sandboxView.Dispose();
        _channel.Dispose();
    }

    private bool Submit(uint tailAhead, ReadOnlySpan<byte> records)
    {
        var layout = _channel.Layout;
        var head = ReadIndex(ChannelLayout.OffSubHead);
        var count = Math.Min(records.Length / ChannelLayout.RecordSize, RingEntries);
        for (var i = 0; i < count; i++)
        {
            records.Slice(i * ChannelLayout.RecordSize, ChannelLayout.RecordSize).CopyTo(RingSlot(layout.SubRingOffset, head + (uint)i));
        }

        WriteIndex(ChannelLayout.OffSubTail, unchecked(head + tailAhead));
        int drained;
        try
        {
            drained = _channel.Host.DrainSubmissions(_drained);
        }
        catch (ChannelProtocolException)
        {
            FuzzInvariantException.Check(tailAhead > RingEntries, $"a tail {tailAhead} ahead of the head was refused; the ring holds {RingEntries}");
            FuzzInvariantException.Check(ReadIndex(ChannelLayout.OffSubHead) == head, "the host moved its head on a refused tail");
            return false;
        }

        FuzzInvariantException.Check(tailAhead <= RingEntries, $"a tail {tailAhead} ahead of the head was accepted; the ring holds {RingEntries}");
        FuzzInvariantException.Check(drained == (int)tailAhead, $"the host drained {drained} of {tailAhead} published records");
        FuzzInvariantException.Check(ReadIndex(ChannelLayout.OffSubHead) == unchecked(head + (uint)drained), "the published head is not the old head plus the records drained");
        var refusalChecked = false;
        for (var i = 0; i < drained; i++)
        {
            CheckRecord(_drained[i], RingSlot(layout.SubRingOffset, head + (uint)i), ref refusalChecked);
        }

        return true;
    }

    /// <summary>
    /// Checks the host's copy of one record and its extent. An extent outside the request area is asked for once per
    /// input (<paramref name="refusalChecked"/>): each refusal is an exception, which would otherwise dominate the run.
    /// </summary>
    private void CheckRecord(in ChannelRecord record, Span<byte> shared, ref bool refusalChecked)
    {
        record.Write(_copy);
        FuzzInvariantException.Check(_copy.AsSpan(0, 48).SequenceEqual(shared[..48]), "the host's copy of a record differs from what the sandbox wrote");
        FuzzInvariantException.Check(!_copy.AsSpan(48).ContainsAnyExcept((byte)0), "a record's reserved bytes were not written as zero");

        var layout = _channel.Layout;
        var start = (UInt128)(ulong)layout.RequestAreaOffset;
        var end = start + (ulong)layout.RequestAreaSize;
        var inside = record.Offset >= start && (UInt128)record.Offset + record.Length <= end;
        FuzzInvariantException.Check(layout.InRequestArea(record.Offset, record.Length) == inside, $"InRequestArea([{record.Offset}, +{record.Length})) is wrong");
        if (!inside && refusalChecked)
        {
            return;
        }

        refusalChecked |= !inside;
        try
        {
            var bytes = _channel.Host.RequestBytes(record.Offset, record.Length);
            FuzzInvariantException.Check(inside, $"extent [{record.Offset}, +{record.Length}) outside the request area was served");
            FuzzInvariantException.Check(bytes.Length == (int)record.Length, "a served extent has another length than asked");
            if (!bytes.IsEmpty)
            {
                // Touch both ends: a wrong bound would fault here.
                _ = bytes[0] + bytes[^1];
            }
        }
        catch (ChannelProtocolException)
        {
            FuzzInvariantException.Check(!inside, $"extent [{record.Offset}, +{record.Length}) inside the request area was refused");
        }
    }

    private bool Complete(uint headBehind)
    {
        var layout = _channel.Layout;
        var tail = ReadIndex(ChannelLayout.OffCmpTail);
        WriteIndex(ChannelLayout.OffCmpHead, unchecked(tail - headBehind));
        var reply = new ChannelRecord { RequestId = tail, Op = ChannelOp.DataAck, Slot = ChannelRecord.NoSlot };
        bool posted;
        try
        {
            posted = _channel.Host.TryPostCompletion(reply);
        }
        catch (ChannelProtocolException)
        {
            FuzzInvariantException.Check(headBehind > RingEntries, $"a head {headBehind} behind the tail was refused; the ring holds {RingEntries}");
            return false;
        }

        FuzzInvariantException.Check(headBehind <= RingEntries, $"a head {headBehind} behind the tail was accepted; the ring holds {RingEntries}");
        FuzzInvariantException.Check(posted == headBehind < RingEntries, $"with {headBehind} of {RingEntries} completions unread the host posted: {posted}");
        if (posted)
        {
            FuzzInvariantException.Check(ReadIndex(ChannelLayout.OffCmpTail) == unchecked(tail + 1), "a posted completion did not advance the tail by one");
            FuzzInvariantException.Check(ChannelRecord.Read(RingSlot(layout.CmpRingOffset, tail)).RequestId == tail, "the completion is not in the slot the tail named");
        }

        return true;
    }

    private Span<byte> RingSlot(long ringOffset, uint position)
    {
        var index = position & (RingEntries - 1);
        // SAFETY: index < RingEntries, so the record lies inside a ring inside this mapping of the whole region.
        return new Span<byte>(_region + ringOffset + ((long)index * ChannelLayout.RecordSize), ChannelLayout.RecordSize);
    }

    // SAFETY: the offsets are header constants inside the first page of this mapping of the region.
    private uint ReadIndex(int offset) => Volatile.Read(ref *(uint*)(_region + offset));

    // SAFETY: as ReadIndex.
    private void WriteIndex(int offset, uint value) => Volatile.Write(ref *(uint*)(_region + offset), value);

    /// <summary>A valid burst: <paramref name="count"/> published records, each a one-chunk request in the request area.</summary>
    private static byte[] Seed(ChannelLayout layout, int count)
    {
        var seed = new byte[IndexBytes + (count * ChannelLayout.RecordSize)];
        BinaryPrimitives.WriteUInt32LittleEndian(seed, (uint)count);
        BinaryPrimitives.WriteUInt32LittleEndian(seed.AsSpan(4), (uint)(count - 1));
        for (var i = 0; i < count; i++)
        {
            new ChannelRecord
            {
                RequestId = (ulong)i + 1,
                Op = i % 2 == 0 ? ChannelOp.GetObject : ChannelOp.PutObject,
                Offset = (ulong)layout.RequestAreaOffset + ((ulong)i * 4096),
                Length = 100,
                HeaderLength = 60,
                TotalLength = 40,
                Slot = ChannelRecord.NoSlot,
            }.Write(seed.AsSpan(IndexBytes + (i * ChannelLayout.RecordSize)));
        }

        return seed;
    }
}
