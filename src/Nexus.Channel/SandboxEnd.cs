// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Channel.Services;
using Nexus.Interop;

namespace Nexus.Channel;

/// <summary>
/// The sandbox's end of a channel in C#, on a thread of the host's own process: it maps the region through the memfd,
/// submits records and sleeps on the host's doorbell exactly as the Python frontend does (docs/channel.md). The
/// benchmarks use it to measure the channel and the host's service path rather than a Python interpreter, and the
/// fuzzer's live target as the well-behaved neighbour of a hostile session. A completion's chunk is checked to lie in
/// the slot area before it is read: the fuzzer holds the host to that.
/// </summary>
public sealed unsafe class SandboxEnd : IDisposable
{
    private readonly EventFd _toHost;
    private readonly EventFd _toSandbox;
    private readonly SafeMemoryMapping _mapping;
    private readonly byte* _base;
    private uint _subTail;
    private uint _cmpHead;

    public SandboxEnd(ProcessChannel channel)
        : this(channel.RegionFd, channel.ToHost, channel.ToSandbox, channel.Layout)
    {
    }

    /// <summary>The end a sandbox process would have: the region's memfd and the two doorbells it was handed.</summary>
    public SandboxEnd(SafeFd region, EventFd toHost, EventFd toSandbox, ChannelLayout layout)
    {
        _toHost = toHost;
        _toSandbox = toSandbox;
        Layout = layout;
        _mapping = Memory.MapShared(region, layout.RegionSize);
        var added = false;
        _mapping.DangerousAddRef(ref added);
        _base = (byte*)_mapping.Address;
    }

    public ChannelLayout Layout { get; }

    /// <summary>
    /// How many times <see cref="NextCompletion"/> looks at the completion tail before it sleeps on the host's doorbell:
    /// the Python frontend's <c>NEXUS_CHANNEL_SPIN</c> (0, the default: no busy-polling).
    /// </summary>
    public int CompletionSpins { get; set; }

    /// <summary>Whether the host has closed the channel (its flag in the region's header).</summary>
    // SAFETY: constant header offset inside the mapping.
    public bool HostClosed => Volatile.Read(ref *(uint*)(_base + ChannelLayout.OffHostClosed)) != 0;

    /// <summary>The request area's first bytes, where each request of a benchmark is written.</summary>
    public ulong RequestOffset => (ulong)Layout.RequestAreaOffset;

    // SAFETY: the request area lies inside this live mapping (layout check at channel creation).
    public Span<byte> RequestArea => new(_base + Layout.RequestAreaOffset, (int)Layout.RequestAreaSize);

    /// <summary>Publishes a record; rings the host when asked (releases ride on the next ring, as in Python).</summary>
    public void Submit(in ChannelRecord record, bool ring)
    {
        var index = _subTail & (uint)(Layout.RingEntries - 1);
        // SAFETY: index < RingEntries: the record lies inside the submission ring of the mapping.
        record.Write(new Span<byte>(_base + Layout.SubRingOffset + (index * ChannelLayout.RecordSize), ChannelLayout.RecordSize));
        _subTail++;
        // SAFETY: constant header offset inside the mapping; the record is written before the tail.
        Volatile.Write(ref *(uint*)(_base + ChannelLayout.OffSubTail), _subTail);
        if (ring)
        {
            _toHost.Signal();
        }
    }

    /// <summary>Writes a one-chunk request (header JSON, then body) at <paramref name="offset"/> and submits it, ringing the host.</summary>
    public void SubmitRequest(ulong requestId, ChannelOp op, long offset, ReadOnlySpan<byte> header, ReadOnlySpan<byte> body)
    {
        var message = Region(offset, header.Length + body.Length);
        header.CopyTo(message);
        body.CopyTo(message[header.Length..]);
        Submit(
            new ChannelRecord
            {
                RequestId = requestId,
                Op = op,
                Offset = (ulong)offset,
                Length = (uint)message.Length,
                HeaderLength = (uint)header.Length,
                TotalLength = (ulong)body.Length,
                Slot = ChannelRecord.NoSlot,
            },
            ring: true);
    }

    /// <summary>
    /// Waits for the next completion and consumes it: on the host's doorbell, after <see cref="CompletionSpins"/> looks at
    /// the completion tail.
    /// </summary>
    public ChannelRecord NextCompletion()
    {
        ChannelRecord record;
        for (var spins = CompletionSpins; spins > 0; spins--)
        {
            if (TryNextCompletion(out record))
            {
                return record;
            }
        }

        while (!TryNextCompletion(out record))
        {
            if (HostClosed)
            {
                throw new ChannelClosedException("the host closed the channel");
            }

            _toSandbox.Wait();
        }

        return record;
    }

    /// <summary>Consumes the next completion if the host has posted one, without waiting.</summary>
    public bool TryNextCompletion(out ChannelRecord record)
    {
        // SAFETY: constant header offset inside the mapping.
        if (Volatile.Read(ref *(uint*)(_base + ChannelLayout.OffCmpTail)) == _cmpHead)
        {
            record = default;
            return false;
        }

        var index = _cmpHead & (uint)(Layout.RingEntries - 1);
        // SAFETY: index < RingEntries: the record lies inside the completion ring of the mapping.
        record = ChannelRecord.Read(new ReadOnlySpan<byte>(_base + Layout.CmpRingOffset + (index * ChannelLayout.RecordSize), ChannelLayout.RecordSize));
        _cmpHead++;
        // SAFETY: constant header offset inside the mapping.
        Volatile.Write(ref *(uint*)(_base + ChannelLayout.OffCmpHead), _cmpHead);
        return true;
    }

    /// <summary>A span over the region (a request extent this end writes).</summary>
    // SAFETY: callers pass offsets inside the request area of this mapping.
    public Span<byte> Region(long offset, int length) => new(_base + offset, length);

    /// <summary>The bytes of a completion's chunk, which must lie inside the slot the completion names.</summary>
    public ReadOnlySpan<byte> Chunk(in ChannelRecord record)
    {
        // Overflow-safe: the offset within the slot and the length are each bounded by the slot size before they are added.
        var inSlot = record.Slot < (uint)Layout.SlotCount
            && record.Offset >= (ulong)Layout.SlotOffset((int)record.Slot)
            && record.Offset - (ulong)Layout.SlotOffset((int)record.Slot) <= (ulong)Layout.SlotSize
            && record.Length <= (ulong)Layout.SlotSize - (record.Offset - (ulong)Layout.SlotOffset((int)record.Slot));
        if (!inSlot)
        {
            throw new ChannelProtocolException($"the host's completion of request {record.RequestId} points at [{record.Offset}, +{record.Length}), outside its slot {record.Slot}");
        }

        // SAFETY: checked just above to lie inside a slot of the slot area, which lies inside this mapping.
        return new(_base + (long)record.Offset, (int)record.Length);
    }

    public void Dispose()
    {
        _mapping.DangerousRelease();
        _mapping.Dispose();
    }
}
