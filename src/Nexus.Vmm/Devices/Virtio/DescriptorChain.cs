// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;
using Nexus.Vmm.VState;

namespace Nexus.Vmm.Devices.Virtio;

/// <summary>One guest buffer of a chain, validated to lie inside guest memory.</summary>
public readonly record struct IoVec(ulong Address, uint Length, bool Writable);

/// <summary>
/// A descriptor chain read once from the guest and validated: every index in range, at most
/// queue-size descriptors (so a loop ends), every buffer inside guest memory, indirect tables one
/// level deep, device-readable buffers before device-writable ones, total length capped.
/// </summary>
public sealed class DescriptorChain
{
    public const ushort FlagNext = 1;
    public const ushort FlagWrite = 2;
    public const ushort FlagIndirect = 4;
    public const int DescriptorSize = 16;

    /// <summary>Longest chain accepted, in bytes, so a guest cannot make the device handle gigabytes in one request.</summary>
    public const ulong MaxTotalLength = 1UL << 30;

    private DescriptorChain(ushort head, List<IoVec> buffers)
    {
        Head = head;
        Buffers = buffers;
        ReadableLength = (ulong)buffers.Where(b => !b.Writable).Sum(b => (long)b.Length);
        WritableLength = (ulong)buffers.Where(b => b.Writable).Sum(b => (long)b.Length);
    }

    /// <summary>The head index, returned to the guest in the used ring.</summary>
    public ushort Head { get; }

    public IReadOnlyList<IoVec> Buffers { get; }

    public ulong ReadableLength { get; }

    public ulong WritableLength { get; }

    /// <summary>Parses the chain starting at <paramref name="head"/> in the descriptor table of <paramref name="queueSize"/> entries.</summary>
    public static DescriptorChain Parse(GuestMemory memory, ulong descTable, ushort queueSize, ushort head)
    {
        var buffers = new List<IoVec>();
        var total = 0UL;
        var seenWritable = false;
        var table = descTable;
        var tableSize = (uint)queueSize;
        var index = (uint)head;
        var inIndirect = false;
        var visited = 0u;
        Span<byte> raw = stackalloc byte[DescriptorSize];
        while (true)
        {
            if (index >= tableSize)
            {
                throw new VirtQueueException(VirtQueueError.DescriptorIndexOutOfRange, $"descriptor index {index} is outside a table of {tableSize} (head {head})");
            }

            if (++visited > tableSize)
            {
                throw new VirtQueueException(VirtQueueError.ChainTooLong, $"chain from head {head} has more than {tableSize} descriptors (a loop)");
            }

            var at = table + (index * DescriptorSize);
            if (!memory.IsValid(at, DescriptorSize))
            {
                throw new VirtQueueException(VirtQueueError.BufferOutOfBounds, $"descriptor {index} at 0x{at:x} is outside guest memory");
            }

            // One read of the 16 bytes: the guest may change them under us, so nothing is re-read.
            memory.Read(at, raw);
            var address = BinaryPrimitives.ReadUInt64LittleEndian(raw);
            var length = BinaryPrimitives.ReadUInt32LittleEndian(raw[8..]);
            var flags = BinaryPrimitives.ReadUInt16LittleEndian(raw[12..]);
            var next = BinaryPrimitives.ReadUInt16LittleEndian(raw[14..]);

            if ((flags & FlagIndirect) != 0)
            {
                if (inIndirect)
                {
                    throw new VirtQueueException(VirtQueueError.NestedIndirect, $"descriptor {index} in an indirect table is itself indirect");
                }

                if ((flags & FlagNext) != 0 || length == 0 || length % DescriptorSize != 0 || length / DescriptorSize > 65535
                    || !memory.IsValid(address, length))
                {
                    throw new VirtQueueException(VirtQueueError.InvalidIndirectTable, $"indirect table at 0x{address:x} length {length} (flags 0x{flags:x}) is invalid");
                }

                inIndirect = true;
                table = address;
                tableSize = length / DescriptorSize;
                index = 0;
                visited = 0;
                continue;
            }

            var writable = (flags & FlagWrite) != 0;
            if (!writable && seenWritable)
            {
                throw new VirtQueueException(VirtQueueError.ReadableAfterWritable, $"descriptor {index} is device-readable after a device-writable one");
            }

            if (!memory.IsValid(address, length))
            {
                throw new VirtQueueException(VirtQueueError.BufferOutOfBounds, $"descriptor {index} buffer 0x{address:x}+0x{length:x} is outside guest memory");
            }

            total += length;
            if (total > MaxTotalLength)
            {
                throw new VirtQueueException(VirtQueueError.ChainTooLarge, $"chain from head {head} exceeds {MaxTotalLength} bytes");
            }

            seenWritable |= writable;
            buffers.Add(new IoVec(address, length, writable));
            if ((flags & FlagNext) == 0)
            {
                return new DescriptorChain(head, buffers);
            }

            index = next;
        }
    }

    /// <summary>Copies device-readable bytes starting at <paramref name="offset"/> (across buffers) into <paramref name="destination"/>.</summary>
    public int ReadReadable(GuestMemory memory, ulong offset, Span<byte> destination) =>
        Copy(memory, writable: false, offset, destination, toGuest: false);

    /// <summary>Copies <paramref name="source"/> into the device-writable bytes starting at <paramref name="offset"/>.</summary>
    public int WriteWritable(GuestMemory memory, ulong offset, Span<byte> source) =>
        Copy(memory, writable: true, offset, source, toGuest: true);

    private int Copy(GuestMemory memory, bool writable, ulong offset, Span<byte> data, bool toGuest)
    {
        var done = 0;
        foreach (var b in Buffers)
        {
            if (b.Writable != writable)
            {
                continue;
            }

            if (offset >= b.Length)
            {
                offset -= b.Length;
                continue;
            }

            var n = (int)Math.Min(b.Length - offset, (ulong)(data.Length - done));
            var guest = memory.GetSpan(b.Address + offset, n);
            if (toGuest)
            {
                data.Slice(done, n).CopyTo(guest);
            }
            else
            {
                guest.CopyTo(data.Slice(done, n));
            }

            done += n;
            offset = 0;
            if (done == data.Length)
            {
                break;
            }
        }

        return done;
    }
}
