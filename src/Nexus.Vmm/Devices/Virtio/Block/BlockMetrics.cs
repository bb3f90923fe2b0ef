// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Vmm.Devices.Virtio.Block;

/// <summary>What a virtio-blk device did and refused (Firecracker's BlockDeviceMetrics, the subset this device has).</summary>
public sealed class BlockMetrics
{
    /// <summary>Requests completed with VIRTIO_BLK_S_OK.</summary>
    public long Completed { get; internal set; }

    public long ReadBytes { get; internal set; }

    public long WrittenBytes { get; internal set; }

    /// <summary>Requests that failed with IOERR: out of bounds, not sector-sized, a write to a read-only disk, a host I/O error.</summary>
    public long Failed { get; internal set; }

    /// <summary>Requests of a type the device does not offer.</summary>
    public long Unsupported { get; internal set; }

    /// <summary>Chains too short for a header or without room for the status byte, returned with nothing written.</summary>
    public long Malformed { get; internal set; }
}
