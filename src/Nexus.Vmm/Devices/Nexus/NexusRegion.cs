// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Interop;
using Nexus.Vmm.VState;

namespace Nexus.Vmm.Devices.Nexus;

/// <summary>
/// The Nexus channel of a micro-VM: a memfd mapped into the guest as its own memory slot (not RAM in
/// e820), a doorbell that is a KVM ioeventfd (a guest write signals it inside KVM, no exit), and an
/// interrupt that is a KVM irqfd. The backend maps <see cref="MemoryFd"/> itself, waits on
/// <see cref="Doorbell"/> and signals <see cref="Interrupt"/>: the VMM is not on the data path.
/// </summary>
public sealed class NexusRegion : IDisposable
{
    internal NexusRegion(GuestRegion region, EventFd doorbell, EventFd interrupt, ulong doorbellAddress, uint gsi)
    {
        Region = region;
        Doorbell = doorbell;
        Interrupt = interrupt;
        DoorbellAddress = doorbellAddress;
        Gsi = gsi;
    }

    /// <summary>The shared memory; map it with Memory.MapShared(MemoryFd, (long)Size).</summary>
    public SafeFd MemoryFd => Region.BackingFd!;

    public ulong Size => Region.Size;

    /// <summary>Guest-physical address of the region.</summary>
    public ulong GuestAddress => Region.GuestAddress;

    /// <summary>Guest writes (4 bytes, any value) at this MMIO address signal <see cref="Doorbell"/>.</summary>
    public ulong DoorbellAddress { get; }

    /// <summary>Each signal raises an edge on this GSI in the guest.</summary>
    public uint Gsi { get; }

    public EventFd Doorbell { get; }

    public EventFd Interrupt { get; }

    /// <summary>The kernel command-line parameters a guest driver reads to find the region.</summary>
    public string CommandLine => CommandLineFor(Size, GuestAddress, Gsi, DoorbellAddress);

    /// <summary>The command-line parameters of a region of <paramref name="size"/> bytes at <paramref name="address"/>.</summary>
    public static string CommandLineFor(ulong size, ulong address, uint gsi, ulong doorbellAddress) =>
        $"nexus.region=0x{size:x}@0x{address:x}:{gsi} nexus.doorbell=0x{doorbellAddress:x}";

    internal GuestRegion Region { get; }

    public void Dispose()
    {
        Doorbell.Dispose();
        Interrupt.Dispose();
    }
}
