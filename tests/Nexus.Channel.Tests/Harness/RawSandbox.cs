// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;
using Nexus.Channel;
using Nexus.Interop;

namespace Nexus.Testing.Channel;

/// <summary>
/// A hostile sandbox written in C#: its own mapping of the channel region, writing whatever bytes a test wants into
/// rings and the request area, and reading completions back.
/// </summary>
public sealed class RawSandbox : IDisposable
{
    private readonly ProcessChannel _channel;
    private readonly SafeMemoryMapping _mapping;
    private readonly nint _base;
    private uint _subTail;
    private uint _cmpHead;

    public RawSandbox(ProcessChannel channel)
    {
        _channel = channel;
        _mapping = Memory.MapShared(channel.RegionFd, channel.Layout.RegionSize);
        var added = false;
        _mapping.DangerousAddRef(ref added);
        _base = _mapping.Address;
    }

    public ChannelLayout Layout => _channel.Layout;

    // SAFETY: the test owns this mapping for its lifetime and RegionSize is its exact length.
    public unsafe Span<byte> Region => new((void*)_base, (int)_channel.Layout.RegionSize);

    public uint SubTail
    {
        get => _subTail;
        set
        {
            _subTail = value;
            BinaryPrimitives.WriteUInt32LittleEndian(Region[ChannelLayout.OffSubTail..], value);
        }
    }

    /// <summary>Writes <paramref name="bytes"/> into the request area at <paramref name="relative"/> and returns the absolute offset.</summary>
    public ulong WriteRequestBytes(int relative, ReadOnlySpan<byte> bytes)
    {
        var offset = (int)Layout.RequestAreaOffset + relative;
        bytes.CopyTo(Region[offset..]);
        return (ulong)offset;
    }

    /// <summary>Places a record in the submission ring, publishes it and rings the host.</summary>
    public void Submit(ChannelRecord record, bool ring = true)
    {
        var index = _subTail & (uint)(Layout.RingEntries - 1);
        record.Write(Region[(int)(Layout.SubRingOffset + (index * ChannelLayout.RecordSize))..]);
        SubTail = _subTail + 1;
        if (ring)
        {
            _channel.ToHost.Signal();
        }
    }

    /// <summary>Submits a well-formed request whose message (header JSON, body) sits at the start of the request area.</summary>
    public void SubmitRequest(ulong id, ChannelOp op, string json, int relative = 0) =>
        SubmitRequest(id, op, System.Text.Encoding.UTF8.GetBytes(json), relative);

    /// <summary>As the string overload, with the header's bytes as given (they need not be valid UTF-8).</summary>
    public void SubmitRequest(ulong id, ChannelOp op, ReadOnlySpan<byte> header, int relative = 0)
    {
        var offset = WriteRequestBytes(relative, header);
        Submit(new ChannelRecord { RequestId = id, Op = op, Offset = offset, Length = (uint)header.Length, HeaderLength = (uint)header.Length, Slot = ChannelRecord.NoSlot });
    }

    /// <summary>Takes the next completion, polling (tests only) until one is there or the limit passes.</summary>
    public async Task<ChannelRecord?> NextCompletionAsync(TimeSpan limit, bool consume = true)
    {
        var until = DateTime.UtcNow + limit;
        while (DateTime.UtcNow < until)
        {
            if (CompletionTail() != _cmpHead)
            {
                var index = _cmpHead & (uint)(Layout.RingEntries - 1);
                var record = ChannelRecord.Read(Region[(int)(Layout.CmpRingOffset + (index * ChannelLayout.RecordSize))..]);
                if (consume)
                {
                    _cmpHead++;
                    BinaryPrimitives.WriteUInt32LittleEndian(Region[ChannelLayout.OffCmpHead..], _cmpHead);
                }

                return record;
            }

            await Task.Delay(5);
        }

        return null;
    }

    private unsafe uint CompletionTail()
    {
        // SAFETY: constant header offset inside this test's live mapping.
        return Volatile.Read(ref *(uint*)(_base + ChannelLayout.OffCmpTail));
    }

    /// <summary>The JSON header of a completion (first chunk only).</summary>
    public string HeaderOf(ChannelRecord record) =>
        System.Text.Encoding.UTF8.GetString(Region.Slice((int)record.Offset, (int)record.HeaderLength));

    /// <summary>Returns a response slot to the host.</summary>
    public void Release(uint slot) => Submit(new ChannelRecord { Op = ChannelOp.Release, Slot = slot });

    /// <summary>One aligned 4-byte load of a header word, as the host reads it.</summary>
    public unsafe uint ReadHeaderWord(int offset)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset, ChannelLayout.HeaderSize - sizeof(uint));
        // SAFETY: offset checked to lie inside the header page of this test's live mapping.
        return Volatile.Read(ref *(uint*)(_base + offset));
    }

    public bool HostClosed => BinaryPrimitives.ReadUInt32LittleEndian(Region[ChannelLayout.OffHostClosed..]) != 0;

    public void Dispose()
    {
        _mapping.DangerousRelease();
        _mapping.Dispose();
    }
}
