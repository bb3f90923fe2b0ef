// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Vmm.Devices.Virtio.Net;

/// <summary>What a virtio-net device did and refused (Firecracker's NetDeviceMetrics, the subset this device has).</summary>
public sealed class NetMetrics
{
    /// <summary>Frames the guest sent that reached the TAP.</summary>
    public long TxFrames { get; internal set; }

    public long TxBytes { get; internal set; }

    /// <summary>Guest frames shorter than an Ethernet header (or chains without a virtio-net header), dropped.</summary>
    public long TxShortDropped { get; internal set; }

    /// <summary>Guest frames longer than <see cref="VirtioNet.MaxFrameLength"/>, dropped.</summary>
    public long TxOversizedDropped { get; internal set; }

    /// <summary>Guest chains that asked for an offload never negotiated, or had device-writable buffers, dropped.</summary>
    public long TxMalformedDropped { get; internal set; }

    /// <summary>Frames the TAP refused (interface down, queue full).</summary>
    public long TxTapErrors { get; internal set; }

    /// <summary>Frames from the TAP delivered to the guest.</summary>
    public long RxFrames { get; internal set; }

    public long RxBytes { get; internal set; }

    /// <summary>TAP frames that did not fit the guest's receive buffer (or were not Ethernet frames), dropped.</summary>
    public long RxDropped { get; internal set; }

    /// <summary>Times the guest had no receive buffer, so the device stopped reading the TAP until it posts some.</summary>
    public long RxNoBuffer { get; internal set; }

    /// <summary>Interrupts raised for used buffers.</summary>
    public long Interrupts { get; internal set; }

    /// <summary>Interrupts skipped because the driver polls (VRING_AVAIL_F_NO_INTERRUPT).</summary>
    public long InterruptsSuppressed { get; internal set; }
}
