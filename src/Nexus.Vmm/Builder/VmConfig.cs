// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Interop;

namespace Nexus.Vmm.Builder;

/// <summary>A virtio-blk drive backed by a host file.</summary>
public sealed record DriveConfig(string Path, bool ReadOnly = false);

/// <summary>A virtio-vsock device: the guest's CID and the host Unix socket path it is bridged to (Firecracker's scheme).</summary>
public sealed record VsockConfig(ulong GuestCid, string UdsPath);

/// <summary>
/// A virtio-net device on the TAP <paramref name="TapName"/> (created when it does not exist), opened in the network
/// namespace at <paramref name="NetnsPath"/> or the VMM's own; <paramref name="Mac"/> is the guest's address (null: a
/// random locally administered one).
/// </summary>
public sealed record NetConfig(string TapName, byte[]? Mac = null, string? NetnsPath = null);

/// <summary>
/// A Nexus channel made outside the VMM (the node's): <paramref name="Region"/> (a memfd) becomes the guest's Nexus region
/// slot, <paramref name="Doorbell"/> the KVM ioeventfd the guest rings, <paramref name="Interrupt"/> the KVM irqfd the host
/// rings. The VM takes ownership of all three (closing them closes only this process's copies).
/// </summary>
public sealed record NexusChannelFds(SafeFd Region, EventFd Doorbell, EventFd Interrupt);

/// <summary>How the kernel is entered.</summary>
public enum BootProtocol
{
    /// <summary>Linux 64-bit boot protocol at the ELF entry: long mode, identity paging, zero page in RSI.</summary>
    Linux64,

    /// <summary>PVH: 32-bit protected mode at XEN_ELFNOTE_PHYS32_ENTRY, hvm_start_info in EBX (needs CONFIG_PVH).</summary>
    Pvh,
}

/// <summary>What to boot and with which devices.</summary>
public sealed class VmConfig
{
    /// <summary>Firecracker's default command line plus the serial console.</summary>
    public const string DefaultBootArgs = "console=ttyS0 reboot=k panic=1 pci=off nomodule i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd";

    /// <summary>Extra arguments for software-only KVM: hide what its emulator cannot run (see docs/vmm.md).</summary>
    public const string SoftwareKvmBootArgs = "noxsave clearcpuid=smap,smep,popcnt,xsave,avx,avx2,avx512f";

    /// <summary>Path of an uncompressed ELF kernel (vmlinux) or test guest.</summary>
    public required string KernelPath { get; init; }

    public ulong MemoryMiB { get; init; } = 128;

    public BootProtocol Protocol { get; init; } = BootProtocol.Linux64;

    public int Vcpus { get; init; } = 1;

    /// <summary>Kernel command line; null means <see cref="DefaultBootArgs"/> (plus root= and virtio devices).</summary>
    public string? BootArgs { get; init; }

    /// <summary>
    /// Appended to the command line, whichever it is (e.g. the guest's address, <c>ip=</c>), after the device entries;
    /// null or empty: nothing.
    /// </summary>
    public string? AppendBootArgs { get; init; }

    public IReadOnlyList<DriveConfig> Drives { get; init; } = [];

    /// <summary>A virtio-net device after the drives, or none.</summary>
    public NetConfig? Net { get; init; }

    /// <summary>A virtio-vsock device after the drives and the network device, or none.</summary>
    public VsockConfig? Vsock { get; init; }

    /// <summary>Size of the Nexus shared region in bytes (0: none); a multiple of 4 KiB.</summary>
    public ulong NexusRegionSize { get; init; }

    /// <summary>The region's memory and doorbells from outside (<see cref="NexusRegionSize"/> is their size); null: the VM makes its own.</summary>
    public NexusChannelFds? NexusChannel { get; init; }

    /// <summary>Where guest serial output goes (one byte at a time, on a vCPU thread).</summary>
    public Action<byte>? ConsoleOutput { get; init; }

    /// <summary>Back guest RAM with a memfd (MAP_SHARED) instead of anonymous memory.</summary>
    public bool SharedMemory { get; init; }

    /// <summary>
    /// Confine the vCPU threads and the device thread with seccomp filters (Security/ThreadFilters.cs): no new
    /// processes or programs, no ptrace, mounts, namespaces, privilege changes, modules, BPF; vCPUs get no sockets.
    /// Console and device callbacks run on those threads and share the restriction.
    /// </summary>
    public bool Seccomp { get; init; } = true;

    /// <summary>
    /// Force (true) or forbid (false) the software-KVM profile (the CPUID that hides XSAVE, AVX, POPCNT, SMAP and SMEP, and
    /// <see cref="SoftwareKvmBootArgs"/> on the default command line); null: on software-only KVM, unless
    /// <see cref="PvLiteGuest"/>.
    /// </summary>
    public bool? SoftwareKvmProfile { get; init; }

    /// <summary>
    /// The kernel is a pv-lite guest (guest/kernel/build.sh's, docs/vmm.md "The Nexus guest kernel as a pv-lite guest"):
    /// on kvm_pvm its supervisor code runs natively rather than in the instruction emulator, so it needs no software-KVM
    /// profile and keeps XSAVE and AVX (measured with <c>nexus vmm bench --linux</c>). Changes nothing on hardware KVM.
    /// </summary>
    public bool PvLiteGuest { get; init; }

    /// <summary>Whether a VM of this configuration gets the software-KVM profile on a host whose KVM is (or is not) software-only.</summary>
    public bool UsesSoftwareKvmProfile(bool softwareOnlyKvm) => SoftwareKvmProfile ?? (softwareOnlyKvm && !PvLiteGuest);
}
