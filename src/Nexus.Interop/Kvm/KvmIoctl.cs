// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Interop;

/// <summary>
/// KVM ioctl request numbers (linux/kvm.h, 6.1 uapi). Each value is compared with the kernel
/// headers by KvmAbiTests, which compiles a C program at test time.
/// </summary>
public static class KvmIoctl
{
    // /dev/kvm
    public const uint KVM_GET_API_VERSION = 0xAE00;
    public const uint KVM_CREATE_VM = 0xAE01;
    public const uint KVM_GET_MSR_INDEX_LIST = 0xC004AE02;
    public const uint KVM_CHECK_EXTENSION = 0xAE03;
    public const uint KVM_GET_VCPU_MMAP_SIZE = 0xAE04;
    public const uint KVM_GET_SUPPORTED_CPUID = 0xC008AE05;

    // VM fd
    public const uint KVM_CREATE_VCPU = 0xAE41;
    public const uint KVM_SET_USER_MEMORY_REGION = 0x4020AE46;
    public const uint KVM_SET_TSS_ADDR = 0xAE47;
    public const uint KVM_SET_IDENTITY_MAP_ADDR = 0x4008AE48;
    public const uint KVM_CREATE_IRQCHIP = 0xAE60;
    public const uint KVM_IRQ_LINE = 0x4008AE61;
    public const uint KVM_GET_IRQCHIP = 0xC208AE62;
    public const uint KVM_SET_IRQCHIP = 0x8208AE63;
    public const uint KVM_IRQFD = 0x4020AE76;
    public const uint KVM_CREATE_PIT2 = 0x4040AE77;
    public const uint KVM_IOEVENTFD = 0x4040AE79;
    public const uint KVM_SET_CLOCK = 0x4030AE7B;
    public const uint KVM_GET_CLOCK = 0x8030AE7C;
    public const uint KVM_GET_PIT2 = 0x8070AE9F;
    public const uint KVM_SET_PIT2 = 0x4070AEA0;

    // vCPU fd
    public const uint KVM_RUN = 0xAE80;
    public const uint KVM_GET_REGS = 0x8090AE81;
    public const uint KVM_SET_REGS = 0x4090AE82;
    public const uint KVM_GET_SREGS = 0x8138AE83;
    public const uint KVM_SET_SREGS = 0x4138AE84;
    public const uint KVM_GET_MSRS = 0xC008AE88;
    public const uint KVM_SET_MSRS = 0x4008AE89;
    public const uint KVM_SET_SIGNAL_MASK = 0x4004AE8B;
    public const uint KVM_GET_FPU = 0x81A0AE8C;
    public const uint KVM_SET_FPU = 0x41A0AE8D;
    public const uint KVM_GET_LAPIC = 0x8400AE8E;
    public const uint KVM_SET_LAPIC = 0x4400AE8F;
    public const uint KVM_SET_CPUID2 = 0x4008AE90;
    public const uint KVM_GET_CPUID2 = 0xC008AE91;
    public const uint KVM_GET_MP_STATE = 0x8004AE98;
    public const uint KVM_SET_MP_STATE = 0x4004AE99;
    public const uint KVM_GET_VCPU_EVENTS = 0x8040AE9F;
    public const uint KVM_SET_VCPU_EVENTS = 0x4040AEA0;
    public const uint KVM_GET_DEBUGREGS = 0x8080AEA1;
    public const uint KVM_SET_DEBUGREGS = 0x4080AEA2;
    public const uint KVM_GET_TSC_KHZ = 0xAEA3;
    public const uint KVM_GET_XSAVE = 0x9000AEA4;
    public const uint KVM_SET_XSAVE = 0x5000AEA5;
    public const uint KVM_GET_XCRS = 0x8188AEA6;
    public const uint KVM_SET_XCRS = 0x4188AEA7;
    public const uint KVM_KVMCLOCK_CTRL = 0xAEAD;
}

/// <summary>kvm_run.exit_reason values.</summary>
public static class KvmExit
{
    public const uint KVM_EXIT_IO = 2;
    public const uint KVM_EXIT_HLT = 5;
    public const uint KVM_EXIT_MMIO = 6;
    public const uint KVM_EXIT_SHUTDOWN = 8;
    public const uint KVM_EXIT_FAIL_ENTRY = 9;
    public const uint KVM_EXIT_INTERNAL_ERROR = 17;
    public const uint KVM_EXIT_SYSTEM_EVENT = 24;
    public const byte KVM_EXIT_IO_OUT = 1;
}

/// <summary>KVM_CHECK_EXTENSION capability numbers and flag constants.</summary>
public static class KvmCap
{
    public const int KVM_CAP_IRQCHIP = 0;
    public const int KVM_CAP_USER_MEMORY = 3;
    public const int KVM_CAP_SET_TSS_ADDR = 4;
    public const int KVM_CAP_EXT_CPUID = 7;
    public const int KVM_CAP_MP_STATE = 14;
    public const int KVM_CAP_IRQFD = 32;
    public const int KVM_CAP_PIT2 = 33;
    public const int KVM_CAP_IOEVENTFD = 36;
    public const int KVM_CAP_VCPU_EVENTS = 41;
    public const int KVM_CAP_DEBUGREGS = 50;
    public const int KVM_CAP_XSAVE = 55;
    public const int KVM_CAP_XCRS = 56;
    public const int KVM_CAP_READONLY_MEM = 81;

    public const uint KVM_PIT_SPEAKER_DUMMY = 1;
    public const uint KVM_MEM_READONLY = 2;
    public const uint KVM_IOEVENTFD_FLAG_DATAMATCH = 1;
    public const uint KVM_CLOCK_TSC_STABLE = 2;
    public const uint KVM_MP_STATE_RUNNABLE = 0;
}
