// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net;
using Nexus.Sandbox.Network;

namespace Nexus.Sandbox.Microvm;

/// <summary>What <see cref="MicrovmDriverOptions.GuestKernel"/> is, and so what a microVM boots with it.</summary>
public enum MicrovmGuestKind
{
    /// <summary>
    /// A Linux kernel built by guest/kernel/build.sh (the region driver and nexus-init in it): booted with the function
    /// image's erofs root and a code drive, it runs the function's Python runtime.
    /// </summary>
    Linux,

    /// <summary>A freestanding guest that is its own runtime (guest/test/runtime.c, net.c): booted with no drives.</summary>
    Freestanding,
}

/// <summary>Settings of the <c>microvm</c> driver.</summary>
public sealed record MicrovmDriverOptions
{
    /// <summary>
    /// The guest every microvm function boots: an uncompressed ELF kernel (guest/kernel/build.sh's vmlinux), or a
    /// freestanding test guest such as guest/test/runtime.c (<see cref="GuestKind"/>). Null: the driver refuses to start instances and says how to configure one.
    /// </summary>
    public string? GuestKernel { get; init; }

    /// <summary>Whether <see cref="GuestKernel"/> is a Linux kernel (the default) or a freestanding test guest.</summary>
    public MicrovmGuestKind GuestKind { get; init; } = MicrovmGuestKind.Linux;

    /// <summary>
    /// The KVM device the VMMs open; checked before an instance starts, so a host without KVM (no /dev/kvm: e.g. a host
    /// that is itself a PVM guest, where kvm_pvm does not bind) refuses microvm instances with a message saying so.
    /// </summary>
    public string KvmDevice { get; init; } = "/dev/kvm";

    /// <summary>
    /// The VMM command, executable first (e.g. the NativeAOT <c>nexus-vmm</c>, or <c>dotnet nexus-vmm.dll</c>); empty:
    /// found in this checkout (<see cref="VmmExecutable.Locate"/>).
    /// </summary>
    public IReadOnlyList<string> VmmCommand { get; init; } = [];

    /// <summary>VMM state of running instances (pid files, per instance) and ready snapshots.</summary>
    public string RunDirectory { get; init; } = "/run/nexus/microvm";

    /// <summary>Only instances and snapshots whose names start with this are this node's (leftover cleanup).</summary>
    public string InstancePrefix { get; init; } = "nx";

    /// <summary>
    /// Boot once per template key (function revision), snapshot at the guest's ready ring, restore every cold start
    /// from it. False: every instance boots its guest.
    /// </summary>
    public bool Snapshots { get; init; } = true;

    /// <summary>Longest a guest may take from boot to its ready ring when a snapshot is made.</summary>
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>Addresses of the baseline network (service address, /30 slots): the oci driver's, so its firewall covers both.</summary>
    public VethAddressPlan Network { get; init; } = VethAddressPlan.Default;

    /// <summary>
    /// The /30 between a baseline VM and its network namespace: the TAP holds the first address, the guest the second,
    /// the same in every VM (so a snapshot's guest needs no new address); the namespace masquerades it behind the
    /// instance's veth address. Must not overlap the service address, the slots or a routed store.
    /// </summary>
    public IPAddress GuestLinkNetwork { get; init; } = IPAddress.Parse("172.16.0.0");

    /// <summary>iproute2, for the baseline network.</summary>
    public string IpPath { get; init; } = "ip";

    /// <summary>nftables binary, for the sandbox firewall and the namespace's masquerade.</summary>
    public string NftPath { get; init; } = "nft";

    /// <summary>iproute2's ss, which closes the host's connections with a stopped baseline VM (<see cref="VmNetwork.RemoveAsync"/>).</summary>
    public string SsPath { get; init; } = "ss";

    /// <summary>
    /// Jail every instance's VMM as Firecracker's jailer does (<see cref="VmmJail"/>: chroot, mount/PID/network
    /// namespaces, its own uid), the one that boots a guest to make a ready snapshot too; null: the VMM runs as this
    /// process's user in its namespaces. Jailed or not, it runs in its VM's cgroups (<see cref="Cgroups"/>).
    /// </summary>
    public VmmJailOptions? Jail { get; init; }

    /// <summary>
    /// The cgroups every VM runs in, jailed or not (<see cref="VmCgroup"/>: memory, pids, and a CPU quota and weight that
    /// follow the instance's CPUs as a container's do). Null only where cgroups cannot be made (not root): the VM is then
    /// held to nothing but its guest memory, and a spinning guest takes a host CPU.
    /// </summary>
    public VmCgroupOptions? Cgroups { get; init; } = new();

    /// <summary>Where driver events go (snapshots made or failed).</summary>
    public Action<string>? Log { get; init; }
}
