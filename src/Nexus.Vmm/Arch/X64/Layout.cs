// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Vmm.Arch.X64;

/// <summary>Guest-physical layout, Firecracker v1.10.1's (see docs/vmm.md for the map).</summary>
public static class Layout
{
    public const ulong BootGdt = 0x500;
    public const ulong BootIdt = 0x520;
    public const ulong ZeroPage = 0x7000;
    public const ulong BootStack = 0x8ff0;
    public const ulong Pml4 = 0x9000;
    public const ulong Pdpt = 0xa000;

    /// <summary>Four page directories (0xb000-0xefff) identity-map the low 4 GiB with 2 MiB pages.</summary>
    public const ulong Pd = 0xb000;
    public const int IdentityMappedGiB = 4;

    public const ulong CmdlineStart = 0x20000;
    public const int CmdlineMax = 2048;
    public const ulong MpTableStart = 0x9fc00;
    public const ulong EbdaEnd = 0xa0000;
    public const ulong HighMemoryStart = 0x100000;

    /// <summary>The 32-bit gap below 4 GiB: never RAM; devices, the Nexus region, IOAPIC, LAPIC, TSS live here.</summary>
    public const ulong MmioGapStart = 0xd000_0000;
    public const ulong MmioGapEnd = 0x1_0000_0000;

    /// <summary>virtio-mmio slots: 4 KiB each from the gap start; GSIs from 5.</summary>
    public const ulong VirtioMmioStart = MmioGapStart;
    public const ulong VirtioMmioSlot = 0x1000;
    public const uint VirtioFirstGsi = 5;

    /// <summary>The Nexus region's doorbell (an ioeventfd, never an exit) and its interrupt line.</summary>
    public const ulong NexusDoorbell = 0xd010_0000;
    public const uint NexusGsi = 10;

    /// <summary>The Nexus shared region slot (up to 256 MiB), not listed as RAM in e820.</summary>
    public const ulong NexusRegionStart = 0xe000_0000;
    public const ulong NexusRegionMax = 0x1000_0000;

    public const ulong IoapicStart = 0xfec0_0000;
    public const ulong LapicStart = 0xfee0_0000;
    public const ulong KvmTss = 0xfffb_d000;

    /// <summary>A debug port: a guest write of a value ends the VM with that code (test guests).</summary>
    public const ushort ExitPort = 0xf4;

    /// <summary>Memory slots for guest RAM: one below the gap, the rest above 4 GiB.</summary>
    public static IEnumerable<(ulong Address, ulong Size)> RamRegions(ulong size)
    {
        if (size <= MmioGapStart)
        {
            yield return (0, size);
        }
        else
        {
            yield return (0, MmioGapStart);
            yield return (MmioGapEnd, size - MmioGapStart);
        }
    }
}
