// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text;
using Nexus.Vmm.Snapshot;

namespace Nexus.Vmm.Builder;

public sealed partial class MicroVm
{
    /// <summary>Legacy devices, then virtio devices in Firecracker's order (block, root first), then the Nexus region.</summary>
    private void AttachDevices(StringBuilder cmdline, VmState? fromSnapshot)
    {
        AttachLegacyDevices();
    }
}
