// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;
using CsCheck;
using Nexus.Vmm.Devices.Virtio;
using Nexus.Vmm.Devices.Virtio.Vsock;
using Nexus.Vmm.VState;

namespace Nexus.Vmm.Tests;

/// <summary>
/// Properties of the virtqueue chain walker and the vsock header on generated guest data (CsCheck), on plain guest
/// memory with two regions and a hole (no KVM): whatever the guest wrote, the walker returns a chain whose buffers
/// all lie in guest memory, readable before writable, within the length cap, or refuses with
/// <see cref="VirtQueueException"/>; a vsock header reads back what was written and passes its check only when its
/// payload fits the chain and the cap.
/// </summary>
public sealed class VirtQueuePropertyTests : IDisposable
{
    private const ulong LowSize = 0x10000;
    private const ulong HighStart = 0x20000;
    private const ulong HighSize = 0x1000;
    private const ulong Table = 0x1000;

    private readonly GuestMemory _memory = new();

    public VirtQueuePropertyTests()
    {
        _memory.Add(GuestMemory.Anonymous(0, LowSize));
        _memory.Add(GuestMemory.Anonymous(HighStart, HighSize));
    }

    public void Dispose() => _memory.Dispose();

    /// <summary>Guest addresses: mostly near the edges of the regions and the hole, where bounds checks matter.</summary>
    private static readonly Gen<ulong> s_address = Gen.Frequency(
        (3, Gen.ULong[0, LowSize + 64]),
        (2, Gen.OneOf([LowSize - 16, LowSize - 1, LowSize, HighStart - 8, HighStart, HighStart + HighSize - 16, HighStart + HighSize, Table, Table + 0x100]).SelectMany(a => Gen.Int[-4, 4].Select(d => a + (ulong)(long)d))),
        (1, Gen.ULong));

    private static readonly Gen<uint> s_length = Gen.Frequency(
        (3, Gen.UInt[0, 0x2000]),
        (1, Gen.OneOf([0u, 16u, 44u, 0x1000u, 0x10000u, uint.MaxValue, uint.MaxValue - 15])),
        (1, Gen.UInt));

    private static readonly Gen<ushort> s_flags = Gen.Frequency(
        (4, Gen.UShort[0, 7]),
        (1, Gen.UShort));

    private static readonly Gen<(ulong Address, uint Length, ushort Flags, ushort Next)> s_descriptor =
        Gen.Select(s_address, s_length, s_flags, Gen.Frequency((4, Gen.UShort[0, 16]), (1, Gen.UShort)));

    [Fact]
    public void ChainWalkerReturnsBoundedChainsOrRefuses() =>
        Gen.Select(s_descriptor.Array[1, 24], s_descriptor.Array[0, 8], Gen.UShort[1, 16], Gen.UShort[0, 20])
            .Sample((descriptors, indirect, queueSize, head) =>
            {
                _memory.GetSpan(Table, 0x200).Clear();
                for (var i = 0; i < descriptors.Length && i < 16; i++)
                {
                    Write(Table + ((ulong)i * 16), descriptors[i]);
                }

                // A second table where indirect descriptors may point (Table + 0x100).
                for (var i = 0; i < indirect.Length; i++)
                {
                    Write(Table + 0x100 + ((ulong)i * 16), indirect[i]);
                }

                DescriptorChain chain;
                try
                {
                    chain = DescriptorChain.Parse(_memory, Table, queueSize, head);
                }
                catch (VirtQueueException)
                {
                    return;
                }

                Assert.True(head < queueSize, $"head {head} outside a queue of {queueSize} was accepted");
                AssertChainInvariants(chain, queueSize);
            }, iter: 20000, threads: 1);

    [Fact]
    public void AvailIndexFurtherThanAQueueAheadIsRefused() =>
        Gen.Select(Gen.UShort, Gen.UShort, Gen.OneOf<ushort>([1, 2, 4, 8, 16, 256]))
            .Sample((availIdx, nextAvail, size) =>
            {
                var queue = new Queue(256) { Size = size, Ready = true, DescTable = Table, AvailRing = 0x4000, UsedRing = 0x5000, NextAvail = nextAvail };
                _memory.GetSpan(Table, (int)size * 16).Clear();
                _memory.GetSpan(0x4000, 0x1000).Clear();
                _memory.WriteU16(0x4000 + 2, availIdx);
                var pending = (ushort)(availIdx - nextAvail);
                try
                {
                    var chain = queue.Pop(_memory);
                    Assert.True(pending <= size, $"{pending} pending entries in a queue of {size} were accepted");
                    Assert.Equal(pending == 0, chain is null);
                }
                catch (VirtQueueException e)
                {
                    Assert.Equal(VirtQueueError.InvalidAvailIndex, e.Kind);
                    Assert.True(pending > size, $"{pending} pending entries in a queue of {size} were refused");
                }
            }, iter: 20000, threads: 1);

    [Fact]
    public void VsockHeaderRoundTripsAndItsCheckBoundsThePayload() =>
        Gen.Select(Gen.ULong[0, 4], Gen.ULong[0, 4], Gen.UInt, Gen.UInt, Gen.Frequency((3, Gen.UInt[0, 70000]), (1, Gen.UInt)), Gen.UShort[0, 3], Gen.UShort[0, 9], Gen.UInt)
            .Sample((src, dst, srcPort, dstPort, len, type, op, readable) =>
            {
                var header = new VsockHeader(src, dst, srcPort, dstPort, len, type, (VsockOp)op, readable, readable ^ 0xffff, len);
                Span<byte> bytes = stackalloc byte[VsockHeader.Size];
                header.Write(bytes);
                Assert.Equal(header, VsockHeader.Read(bytes));

                var chainReadable = (ulong)(readable % 0x20000);
                var check = header.Check(3, chainReadable, VirtioVsock.MaxPayload);
                var forHost = src == 3 && dst == VsockHeader.HostCid;
                var wellFormed = type == VsockHeader.TypeStream && op is >= 1 and <= 7 && len <= VirtioVsock.MaxPayload
                    && chainReadable >= VsockHeader.Size && len <= chainReadable - VsockHeader.Size;
                Assert.Equal(!forHost ? VsockPacketCheck.NotForHost : wellFormed ? VsockPacketCheck.Valid : VsockPacketCheck.Malformed, check);
            }, iter: 20000, threads: 1);

    private void AssertChainInvariants(DescriptorChain chain, int queueSize)
    {
        Assert.NotEmpty(chain.Buffers);
        var seenWritable = false;
        ulong readable = 0, writable = 0;
        foreach (var b in chain.Buffers)
        {
            Assert.True(_memory.IsValid(b.Address, b.Length), $"buffer 0x{b.Address:x}+0x{b.Length:x} is outside guest memory");
            Assert.False(!b.Writable && seenWritable, "a device-readable buffer follows a device-writable one");
            seenWritable |= b.Writable;
            if (b.Writable)
            {
                writable += b.Length;
            }
            else
            {
                readable += b.Length;
            }
        }

        Assert.Equal(readable, chain.ReadableLength);
        Assert.Equal(writable, chain.WritableLength);
        Assert.True(readable + writable <= DescriptorChain.MaxTotalLength);

        // Each descriptor is visited once: at most the queue's table, then one indirect table inside the low region.
        Assert.True(chain.Buffers.Count <= queueSize + (int)(LowSize / 16), $"{chain.Buffers.Count} buffers from a queue of {queueSize}");
    }

    private void Write(ulong at, (ulong Address, uint Length, ushort Flags, ushort Next) d)
    {
        var span = _memory.GetSpan(at, 16);
        BinaryPrimitives.WriteUInt64LittleEndian(span, d.Address);
        BinaryPrimitives.WriteUInt32LittleEndian(span[8..], d.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(span[12..], d.Flags);
        BinaryPrimitives.WriteUInt16LittleEndian(span[14..], d.Next);
    }
}
