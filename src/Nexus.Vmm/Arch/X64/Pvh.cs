// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;
using Nexus.Interop;
using Nexus.Vmm.VState;

namespace Nexus.Vmm.Arch.X64;

/// <summary>
/// The PVH boot path (Firecracker >= 1.12, docs/pvh.md): 32-bit protected mode without paging at the
/// kernel's XEN_ELFNOTE_PHYS32_ENTRY, EBX pointing at an hvm_start_info with the memory map.
/// </summary>
public static class Pvh
{
    public const ulong StartInfo = 0x6000;
    public const ulong MemoryMap = 0x7000;
    public const uint StartInfoMagic = 0x336e_c578;

    /// <summary>Flat 32-bit code (0x08), data (0x10) and TSS (0x18) descriptors.</summary>
    public static readonly ulong[] Gdt =
    [
        X64.Gdt.Entry(0, 0, 0),
        X64.Gdt.Entry(0xc09b, 0, 0xffffffff),
        X64.Gdt.Entry(0xc093, 0, 0xffffffff),
        X64.Gdt.Entry(0x008b, 0, 0x67),
    ];

    /// <summary>Writes hvm_start_info (version 1) and its memory map (the e820 entries).</summary>
    public static void WriteStartInfo(GuestMemory memory, ulong memorySize)
    {
        var e820 = BootParams.E820(memorySize);
        var info = new byte[56];
        BinaryPrimitives.WriteUInt32LittleEndian(info, StartInfoMagic);
        BinaryPrimitives.WriteUInt32LittleEndian(info.AsSpan(4), 1);
        BinaryPrimitives.WriteUInt64LittleEndian(info.AsSpan(24), Layout.CmdlineStart);
        BinaryPrimitives.WriteUInt64LittleEndian(info.AsSpan(40), MemoryMap);
        BinaryPrimitives.WriteUInt32LittleEndian(info.AsSpan(48), (uint)e820.Count);
        memory.Write(StartInfo, info);
        for (var i = 0; i < e820.Count; i++)
        {
            var at = MemoryMap + (ulong)(i * 24);
            memory.WriteU64(at, e820[i].Address);
            memory.WriteU64(at + 8, e820[i].Size);
            memory.WriteU32(at + 16, e820[i].Type);
            memory.WriteU32(at + 20, 0);
        }

        for (var i = 0; i < Gdt.Length; i++)
        {
            memory.WriteU64(Layout.BootGdt + (ulong)(i * 8), Gdt[i]);
        }

        memory.WriteU64(Layout.BootIdt, 0);
    }

    public static KvmRegs EntryRegs(uint entry) => new() { Rflags = 0x2, Rip = entry, Rbx = StartInfo };

    /// <summary>Protected mode, paging off: CR0 = PE|ET, CR4 = 0, EFER = 0.</summary>
    public static KvmSregs EntrySregs(KvmSregs sregs)
    {
        var code = X64.Gdt.Segment(Gdt[1], 1);
        var data = X64.Gdt.Segment(Gdt[2], 2);
        sregs.Gdt = new KvmDtable { Base = Layout.BootGdt, Limit = (ushort)((Gdt.Length * 8) - 1) };
        sregs.Idt = new KvmDtable { Base = Layout.BootIdt, Limit = 7 };
        sregs.Cs = code;
        sregs.Ds = sregs.Es = sregs.Fs = sregs.Gs = sregs.Ss = data;
        sregs.Tr = X64.Gdt.Segment(Gdt[3], 3);
        sregs.Cr0 = 0x11;
        sregs.Cr3 = 0;
        sregs.Cr4 = 0;
        sregs.Efer = 0;
        return sregs;
    }
}
