// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Interop;

namespace Nexus.Vmm.Arch.X64;

/// <summary>Boot MSR values (Firecracker's create_boot_msr_entries) and the MSRs a snapshot keeps.</summary>
public static class Msr
{
    public const uint TscDeadline = 0x6e0;

    /// <summary>
    /// kvm_pvm's pv-lite vIF registration (docs/vmm.md, "PVM guest ABI of this host"): the guest-physical address of
    /// the guest's vIF page with its flags; KVM_GET_MSRS adds the vCPU's mode (bit 10 valid, bit 11 user). KVM does not
    /// list it, but a pv-lite guest's vCPU runs its supervisor code natively only while it is set, so snapshots carry
    /// it where the host can read it (elsewhere it is skipped as unreadable). Zero means not registered.
    /// </summary>
    public const uint PvLiteVif = 0x4b56_4d10;

    public static KvmMsrEntry[] BootEntries() =>
    [
        new() { Index = 0x174 }, // IA32_SYSENTER_CS
        new() { Index = 0x175 }, // IA32_SYSENTER_ESP
        new() { Index = 0x176 }, // IA32_SYSENTER_EIP
        new() { Index = 0xc000_0081 }, // STAR
        new() { Index = 0xc000_0083 }, // CSTAR
        new() { Index = 0xc000_0102 }, // KERNEL_GS_BASE
        new() { Index = 0xc000_0084 }, // SYSCALL_MASK
        new() { Index = 0xc000_0082 }, // LSTAR
        new() { Index = 0x10 }, // IA32_TSC
        new() { Index = 0x1a0, Data = 1 }, // IA32_MISC_ENABLE: fast strings
        new() { Index = 0x2ff, Data = (1 << 11) | 6 }, // MTRRdefType: MTRRs on, default write-back
    ];

    /// <summary>
    /// Whether a snapshot saves <paramref name="index"/>: KVM lists MSRs that GET_MSRS then refuses
    /// (VMX capabilities without nested virtualization, MCG_CTL, Hyper-V), so those are left out.
    /// </summary>
    public static bool ShouldSave(uint index) =>
        index switch
        {
            >= 0x480 and <= 0x491 => false, // VMX capability MSRs
            0x17b => false, // IA32_MCG_CTL
            >= 0x4000_0000 and <= 0x4000_ffff => false, // Hyper-V
            _ => true,
        };
}
