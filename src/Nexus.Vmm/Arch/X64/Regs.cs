// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Interop;
using Nexus.Vmm.VState;

namespace Nexus.Vmm.Arch.X64;

/// <summary>Long-mode entry state for the boot vCPU: GDT, IDT, identity page tables, registers.</summary>
public static class Regs
{
    public const ulong Cr0Pe = 0x1;
    public const ulong Cr0Pg = 0x8000_0000;
    public const ulong Cr4Pae = 0x20;
    public const ulong EferLme = 0x100;
    public const ulong EferLma = 0x400;

    /// <summary>NULL, 64-bit code (0x08), data (0x10), TSS (0x18): Firecracker's boot GDT.</summary>
    public static readonly ulong[] BootGdt =
    [
        Gdt.Entry(0, 0, 0),
        Gdt.Entry(0xa09b, 0, 0xfffff),
        Gdt.Entry(0xc093, 0, 0xfffff),
        Gdt.Entry(0x808b, 0, 0xfffff),
    ];

    /// <summary>Writes the GDT, a null IDT and page tables identity-mapping the low 4 GiB with 2 MiB pages.</summary>
    public static void WriteBootTables(GuestMemory memory)
    {
        for (var i = 0; i < BootGdt.Length; i++)
        {
            memory.WriteU64(Layout.BootGdt + (ulong)(i * 8), BootGdt[i]);
        }

        memory.WriteU64(Layout.BootIdt, 0);
        memory.WriteU64(Layout.Pml4, Layout.Pdpt | 0x03);
        for (var g = 0UL; g < Layout.IdentityMappedGiB; g++)
        {
            var pd = Layout.Pd + (g * 0x1000);
            memory.WriteU64(Layout.Pdpt + (g * 8), pd | 0x03);
            for (var i = 0UL; i < 512; i++)
            {
                memory.WriteU64(pd + (i * 8), (((g * 512) + i) << 21) | 0x83);
            }
        }
    }

    /// <summary>Special registers for 64-bit entry, OR-ed onto what KVM_GET_SREGS returned.</summary>
    public static KvmSregs LongModeSregs(KvmSregs sregs)
    {
        var code = Gdt.Segment(BootGdt[1], 1);
        var data = Gdt.Segment(BootGdt[2], 2);
        var tss = Gdt.Segment(BootGdt[3], 3);
        sregs.Gdt = new KvmDtable { Base = Layout.BootGdt, Limit = (ushort)((BootGdt.Length * 8) - 1) };
        sregs.Idt = new KvmDtable { Base = Layout.BootIdt, Limit = 7 };
        sregs.Cs = code;
        sregs.Ds = sregs.Es = sregs.Fs = sregs.Gs = sregs.Ss = data;
        sregs.Tr = tss;
        sregs.Cr0 |= Cr0Pe | Cr0Pg;
        sregs.Cr3 = Layout.Pml4;
        sregs.Cr4 |= Cr4Pae;
        sregs.Efer |= EferLme | EferLma;
        return sregs;
    }

    /// <summary>RIP at the entry point, the boot stack, RSI at the zero page (Linux 64-bit boot protocol).</summary>
    public static KvmRegs EntryRegs(ulong entry) => new()
    {
        Rflags = 0x2,
        Rip = entry,
        Rsp = Layout.BootStack,
        Rbp = Layout.BootStack,
        Rsi = Layout.ZeroPage,
    };

    public static KvmFpu BootFpu() => new() { Fcw = 0x37f, Mxcsr = 0x1f80 };

    /// <summary>LAPIC LINT0 = ExtINT (the PIC), LINT1 = NMI, as a PC wires them.</summary>
    public static unsafe KvmLapicState SetLint(KvmLapicState lapic)
    {
        const int Lvt0 = 0x350;
        const int Lvt1 = 0x360;

        // SAFETY: both offsets plus 4 are inside the 1024-byte register page.
        var regs = lapic.Regs;
        *(uint*)(regs + Lvt0) = (*(uint*)(regs + Lvt0) & ~0x700u) | (7u << 8);
        *(uint*)(regs + Lvt1) = (*(uint*)(regs + Lvt1) & ~0x700u) | (4u << 8);
        return lapic;
    }
}

/// <summary>GDT descriptor encoding (Firecracker's gdt.rs).</summary>
public static class Gdt
{
    /// <summary>flags holds access byte (low 8 bits) and the G/DB/L/AVL nibble (bits 12-15).</summary>
    public static ulong Entry(ushort flags, uint baseAddress, uint limit) =>
        ((ulong)(baseAddress & 0xff00_0000) << 32)
        | ((ulong)(flags & 0xf0ff) << 40)
        | ((ulong)(limit & 0x000f_0000) << 32)
        | ((ulong)(baseAddress & 0x00ff_ffff) << 16)
        | (limit & 0x0000_ffff);

    /// <summary>The kvm_segment KVM expects for a descriptor loaded from GDT slot <paramref name="index"/>.</summary>
    public static KvmSegment Segment(ulong entry, ushort index)
    {
        var g = (byte)((entry >> 55) & 1);
        var rawLimit = (uint)(((entry >> 32) & 0x000f_0000) | (entry & 0xffff));
        var present = (byte)((entry >> 47) & 1);
        return new KvmSegment
        {
            Base = ((entry >> 16) & 0x00ff_ffff) | ((entry >> 32) & 0xff00_0000),
            Limit = g == 1 ? (rawLimit << 12) | 0xfff : rawLimit,
            Selector = (ushort)(index * 8),
            Type = (byte)((entry >> 40) & 0xf),
            Present = present,
            Dpl = (byte)((entry >> 45) & 3),
            Db = (byte)((entry >> 54) & 1),
            S = (byte)((entry >> 44) & 1),
            L = (byte)((entry >> 53) & 1),
            G = g,
            Avl = (byte)((entry >> 52) & 1),
            Unusable = (byte)(present == 0 ? 1 : 0),
        };
    }
}
