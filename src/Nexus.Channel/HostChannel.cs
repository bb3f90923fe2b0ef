// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers;
using System.Buffers.Binary;

namespace Nexus.Channel;

/// <summary>The sandbox broke the channel protocol (lying ring index, malformed record); the channel is closed.</summary>
public sealed class ChannelProtocolException : Exception
{
    public ChannelProtocolException()
    {
    }

    public ChannelProtocolException(string message)
        : base(message)
    {
    }

    public ChannelProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// The host end of one instance's channel: the rings and areas of a <see cref="ChannelRegion"/>, the doorbell the
/// sandbox rings and the one the host rings. Ring positions the host owns are kept privately; the copies in shared
/// memory are written for the sandbox and never read back. Knows nothing of how the sandbox reaches the region (a
/// process's descriptors, a micro-VM's memory slot): that is the driver's <see cref="ProcessChannel"/> or equivalent.
/// </summary>
public sealed unsafe class HostChannel : IDisposable
{
    private readonly ChannelRegion _region;
    private readonly byte* _base;
    private readonly object _completionLock = new();
    private uint _subHead;
    private uint _cmpTail;
    private int _disposed;

    /// <summary>Takes ownership of the region and both doorbells.</summary>
    public HostChannel(ChannelRegion region, IHostDoorbell fromSandbox, ISandboxDoorbell toSandbox, ChannelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(region);
        Layout = new ChannelLayout(options ?? new ChannelOptions());
        if (Layout.RegionSize > region.Size)
        {
            throw new ArgumentException($"the layout needs {Layout.RegionSize} bytes; the region has {region.Size}", nameof(region));
        }

        _region = region;
        _base = region.Base;
        FromSandbox = fromSandbox;
        ToSandbox = toSandbox;
        WriteHeader();
    }

    public ChannelLayout Layout { get; }

    /// <summary>Frees the pages of a response slot nobody holds (<see cref="ChannelRegion.Release"/>).</summary>
    internal void ReleaseSlotPages(int slot)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        _region.Release(Layout.SlotOffset(slot), Layout.SlotSize);
    }

    /// <summary>Rung by the sandbox; the service host polls it.</summary>
    public IHostDoorbell FromSandbox { get; }

    /// <summary>Rung by the host after posting completions.</summary>
    public ISandboxDoorbell ToSandbox { get; }

    /// <summary>
    /// Copies up to <paramref name="into"/>.Length new submission records into private memory and consumes them.
    /// Throws <see cref="ChannelProtocolException"/> when the sandbox's tail index is impossible.
    /// </summary>
    public int DrainSubmissions(Span<ChannelRecord> into)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        // SAFETY: the offset is a constant inside the header page of the live mapping; one 4-byte aligned read.
        var tail = Volatile.Read(ref *(uint*)(_base + ChannelLayout.OffSubTail));
        var available = unchecked(tail - _subHead);
        if (available > (uint)Layout.RingEntries)
        {
            throw new ChannelProtocolException($"submission tail {tail} is {available} records ahead of head {_subHead} (ring holds {Layout.RingEntries})");
        }

        var n = (int)Math.Min(available, (uint)into.Length);
        for (var i = 0; i < n; i++)
        {
            var index = (_subHead + (uint)i) & (uint)(Layout.RingEntries - 1);
            // SAFETY: index < RingEntries, so the 64-byte record lies inside the submission ring of the mapping.
            into[i] = ChannelRecord.Read(new ReadOnlySpan<byte>(_base + Layout.SubRingOffset + ((long)index * ChannelLayout.RecordSize), ChannelLayout.RecordSize));
        }

        _subHead += (uint)n;
        // SAFETY: constant header offset inside the mapping.
        Volatile.Write(ref *(uint*)(_base + ChannelLayout.OffSubHead), _subHead);
        // Answered even when nothing was left to take: the sandbox may have seen a full ring just before the previous
        // drain emptied it, and it sleeps until rung (a lost wake-up otherwise, a 30 s stall and a closed channel).
        if (Volatile.Read(ref *(uint*)(_base + ChannelLayout.OffSandboxWantsSubSpace)) != 0)
        {
            // SAFETY: constant header offset inside the mapping.
            Volatile.Write(ref *(uint*)(_base + ChannelLayout.OffSandboxWantsSubSpace), 0u);
            ToSandbox.Ring();
        }

        return n;
    }

    /// <summary>
    /// Posts a completion record without ringing the doorbell; false when the ring is full (the host then asks the
    /// sandbox to ring back when it has consumed). Throws when the sandbox's head index is impossible.
    /// </summary>
    public bool TryPostCompletion(in ChannelRecord record)
    {
        lock (_completionLock)
        {
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            // SAFETY: constant header offset inside the mapping.
            var head = Volatile.Read(ref *(uint*)(_base + ChannelLayout.OffCmpHead));
            var used = unchecked(_cmpTail - head);
            if (used > (uint)Layout.RingEntries)
            {
                throw new ChannelProtocolException($"completion head {head} is not within {Layout.RingEntries} records behind tail {_cmpTail}");
            }

            if (used == (uint)Layout.RingEntries)
            {
                // Ask to be rung, then look again: the sandbox may have drained the ring between the read of its head
                // and this flag without seeing the flag (a store then a load on both sides needs the full fence).
                // SAFETY: constant header offsets inside the mapping.
                Volatile.Write(ref *(uint*)(_base + ChannelLayout.OffHostWantsCmpSpace), 1u);
                Interlocked.MemoryBarrier();
                head = Volatile.Read(ref *(uint*)(_base + ChannelLayout.OffCmpHead));
                if (unchecked(_cmpTail - head) >= (uint)Layout.RingEntries)
                {
                    return false;
                }
            }

            var index = _cmpTail & (uint)(Layout.RingEntries - 1);
            // SAFETY: index < RingEntries, so the record lies inside the completion ring of the mapping.
            record.Write(new Span<byte>(_base + Layout.CmpRingOffset + ((long)index * ChannelLayout.RecordSize), ChannelLayout.RecordSize));
            _cmpTail++;
            // SAFETY: constant header offset inside the mapping; the record bytes above are written before the tail.
            Volatile.Write(ref *(uint*)(_base + ChannelLayout.OffCmpTail), _cmpTail);
            return true;
        }
    }

    /// <summary>Tells the sandbox the host has closed this channel (every pending call fails) and rings it.</summary>
    /// <summary>Whether a completion could be posted now (the sandbox has consumed at least one record).</summary>
    public bool HasCompletionSpace
    {
        get
        {
            lock (_completionLock)
            {
                // Disposed: "yes", so that the caller's next post fails with the reason.
                if (_disposed != 0)
                {
                    return true;
                }

                // SAFETY: constant header offset inside the live mapping (not disposed, under the lock); a hostile
                // value only makes this answer wrong, and TryPostCompletion validates it.
                var head = Volatile.Read(ref *(uint*)(_base + ChannelLayout.OffCmpHead));
                return unchecked(_cmpTail - head) < (uint)Layout.RingEntries;
            }
        }
    }

    public void MarkClosed()
    {
        lock (_completionLock)
        {
            if (_disposed != 0)
            {
                return;
            }

            // SAFETY: constant header offset inside the live mapping (checked under the lock Dispose takes).
            Volatile.Write(ref *(uint*)(_base + ChannelLayout.OffHostClosed), 1u);
            ToSandbox.Ring();
        }
    }

    /// <summary>Rings the sandbox's doorbell.</summary>
    public void SignalSandbox() => ToSandbox.Ring();

    /// <summary>
    /// A span over a request-area extent the caller has validated with <see cref="ChannelLayout.InRequestArea"/>.
    /// The bytes are shared: copy what decisions depend on before using it.
    /// </summary>
    public ReadOnlySpan<byte> RequestBytes(ulong offset, uint length)
    {
        if (!Layout.InRequestArea(offset, length))
        {
            throw new ChannelProtocolException($"extent [{offset}, +{length}) is outside the request area");
        }

        // SAFETY: the extent was bounds-checked against the request area, which lies inside the mapping.
        return new ReadOnlySpan<byte>(_base + (long)offset, (int)length);
    }

    /// <summary>Memory over a request-area extent (for async consumers); bounds-checked like <see cref="RequestBytes"/>.</summary>
    public ReadOnlyMemory<byte> RequestMemory(ulong offset, uint length)
    {
        if (!Layout.InRequestArea(offset, length))
        {
            throw new ChannelProtocolException($"extent [{offset}, +{length}) is outside the request area");
        }

        return new RegionMemoryManager(_base + (long)offset, (int)length).Memory;
    }

    /// <summary>Writable memory over response slot <paramref name="slot"/> (host-owned while not lent).</summary>
    public Memory<byte> SlotMemory(int slot)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slot);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(slot, Layout.SlotCount);
        return new RegionMemoryManager(_base + Layout.SlotOffset(slot), Layout.SlotSize).Memory;
    }

    /// <summary>Unmaps and closes everything; dispose (await) the session serving this channel first.</summary>
    public void Dispose()
    {
        lock (_completionLock)
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
            {
                return;
            }
        }

        FromSandbox.Dispose();
        ToSandbox.Dispose();
        _region.Dispose();
    }

    private void WriteHeader()
    {
        // SAFETY: the header page is the first 4096 bytes of the mapping, which is larger than that (layout check).
        var header = new Span<byte>(_base, ChannelLayout.HeaderSize);
        header.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(header[ChannelLayout.OffMagic..], ChannelLayout.Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(header[ChannelLayout.OffVersion..], ChannelLayout.Version);
        BinaryPrimitives.WriteUInt16LittleEndian(header[ChannelLayout.OffRecordSize..], ChannelLayout.RecordSize);
        BinaryPrimitives.WriteUInt64LittleEndian(header[ChannelLayout.OffRegionSize..], (ulong)Layout.RegionSize);
        BinaryPrimitives.WriteUInt32LittleEndian(header[ChannelLayout.OffSubEntries..], (uint)Layout.RingEntries);
        BinaryPrimitives.WriteUInt32LittleEndian(header[ChannelLayout.OffCmpEntries..], (uint)Layout.RingEntries);
        BinaryPrimitives.WriteUInt64LittleEndian(header[ChannelLayout.OffSubRing..], (ulong)Layout.SubRingOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(header[ChannelLayout.OffCmpRing..], (ulong)Layout.CmpRingOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(header[ChannelLayout.OffRequestArea..], (ulong)Layout.RequestAreaOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(header[ChannelLayout.OffRequestAreaSize..], (ulong)Layout.RequestAreaSize);
        BinaryPrimitives.WriteUInt64LittleEndian(header[ChannelLayout.OffSlotArea..], (ulong)Layout.SlotAreaOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(header[ChannelLayout.OffSlotSize..], (uint)Layout.SlotSize);
        BinaryPrimitives.WriteUInt32LittleEndian(header[ChannelLayout.OffSlotCount..], (uint)Layout.SlotCount);
        BinaryPrimitives.WriteUInt32LittleEndian(header[ChannelLayout.OffMaxHeader..], (uint)Layout.MaxHeaderBytes);
    }

    /// <summary>Memory&lt;byte&gt; over a range of the mapping, so async APIs (the SDK's streams) read and write in place.</summary>
    private sealed class RegionMemoryManager : MemoryManager<byte>
    {
        private readonly byte* _pointer;
        private readonly int _length;

        public RegionMemoryManager(byte* pointer, int length)
        {
            _pointer = pointer;
            _length = length;
        }

        // SAFETY: the range was bounds-checked by the creator, and the mapping outlives the channel's users: an owner
        // disposes the session first, whose disposal waits for its requests, the doorbell thread's drain and held work
        // (ChannelSession.DisposeAsync, Hold).
        public override Span<byte> GetSpan() => new(_pointer, _length);

        // SAFETY: native memory never moves, so no pinning is needed.
        public override MemoryHandle Pin(int elementIndex = 0) => new(_pointer + elementIndex);

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
        }
    }
}
