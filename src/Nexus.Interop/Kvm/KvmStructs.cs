// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.InteropServices;

namespace Nexus.Interop;

// The KVM structures of linux/kvm.h (x86-64, 6.1 uapi), blittable and laid out as in C.
// KvmAbiTests compares every size and the offsets that matter with the kernel headers.
// State that the VMM only saves and restores (vcpu events, PIT, irqchip payload) stays opaque.

[StructLayout(LayoutKind.Sequential)]
public struct KvmRegs
{
    public ulong Rax, Rbx, Rcx, Rdx, Rsi, Rdi, Rsp, Rbp;
    public ulong R8, R9, R10, R11, R12, R13, R14, R15;
    public ulong Rip, Rflags;
}

[StructLayout(LayoutKind.Sequential)]
public struct KvmSegment
{
    public ulong Base;
    public uint Limit;
    public ushort Selector;
    public byte Type, Present, Dpl, Db, S, L, G, Avl, Unusable, Padding;
}

[StructLayout(LayoutKind.Sequential)]
public struct KvmDtable
{
    public ulong Base;
    public ushort Limit;
    public ushort Padding0, Padding1, Padding2;
}

[StructLayout(LayoutKind.Sequential)]
public unsafe struct KvmSregs
{
    public KvmSegment Cs, Ds, Es, Fs, Gs, Ss, Tr, Ldt;
    public KvmDtable Gdt, Idt;
    public ulong Cr0, Cr2, Cr3, Cr4, Cr8, Efer, ApicBase;
    public fixed ulong InterruptBitmap[4];
}

[StructLayout(LayoutKind.Sequential)]
public unsafe struct KvmFpu
{
    public fixed byte Fpr[128];
    public ushort Fcw, Fsw;
    public byte Ftwx, Pad1;
    public ushort LastOpcode;
    public ulong LastIp, LastDp;
    public fixed byte Xmm[256];
    public uint Mxcsr, Pad2;
}

[StructLayout(LayoutKind.Sequential)]
public unsafe struct KvmLapicState
{
    public const int Size = 1024;
    public fixed byte Regs[Size];
}

[StructLayout(LayoutKind.Sequential)]
public unsafe struct KvmXsave
{
    public const int Size = 4096;
    public fixed byte Region[Size];
}

[StructLayout(LayoutKind.Sequential)]
public unsafe struct KvmXcrs
{
    public uint NrXcrs, Flags;

    // 16 x { u32 xcr; u32 reserved; u64 value; } followed by u64 padding[16].
    public fixed byte Xcrs[256];
    public fixed ulong Padding[16];
}

[StructLayout(LayoutKind.Sequential)]
public unsafe struct KvmDebugregs
{
    public fixed ulong Db[4];
    public ulong Dr6, Dr7, Flags;
    public fixed ulong Reserved[9];
}

[StructLayout(LayoutKind.Sequential)]
public unsafe struct KvmVcpuEvents
{
    public const int Size = 64;
    public fixed byte Bytes[Size];
}

[StructLayout(LayoutKind.Sequential)]
public struct KvmMpState
{
    public uint MpState;
}

[StructLayout(LayoutKind.Sequential)]
public unsafe struct KvmClockData
{
    public ulong Clock;
    public uint Flags, Pad0;
    public ulong Realtime, HostTsc;
    public fixed uint Pad[4];
}

[StructLayout(LayoutKind.Sequential)]
public unsafe struct KvmPitState2
{
    public const int Size = 112;
    public fixed byte Bytes[Size];
}

[StructLayout(LayoutKind.Sequential)]
public unsafe struct KvmIrqchip
{
    public const uint PicMaster = 0;
    public const uint PicSlave = 1;
    public const uint Ioapic = 2;

    public uint ChipId, Pad;
    public fixed byte Chip[512];
}

[StructLayout(LayoutKind.Sequential)]
public unsafe struct KvmPitConfig
{
    public uint Flags;
    public fixed uint Pad[15];
}

[StructLayout(LayoutKind.Sequential)]
public struct KvmUserspaceMemoryRegion
{
    public uint Slot, Flags;
    public ulong GuestPhysAddr, MemorySize, UserspaceAddr;
}

[StructLayout(LayoutKind.Sequential)]
public unsafe struct KvmIrqfd
{
    public uint Fd, Gsi, Flags, Resamplefd;
    public fixed byte Pad[16];
}

[StructLayout(LayoutKind.Sequential)]
public unsafe struct KvmIoeventfd
{
    public ulong Datamatch, Addr;
    public uint Len;
    public int Fd;
    public uint Flags;
    public fixed byte Pad[36];
}

[StructLayout(LayoutKind.Sequential)]
public struct KvmCpuidEntry2
{
    public uint Function, Index, Flags, Eax, Ebx, Ecx, Edx;
    public uint Padding0, Padding1, Padding2;
}

/// <summary>Header of kvm_cpuid2 / kvm_msrs (u32 count, u32 pad); entries follow it.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmListHeader
{
    public uint Count, Pad;
}

[StructLayout(LayoutKind.Sequential)]
public struct KvmMsrEntry
{
    public uint Index, Reserved;
    public ulong Data;
}

/// <summary>The fixed part of the shared kvm_run page, with the offsets of the exit union members.</summary>
public static class KvmRunLayout
{
    public const int Size = 2352;
    public const int ImmediateExit = 1;
    public const int ExitReason = 8;
    public const int ExitUnion = 32;
    public const int IoDirection = 32;
    public const int IoSize = 33;
    public const int IoPort = 34;
    public const int IoCount = 36;
    public const int IoDataOffset = 40;
    public const int MmioPhysAddr = 32;
    public const int MmioData = 40;
    public const int MmioLen = 48;
    public const int MmioIsWrite = 52;
    public const int InternalSuberror = 32;
    public const int InternalNdata = 36;
    public const int InternalData = 40;
    public const int SystemEventType = 32;
    public const int FailEntryReason = 32;
}
