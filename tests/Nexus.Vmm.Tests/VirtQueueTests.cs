// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Vmm.Devices.Virtio;
using Nexus.Vmm.Devices.Virtio.Transport;
using Nexus.Vmm.VState;

namespace Nexus.Vmm.Tests;

/// <summary>Virtqueue parsing against hostile descriptor tables, on plain guest memory (no KVM).</summary>
public sealed class VirtQueueTests : IDisposable
{
    private const ulong MemSize = 16 << 20;
    private const ulong Desc = 0x1000;
    private const ulong Avail = 0x2000;
    private const ulong Used = 0x3000;
    private const ushort Size = 8;

    private readonly GuestMemory _memory = new();
    private readonly Queue _queue = new(256) { Size = Size, Ready = true, DescTable = Desc, AvailRing = Avail, UsedRing = Used };

    public VirtQueueTests() => _memory.Add(GuestMemory.Anonymous(0, MemSize));

    public void Dispose() => _memory.Dispose();

    [Fact]
    public void ValidChainIsParsedAndReturnedThroughUsedRing()
    {
        SetDesc(0, 0x10000, 16, DescriptorChain.FlagNext, 1);
        SetDesc(1, 0x11000, 512, DescriptorChain.FlagWrite, 0);
        Publish(0);

        var chain = _queue.Pop(_memory)!;
        Assert.Equal(0, chain.Head);
        Assert.Equal(16UL, chain.ReadableLength);
        Assert.Equal(512UL, chain.WritableLength);
        Assert.Null(_queue.Pop(_memory));

        _queue.AddUsed(_memory, chain.Head, 77);
        Assert.Equal(1, _memory.ReadU16(Used + 2));
        Assert.Equal(0u, _memory.ReadU32(Used + 4));
        Assert.Equal(77u, _memory.ReadU32(Used + 8));
    }

    [Fact]
    public void BufferOutsideGuestMemoryIsRejected()
    {
        SetDesc(0, MemSize - 8, 16, 0, 0);
        Publish(0);
        Assert.Equal(VirtQueueError.BufferOutOfBounds, Assert.Throws<VirtQueueException>(() => _queue.Pop(_memory)).Kind);
    }

    [Fact]
    public void HugeLengthIsRejectedWithoutOverflow()
    {
        SetDesc(0, 0x10000, uint.MaxValue, 0, 0);
        Publish(0);
        Assert.Equal(VirtQueueError.BufferOutOfBounds, Assert.Throws<VirtQueueException>(() => _queue.Pop(_memory)).Kind);

        SetDesc(1, ulong.MaxValue - 4, 16, 0, 0);
        Publish(1);
        Assert.Equal(VirtQueueError.BufferOutOfBounds, Assert.Throws<VirtQueueException>(() => _queue.Pop(_memory)).Kind);
    }

    [Fact]
    public void NextIndexOutsideTheTableIsRejected()
    {
        SetDesc(0, 0x10000, 16, DescriptorChain.FlagNext, Size);
        Publish(0);
        Assert.Equal(VirtQueueError.DescriptorIndexOutOfRange, Assert.Throws<VirtQueueException>(() => _queue.Pop(_memory)).Kind);
    }

    [Fact]
    public void HeadOutsideTheTableIsRejected()
    {
        Publish(200);
        Assert.Equal(VirtQueueError.DescriptorIndexOutOfRange, Assert.Throws<VirtQueueException>(() => _queue.Pop(_memory)).Kind);
    }

    [Fact]
    public void LoopingChainEnds()
    {
        SetDesc(0, 0x10000, 16, DescriptorChain.FlagNext, 1);
        SetDesc(1, 0x10000, 16, DescriptorChain.FlagNext, 0);
        Publish(0);
        Assert.Equal(VirtQueueError.ChainTooLong, Assert.Throws<VirtQueueException>(() => _queue.Pop(_memory)).Kind);
    }

    [Fact]
    public void ChainLongerThanTheCapIsRejectedEvenWithValidBuffers()
    {
        var big = new Queue(256) { Size = 256, Ready = true, DescTable = 0x100000, AvailRing = Avail, UsedRing = Used };
        for (ushort i = 0; i < 256; i++)
        {
            WriteDesc(0x100000, i, 0x200000, 8 << 20, i < 255 ? DescriptorChain.FlagNext : (ushort)0, (ushort)(i + 1));
        }

        Publish(0, big);
        Assert.Equal(VirtQueueError.ChainTooLarge, Assert.Throws<VirtQueueException>(() => big.Pop(_memory)).Kind);
    }

    [Fact]
    public void ReadableAfterWritableIsRejected()
    {
        SetDesc(0, 0x10000, 16, DescriptorChain.FlagNext | DescriptorChain.FlagWrite, 1);
        SetDesc(1, 0x11000, 16, 0, 0);
        Publish(0);
        Assert.Equal(VirtQueueError.ReadableAfterWritable, Assert.Throws<VirtQueueException>(() => _queue.Pop(_memory)).Kind);
    }

    [Fact]
    public void AvailIndexFarAheadIsRejected()
    {
        _memory.WriteU16(Avail + 2, Size + 1);
        Assert.Equal(VirtQueueError.InvalidAvailIndex, Assert.Throws<VirtQueueException>(() => _queue.Pop(_memory)).Kind);
    }

    [Fact]
    public void IndirectTableIsFollowed()
    {
        SetDesc(0, 0x20000, 3 * 16, DescriptorChain.FlagIndirect, 0);
        WriteDesc(0x20000, 0, 0x10000, 16, DescriptorChain.FlagNext, 1);
        WriteDesc(0x20000, 1, 0x11000, 100, DescriptorChain.FlagNext | DescriptorChain.FlagWrite, 2);
        WriteDesc(0x20000, 2, 0x12000, 1, DescriptorChain.FlagWrite, 0);
        Publish(0);

        var chain = _queue.Pop(_memory)!;
        Assert.Equal(3, chain.Buffers.Count);
        Assert.Equal(16UL, chain.ReadableLength);
        Assert.Equal(101UL, chain.WritableLength);
    }

    [Fact]
    public void HostileIndirectTablesAreRejected()
    {
        // Nested indirect.
        SetDesc(0, 0x20000, 16, DescriptorChain.FlagIndirect, 0);
        WriteDesc(0x20000, 0, 0x21000, 16, DescriptorChain.FlagIndirect, 0);
        Publish(0);
        Assert.Equal(VirtQueueError.NestedIndirect, Assert.Throws<VirtQueueException>(() => _queue.Pop(_memory)).Kind);

        // Length not a whole number of descriptors, indirect with NEXT, table outside memory.
        foreach (var (addr, len, flags) in new (ulong, uint, ushort)[]
        {
            (0x20000, 17, DescriptorChain.FlagIndirect),
            (0x20000, 32, DescriptorChain.FlagIndirect | DescriptorChain.FlagNext),
            (MemSize - 16, 32, DescriptorChain.FlagIndirect),
        })
        {
            SetDesc(1, addr, len, flags, 0);
            Publish(1);
            Assert.Equal(VirtQueueError.InvalidIndirectTable, Assert.Throws<VirtQueueException>(() => _queue.Pop(_memory)).Kind);
        }

        // A loop inside the indirect table.
        SetDesc(2, 0x22000, 32, DescriptorChain.FlagIndirect, 0);
        WriteDesc(0x22000, 0, 0x10000, 8, DescriptorChain.FlagNext, 1);
        WriteDesc(0x22000, 1, 0x10000, 8, DescriptorChain.FlagNext, 0);
        Publish(2);
        Assert.Equal(VirtQueueError.ChainTooLong, Assert.Throws<VirtQueueException>(() => _queue.Pop(_memory)).Kind);
    }

    [Fact]
    public void TransportRefusesQueuesOutsideMemoryAndMarksNeedsReset()
    {
        var device = new NullDevice();
        var transport = new MmioTransport(device, _memory, new VirtioInterrupt(() => { }));
        Write(transport, 0x70, 1);
        Write(transport, 0x70, 3);
        Write(transport, 0x24, 1);
        Write(transport, 0x20, 1);
        Write(transport, 0x70, 0xb);
        Assert.Equal(0xbu, Read(transport, 0x70));
        Write(transport, 0x38, 8);
        Write(transport, 0x80, 0xffff_f000);
        Write(transport, 0x84, 0xffff);
        Write(transport, 0x44, 1);
        Write(transport, 0x70, 0xf);

        Assert.False(transport.Activated);
        Assert.NotEqual(0u, Read(transport, 0x70) & MmioTransport.StatusNeedsReset);
        Assert.NotNull(transport.LastError);
    }

    [Fact]
    public void TransportWithoutVersion1RefusesFeaturesOk()
    {
        var transport = new MmioTransport(new NullDevice(), _memory, new VirtioInterrupt(() => { }));
        Write(transport, 0x70, 1);
        Write(transport, 0x70, 3);
        Write(transport, 0x70, 0xb);
        Assert.Equal(3u, Read(transport, 0x70));
        Assert.Equal(0x74726976u, Read(transport, 0));
        Assert.Equal(2u, Read(transport, 4));
    }

    private static void Write(MmioTransport t, ulong offset, uint value) => t.Write(offset, BitConverter.GetBytes(value));

    private static uint Read(MmioTransport t, ulong offset)
    {
        var b = new byte[4];
        t.Read(offset, b);
        return BitConverter.ToUInt32(b);
    }

    private void SetDesc(ushort index, ulong address, uint length, ushort flags, ushort next) =>
        WriteDesc(Desc, index, address, length, flags, next);

    private void WriteDesc(ulong table, ushort index, ulong address, uint length, ushort flags, ushort next)
    {
        var at = table + (index * 16UL);
        _memory.WriteU64(at, address);
        _memory.WriteU32(at + 8, length);
        _memory.WriteU16(at + 12, flags);
        _memory.WriteU16(at + 14, next);
    }

    private void Publish(ushort head, Queue? queue = null)
    {
        queue ??= _queue;
        var idx = _memory.ReadU16(Avail + 2);
        _memory.WriteU16(Avail + 4 + (2UL * (ulong)(idx % queue.Size)), head);
        _memory.WriteU16(Avail + 2, (ushort)(idx + 1));
    }

    private sealed class NullDevice : IVirtioDevice
    {
        public uint DeviceType => 2;

        public ulong AvailableFeatures => 1UL << 32;

        public IReadOnlyList<Queue> Queues { get; } = [new Queue(16)];

        public void Activate(GuestMemory memory, VirtioInterrupt interrupt, ulong ackedFeatures)
        {
        }

        public void ProcessQueue(int index)
        {
        }

        public void ReadConfig(ulong offset, Span<byte> data)
        {
        }

        public void Reset()
        {
        }

        public void WriteConfig(ulong offset, ReadOnlySpan<byte> data)
        {
        }
    }
}
