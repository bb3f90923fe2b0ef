// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;
using Nexus.Vmm.Devices.Virtio;
using Nexus.Vmm.Devices.Virtio.Vsock;
using Nexus.Vmm.VState;

namespace Nexus.Fuzz.Targets;

/// <summary>
/// The device side of a split virtqueue as the vsock TX path uses it: queue settings the driver chose, avail ring,
/// descriptor chains (direct and indirect) and the 44-byte vsock header at the front of each chain, all written by
/// the guest into real guest memory (two regions with a hole between them). Input: u16 queue size, u16 next avail,
/// u16 descriptor table, avail ring and used ring addresses, then the bytes of guest RAM from address 0.
/// Invariants: only <see cref="VirtQueueException"/> refuses a queue; every buffer of a chain lies inside one guest
/// region; device-readable buffers come first; lengths are the sums of the buffers and within the cap; the chain's
/// bytes can be copied in full; a header that passes <see cref="VsockHeader.Check"/> carries a payload the chain holds.
/// </summary>
public sealed class VirtioTarget : IFuzzTarget
{
    private const int SettingsBytes = 10;
    private const ulong HoleStart = 0x4000;
    private const ulong SecondRegion = 0x8000;
    private const ulong SecondRegionSize = 0x1000;
    private const ulong GuestCid = 3;

    private readonly GuestMemory _memory = new();
    private readonly byte[] _scratch = new byte[VirtioVsock.MaxPayload];

    public VirtioTarget()
    {
        _memory.Add(GuestMemory.Anonymous(0, HoleStart));
        _memory.Add(GuestMemory.Anonymous(SecondRegion, SecondRegionSize));
        InterestingValues =
        [
            HoleStart, HoleStart - 16, HoleStart - VsockHeader.Size, SecondRegion, SecondRegion + SecondRegionSize,
            DescriptorChain.FlagNext, DescriptorChain.FlagWrite, DescriptorChain.FlagIndirect, DescriptorChain.MaxTotalLength,
            GuestCid, VsockHeader.HostCid, (ulong)VirtioVsock.MaxPayload, VirtioVsock.QueueSize, (ulong)VsockOp.Rw,
        ];
        Seeds = [RequestPacket(), DataPacket(), IndirectPacket()];
    }

    public string Name => "virtio";

    public IReadOnlyList<byte[]> Seeds { get; }

    public IReadOnlyList<ulong> InterestingValues { get; }

    public int MaxInputLength => SettingsBytes + 0x800;

    public FuzzOutcome Execute(ReadOnlySpan<byte> input)
    {
        Span<byte> settings = stackalloc byte[SettingsBytes];
        input[..Math.Min(SettingsBytes, input.Length)].CopyTo(settings);
        var ram = _memory.GetSpan(0, (int)HoleStart);
        ram.Clear();
        _memory.GetSpan(SecondRegion, (int)SecondRegionSize).Clear();
        input[Math.Min(SettingsBytes, input.Length)..].CopyTo(ram);

        var queue = new Queue(VirtioVsock.QueueSize)
        {
            Size = BinaryPrimitives.ReadUInt16LittleEndian(settings),
            NextAvail = BinaryPrimitives.ReadUInt16LittleEndian(settings[2..]),
            DescTable = BinaryPrimitives.ReadUInt16LittleEndian(settings[4..]),
            AvailRing = BinaryPrimitives.ReadUInt16LittleEndian(settings[6..]),
            UsedRing = BinaryPrimitives.ReadUInt16LittleEndian(settings[8..]),
            Ready = true,
        };
        if (!queue.IsValid(_memory))
        {
            // The transport refuses to activate a queue whose rings are not inside guest memory.
            return FuzzOutcome.Rejected;
        }

        try
        {
            // At most a queue's worth: Pop refuses an avail index further ahead.
            for (var i = 0; i <= queue.Size && queue.Pop(_memory) is { } chain; i++)
            {
                FuzzInvariantException.Check(chain.Head < queue.Size, $"chain head {chain.Head} is outside a queue of {queue.Size}");
                CheckChain(chain);
                queue.AddUsed(_memory, chain.Head, (uint)Math.Min(chain.WritableLength, uint.MaxValue));
            }
        }
        catch (VirtQueueException)
        {
            return FuzzOutcome.Rejected;
        }

        return FuzzOutcome.Accepted;
    }

    public void Dispose() => _memory.Dispose();

    private void CheckChain(DescriptorChain chain)
    {
        ulong readable = 0, writable = 0;
        var seenWritable = false;
        foreach (var buffer in chain.Buffers)
        {
            FuzzInvariantException.Check(_memory.IsValid(buffer.Address, buffer.Length), $"buffer 0x{buffer.Address:x}+0x{buffer.Length:x} is outside guest memory");
            FuzzInvariantException.Check(buffer.Writable || !seenWritable, "a device-readable buffer follows a device-writable one");
            seenWritable |= buffer.Writable;
            if (buffer.Writable)
            {
                writable += buffer.Length;
            }
            else
            {
                readable += buffer.Length;
            }
        }

        FuzzInvariantException.Check(chain.Buffers.Count > 0, "an empty chain was accepted");
        FuzzInvariantException.Check(readable == chain.ReadableLength && writable == chain.WritableLength, "chain lengths are not the sums of its buffers");
        FuzzInvariantException.Check(readable + writable <= DescriptorChain.MaxTotalLength, "chain exceeds the length cap");

        var readSize = (int)Math.Min(readable, (ulong)_scratch.Length);
        FuzzInvariantException.Check(chain.ReadReadable(_memory, 0, _scratch.AsSpan(0, readSize)) == readSize, "the chain's readable bytes could not all be copied");
        var writeSize = (int)Math.Min(writable, 256UL);
        FuzzInvariantException.Check(chain.WriteWritable(_memory, 0, _scratch.AsSpan(0, writeSize)) == writeSize, "the chain's writable bytes could not all be written");

        if (readable >= VsockHeader.Size)
        {
            CheckVsockHeader(chain, readable);
        }
    }

    private void CheckVsockHeader(DescriptorChain chain, ulong readable)
    {
        Span<byte> raw = stackalloc byte[VsockHeader.Size];
        chain.ReadReadable(_memory, 0, raw);
        var header = VsockHeader.Read(raw);
        Span<byte> again = stackalloc byte[VsockHeader.Size];
        header.Write(again);
        FuzzInvariantException.Check(again.SequenceEqual(raw), "a vsock header does not write back to the bytes it was read from");
        if (header.Check(GuestCid, readable, VirtioVsock.MaxPayload) != VsockPacketCheck.Valid)
        {
            return;
        }

        FuzzInvariantException.Check(header.Len <= VirtioVsock.MaxPayload && header.Len <= readable - VsockHeader.Size, $"a valid header's length {header.Len} is past the cap or the chain");
        FuzzInvariantException.Check(header.SrcCid == GuestCid && header.DstCid == VsockHeader.HostCid && header.Type == VsockHeader.TypeStream, "a valid header is not a stream from the guest to the host");
        var payload = _scratch.AsSpan(0, (int)header.Len);
        FuzzInvariantException.Check(chain.ReadReadable(_memory, VsockHeader.Size, payload) == payload.Length, "a valid header's payload could not be read from the chain");
    }

    // Seed layout: descriptor table at 0x0 (8 entries), avail ring at 0x80, used ring at 0xc0, buffers from 0x200.
    private static byte[] Settings(ushort availIdx)
    {
        var seed = new byte[SettingsBytes + 0x400];
        BinaryPrimitives.WriteUInt16LittleEndian(seed, 8);
        BinaryPrimitives.WriteUInt16LittleEndian(seed.AsSpan(4), 0x0);
        BinaryPrimitives.WriteUInt16LittleEndian(seed.AsSpan(6), 0x80);
        BinaryPrimitives.WriteUInt16LittleEndian(seed.AsSpan(8), 0xc0);
        BinaryPrimitives.WriteUInt16LittleEndian(Ram(seed, 0x80 + 2), availIdx);
        return seed;
    }

    private static Span<byte> Ram(byte[] seed, int address) => seed.AsSpan(SettingsBytes + address);

    private static void Descriptor(byte[] seed, int table, int index, ulong address, uint length, ushort flags, ushort next)
    {
        var d = Ram(seed, table + (index * DescriptorChain.DescriptorSize));
        BinaryPrimitives.WriteUInt64LittleEndian(d, address);
        BinaryPrimitives.WriteUInt32LittleEndian(d[8..], length);
        BinaryPrimitives.WriteUInt16LittleEndian(d[12..], flags);
        BinaryPrimitives.WriteUInt16LittleEndian(d[14..], next);
    }

    private static void Header(byte[] seed, int address, VsockOp op, uint length) =>
        new VsockHeader(GuestCid, VsockHeader.HostCid, 1024, 5000, length, VsockHeader.TypeStream, op, 0, 65536, 0).Write(Ram(seed, address));

    /// <summary>One chain of one readable descriptor: a vsock REQUEST.</summary>
    private static byte[] RequestPacket()
    {
        var seed = Settings(1);
        Descriptor(seed, 0, 0, 0x200, VsockHeader.Size, 0, 0);
        Header(seed, 0x200, VsockOp.Request, 0);
        return seed;
    }

    /// <summary>Two chains: a header+payload RW packet with a writable tail, then a CREDIT_REQUEST.</summary>
    private static byte[] DataPacket()
    {
        var seed = Settings(2);
        BinaryPrimitives.WriteUInt16LittleEndian(Ram(seed, 0x80 + 4), 0);
        BinaryPrimitives.WriteUInt16LittleEndian(Ram(seed, 0x80 + 6), 3);
        Descriptor(seed, 0, 0, 0x200, VsockHeader.Size, DescriptorChain.FlagNext, 1);
        Descriptor(seed, 0, 1, 0x240, 100, DescriptorChain.FlagNext, 2);
        Descriptor(seed, 0, 2, 0x2c0, 64, DescriptorChain.FlagWrite, 0);
        Descriptor(seed, 0, 3, 0x300, VsockHeader.Size, 0, 0);
        Header(seed, 0x200, VsockOp.Rw, 100);
        Header(seed, 0x300, VsockOp.CreditRequest, 0);
        return seed;
    }

    /// <summary>One chain through an indirect table of two descriptors (header, payload).</summary>
    private static byte[] IndirectPacket()
    {
        var seed = Settings(1);
        Descriptor(seed, 0, 0, 0x100, 2 * DescriptorChain.DescriptorSize, DescriptorChain.FlagIndirect, 0);
        Descriptor(seed, 0x100, 0, 0x200, VsockHeader.Size, DescriptorChain.FlagNext, 1);
        Descriptor(seed, 0x100, 1, 0x240, 16, 0, 0);
        Header(seed, 0x200, VsockOp.Rw, 16);
        return seed;
    }
}
