// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Vmm.VState;

namespace Nexus.Vmm.Devices.Virtio;

/// <summary>A split virtqueue (virtio 1.x §2.7) as the device sees it. The driver configures it through the transport.</summary>
public sealed class Queue
{
    /// <summary>VRING_AVAIL_F_NO_INTERRUPT: the driver polls the used ring and asks for no interrupt.</summary>
    public const ushort AvailFlagNoInterrupt = 1;

    public Queue(ushort maxSize) => MaxSize = maxSize;

    public ushort MaxSize { get; }

    public ushort Size { get; set; }

    public bool Ready { get; set; }

    public ulong DescTable { get; set; }

    public ulong AvailRing { get; set; }

    public ulong UsedRing { get; set; }

    /// <summary>The next avail ring slot the device will read (free-running, wraps at 2^16).</summary>
    public ushort NextAvail { get; set; }

    /// <summary>The next used ring slot the device will write (free-running).</summary>
    public ushort NextUsed { get; set; }

    /// <summary>True when the driver's settings describe rings that lie, aligned, inside guest memory.</summary>
    public bool IsValid(GuestMemory memory) =>
        Ready && Size > 0 && Size <= MaxSize && (Size & (Size - 1)) == 0
        && DescTable % 16 == 0 && AvailRing % 2 == 0 && UsedRing % 4 == 0
        && memory.IsValid(DescTable, (ulong)Size * 16)
        && memory.IsValid(AvailRing, 6 + (2UL * Size))
        && memory.IsValid(UsedRing, 6 + (8UL * Size));

    /// <summary>
    /// Takes the next available chain, or null when the driver has published none. A published index
    /// more than a queue ahead is a driver bug and throws, since the ring contents cannot be trusted.
    /// </summary>
    public DescriptorChain? Pop(GuestMemory memory)
    {
        var availIdx = memory.ReadU16(AvailRing + 2);
        var pending = (ushort)(availIdx - NextAvail);
        if (pending == 0)
        {
            return null;
        }

        if (pending > Size)
        {
            throw new VirtQueueException(VirtQueueError.InvalidAvailIndex, $"avail index {availIdx} is {pending} entries ahead of {NextAvail} in a queue of {Size}");
        }

        // The ring entry must be read after the index that published it.
        Interlocked.MemoryBarrier();
        var head = memory.ReadU16(AvailRing + 4 + (2UL * (ulong)(NextAvail % Size)));
        NextAvail++;
        return DescriptorChain.Parse(memory, DescTable, Size, head);
    }

    /// <summary>Gives back the chain <see cref="Pop"/> just took, unused: the next Pop reads it again.</summary>
    public void UndoPop() => NextAvail--;

    /// <summary>Returns a chain to the driver with the number of bytes written into it.</summary>
    public void AddUsed(GuestMemory memory, ushort head, uint length)
    {
        var slot = UsedRing + 4 + (8UL * (ulong)(NextUsed % Size));
        memory.WriteU32(slot, head);
        memory.WriteU32(slot + 4, length);

        // The element must be visible before the index that publishes it.
        Interlocked.MemoryBarrier();
        NextUsed++;
        memory.WriteU16(UsedRing + 2, NextUsed);
    }

    /// <summary>
    /// False when the driver set <see cref="AvailFlagNoInterrupt"/> (Linux's virtio-net does while NAPI polls): the
    /// device may then skip the interrupt for what it just used. A hint only; the driver re-checks before sleeping.
    /// </summary>
    public bool DriverWantsInterrupt(GuestMemory memory)
    {
        // Read after the used index was published (virtio 1.2 §2.7.7.2), so a driver that re-enables meanwhile is seen.
        Interlocked.MemoryBarrier();
        return (memory.ReadU16(AvailRing) & AvailFlagNoInterrupt) == 0;
    }

    public void Reset()
    {
        Size = MaxSize;
        Ready = false;
        DescTable = AvailRing = UsedRing = 0;
        NextAvail = NextUsed = 0;
    }
}
