// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;
using Nexus.Vmm.VState;

namespace Nexus.Vmm.Devices.Virtio;

/// <summary>virtio device IDs and feature bits used here (virtio 1.2, linux/virtio_ids.h).</summary>
public static class VirtioIds
{
    public const uint Net = 1;
    public const uint Block = 2;
    public const uint Vsock = 19;
    public const int FeatureVersion1 = 32;
}

/// <summary>Config-space layouts shared by devices.</summary>
public static class VirtioConfig
{
    /// <summary>
    /// Serves a driver's read at <paramref name="offset"/> of a config space that is one little-endian u64 (blk's
    /// capacity, vsock's guest CID); bytes past it read as zero (the transport cleared <paramref name="data"/>).
    /// </summary>
    public static void ReadU64(ulong value, ulong offset, Span<byte> data)
    {
        Span<byte> config = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(config, value);
        if (offset < (ulong)config.Length)
        {
            var n = Math.Min(data.Length, config.Length - (int)offset);
            config.Slice((int)offset, n).CopyTo(data);
        }
    }
}

/// <summary>A virtio device behind a transport: features, queues, config space, queue processing.</summary>
public interface IVirtioDevice
{
    uint DeviceType { get; }

    ulong AvailableFeatures { get; }

    IReadOnlyList<Queue> Queues { get; }

    void ReadConfig(ulong offset, Span<byte> data);

    void WriteConfig(ulong offset, ReadOnlySpan<byte> data);

    /// <summary>Called once the driver set DRIVER_OK and every ready queue is valid.</summary>
    void Activate(GuestMemory memory, VirtioInterrupt interrupt, ulong ackedFeatures);

    /// <summary>
    /// The driver notified queue <paramref name="index"/>. Runs under the transport's lock, on the VM's device thread
    /// (KVM signals the queue's ioeventfd) or, for a notify KVM did not catch, on the notifying vCPU thread.
    /// </summary>
    void ProcessQueue(int index);

    /// <summary>The driver wrote 0 to the status register: drop all device state.</summary>
    void Reset();
}

/// <summary>The interrupt status register of a virtio-mmio device and its interrupt line (an irqfd).</summary>
public sealed class VirtioInterrupt
{
    public const uint UsedRing = 1;
    public const uint ConfigChange = 2;

    private readonly Action _raise;
    private uint _status;

    public VirtioInterrupt(Action raise) => _raise = raise;

    public uint Status
    {
        get => Volatile.Read(ref _status);
        set => Volatile.Write(ref _status, value);
    }

    public void Acknowledge(uint bits) => Interlocked.And(ref _status, ~bits);

    public void Signal(uint bits)
    {
        Interlocked.Or(ref _status, bits);
        _raise();
    }
}
