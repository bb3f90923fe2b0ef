// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Vmm.Devices.Virtio.Vsock;

/// <summary>What a virtio-vsock device refused and reset (Firecracker's VsockDeviceMetrics, the subset this device has).</summary>
public sealed class VsockMetrics
{
    /// <summary>Packets dropped without a reply: too short for a header, a foreign CID, or control packets past the queue's cap.</summary>
    public long DroppedPackets { get; internal set; }

    /// <summary>Transport resets (one per snapshot of the VM).</summary>
    public long TransportResets { get; internal set; }

    /// <summary>RSTs sent to the guest (refused connections, bad packets, overruns, failed host sockets, timeouts).</summary>
    public long ResetsSent { get; internal set; }
}
