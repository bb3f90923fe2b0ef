// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Text;
using Nexus.Vmm.Arch.X64;
using Nexus.Vmm.Devices.Nexus;

namespace Nexus.Vmm.Builder;

/// <summary>Which virtio device a virtio-mmio slot holds.</summary>
public enum VirtioSlotKind
{
    Block,
    Net,
    Vsock,
}

/// <summary>
/// One virtio-mmio slot: the device (<paramref name="Index"/>: which drive, for a block device), its 4 KiB register
/// window and its interrupt; <see cref="CommandLine"/> is how a Linux guest learns of it.
/// </summary>
public readonly record struct VirtioSlot(VirtioSlotKind Kind, int Index, ulong Address, uint Gsi)
{
    public string CommandLine => string.Create(CultureInfo.InvariantCulture, $"virtio_mmio.device=4K@0x{Address:x}:{Gsi}");
}

/// <summary>
/// Where a VM's devices go and what its kernel command line says about them, from the configuration alone (so a
/// snapshot's restore, which attaches the devices again in this order, finds each in its saved slot): Firecracker's
/// order, the drives first (the first is the guest's /dev/vda, the next /dev/vdb, ...), then the network device, then
/// vsock; slot i at 0xd0000000 + 4 KiB * i on GSI 5 + i.
/// </summary>
public static class VirtioLayout
{
    /// <summary>The slots of <paramref name="config"/>'s devices in order; throws when one would take the Nexus region's interrupt (at most 16 drives, a net and a vsock device: GSI 22 at most, within the IOAPIC's 24 inputs).</summary>
    public static IReadOnlyList<VirtioSlot> Slots(VmConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var kinds = Enumerable.Range(0, config.Drives.Count).Select(i => (VirtioSlotKind.Block, i))
            .Concat(config.Net is null ? [] : [(VirtioSlotKind.Net, 0)])
            .Concat(config.Vsock is null ? [] : [(VirtioSlotKind.Vsock, 0)])
            .ToList();
        var slots = kinds.Select((k, slot) => new VirtioSlot(k.Item1, k.Item2, Layout.VirtioMmioStart + ((ulong)slot * Layout.VirtioMmioSlot), Layout.VirtioFirstGsi + (uint)slot)).ToList();
        if (config.NexusRegionSize > 0 && slots.Any(s => s.Gsi == Layout.NexusGsi))
        {
            throw new ArgumentOutOfRangeException(nameof(config), $"{slots.Count} virtio devices and a Nexus region: at most {Layout.NexusGsi - Layout.VirtioFirstGsi} devices, GSI {Layout.NexusGsi} is the region's");
        }

        return slots;
    }

    /// <summary>
    /// The kernel command line of a boot: <see cref="VmConfig.BootArgs"/> (or the default, plus the software-KVM
    /// arguments when <paramref name="softwareKvm"/>), each slot's device entry (with <c>root=/dev/vda ro|rw</c> after
    /// the first drive's under the default arguments), the Nexus region's parameters, then <see cref="VmConfig.AppendBootArgs"/>.
    /// </summary>
    public static string CommandLine(VmConfig config, bool softwareKvm)
    {
        ArgumentNullException.ThrowIfNull(config);
        var cmdline = new StringBuilder(config.BootArgs ?? VmConfig.DefaultBootArgs);
        if (config.BootArgs is null && softwareKvm)
        {
            cmdline.Append(' ').Append(VmConfig.SoftwareKvmBootArgs);
        }

        foreach (var slot in Slots(config))
        {
            cmdline.Append(' ').Append(slot.CommandLine);
            if (slot is { Kind: VirtioSlotKind.Block, Index: 0 } && config.BootArgs is null)
            {
                cmdline.Append(" root=/dev/vda ").Append(config.Drives[0].ReadOnly ? "ro" : "rw");
            }
        }

        if (config.NexusRegionSize > 0)
        {
            cmdline.Append(' ').Append(NexusRegion.CommandLineFor(config.NexusRegionSize, Layout.NexusRegionStart, Layout.NexusGsi, Layout.NexusDoorbell));
        }

        if (config.AppendBootArgs is { Length: > 0 } appended)
        {
            cmdline.Append(' ').Append(appended);
        }

        return cmdline.ToString();
    }
}
