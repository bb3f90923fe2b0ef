// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;
using Nexus.Interop;
using Nexus.Vmm.Arch.X64;
using Nexus.Vmm.VState;

namespace Nexus.Vmm.Tests;

/// <summary>Boot structures: GDT, page tables, zero page, e820, MP table, ELF checks, CPUID profile.</summary>
public sealed class BootLayoutTests
{
    [Fact]
    public void GdtMatchesFirecrackerEncoding()
    {
        Assert.Equal(0x00af9b000000ffffUL, Regs.BootGdt[1]);
        Assert.Equal(0x00cf93000000ffffUL, Regs.BootGdt[2]);
        Assert.Equal(0x008f8b000000ffffUL, Regs.BootGdt[3]);
        var code = Gdt.Segment(Regs.BootGdt[1], 1);
        Assert.Equal((0x08, 0xffffffffu, 0xb, 1, 1, 0), (code.Selector, code.Limit, code.Type, code.L, code.G, code.Db));
        var data = Gdt.Segment(Regs.BootGdt[2], 2);
        Assert.Equal((0x10, 3, 0, 1), (data.Selector, data.Type, data.L, data.Db));
    }

    [Fact]
    public void PageTablesIdentityMapLowFourGiB()
    {
        using var memory = new GuestMemory();
        memory.Add(GuestMemory.Anonymous(0, 1 << 20));
        Regs.WriteBootTables(memory);
        var sregs = Regs.LongModeSregs(default);
        foreach (var va in new ulong[] { 0, 0x100000, 0x3fff_ffff, 0xd000_0000, 0xfee0_00b0 })
        {
            Assert.Equal(va, PageWalk.Translate(memory, sregs, va));
        }

        Assert.Null(PageWalk.Translate(memory, sregs, 0x1_0000_0000));
        Assert.Equal(Regs.Cr0Pe | Regs.Cr0Pg, sregs.Cr0);
        Assert.Equal(Regs.EferLme | Regs.EferLma, sregs.Efer);
    }

    [Fact]
    public void E820LeavesTheMmioGapAndEbdaOut()
    {
        Assert.Equal(
            [(0UL, 0x9fc00UL, 1u), (0x9fc00, 0x400, 2), (0x100000, (128UL << 20) - 0x100000, 1)],
            BootParams.E820(128UL << 20));
        var big = BootParams.E820(4UL << 30);
        Assert.Equal((0x100000UL, 0xd000_0000UL - 0x100000, 1u), big[2]);
        Assert.Equal((0x1_0000_0000UL, (4UL << 30) - 0xd000_0000, 1u), big[3]);
    }

    [Fact]
    public void ZeroPageCarriesHeaderCommandLineAndE820()
    {
        var zero = BootParams.Build(64UL << 20, 10);
        Assert.Equal(0xaa55, BinaryPrimitives.ReadUInt16LittleEndian(zero.AsSpan(0x1fe)));
        Assert.Equal(0x53726448u, BinaryPrimitives.ReadUInt32LittleEndian(zero.AsSpan(0x202)));
        Assert.Equal(0xff, zero[0x210]);
        Assert.Equal(0x20000u, BinaryPrimitives.ReadUInt32LittleEndian(zero.AsSpan(0x228)));
        Assert.Equal(11u, BinaryPrimitives.ReadUInt32LittleEndian(zero.AsSpan(0x238)));
        Assert.Equal(3, zero[0x1e8]);
        Assert.Equal(0x100000UL, BinaryPrimitives.ReadUInt64LittleEndian(zero.AsSpan(0x2d0 + 40)));
    }

    [Fact]
    public void CommandLineTooLongIsRefused()
    {
        using var memory = new GuestMemory();
        memory.Add(GuestMemory.Anonymous(0, 1 << 20));
        var e = Assert.Throws<ArgumentException>(() => BootParams.Write(memory, 1 << 20, new string('x', 2048)));
        Assert.Contains("2048 bytes", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void MpTableChecksumsAndCountsAreRight(int cpus)
    {
        var table = MpTable.Build(cpus);
        Assert.Equal("_MP_"u8.ToArray(), table[..4]);
        Assert.Equal(0, Sum(table.AsSpan(0, 16)));
        var config = table.AsSpan(16);
        Assert.Equal("PCMP"u8.ToArray(), config[..4].ToArray());
        var length = BinaryPrimitives.ReadUInt16LittleEndian(config[4..]);
        Assert.Equal(config.Length, length);
        Assert.Equal(0, Sum(config));
        Assert.Equal(44 + (cpus * 20) + 8 + 8 + (24 * 8) + (2 * 8), length);
        Assert.Equal(cpus + 1 + 1 + 24 + 2, BinaryPrimitives.ReadUInt16LittleEndian(config[34..]));
    }

    [Fact]
    public void ElfLoaderRejectsSegmentsOutsideRamAndNonElf()
    {
        using var memory = new GuestMemory();
        memory.Add(GuestMemory.Anonymous(0, 4 << 20));
        Assert.Throws<InvalidDataException>(() => ElfLoader.Load(memory, new byte[128], "zeros"));

        var elf = MinimalElf(paddr: 0x100000, filesz: 16, memsz: 64);
        Assert.Equal(0x100000UL, ElfLoader.Load(memory, elf, "ok"));

        var relocatable = MinimalElf(paddr: 0x100000, filesz: 16, memsz: 64);
        relocatable[16] = 1;
        Assert.Contains("ET_EXEC", Assert.Throws<InvalidDataException>(() => ElfLoader.Load(memory, relocatable, "obj")).Message, StringComparison.Ordinal);

        var outside = MinimalElf(paddr: 0x3ff000, filesz: 16, memsz: 0x10000);
        Assert.Contains("does not fit", Assert.Throws<InvalidDataException>(() => ElfLoader.Load(memory, outside, "big")).Message, StringComparison.Ordinal);

        var truncated = MinimalElf(paddr: 0x100000, filesz: 0x10000, memsz: 0x10000);
        Assert.Contains("outside the file", Assert.Throws<InvalidDataException>(() => ElfLoader.Load(memory, truncated, "cut")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SoftwareKvmProfileHidesWhatTheEmulatorCannotRun()
    {
        KvmCpuidEntry2[] supported =
        [
            new() { Function = 1, Ecx = uint.MaxValue, Edx = uint.MaxValue },
            new() { Function = 7, Index = 0, Ebx = uint.MaxValue },
            new() { Function = 0xd, Eax = 7 },
            new() { Function = 0xa, Eax = 0x1234 },
        ];
        var soft = Cpuid.Normalize(supported, 0, 1, softwareKvm: true);
        var leaf1 = soft.Single(e => e.Function == 1);
        Assert.Equal(0u, leaf1.Ecx & ((1u << 23) | (1u << 26) | (1u << 27) | (1u << 28)));
        Assert.NotEqual(0u, leaf1.Ecx & (1u << 31));
        Assert.Equal(0u, soft.Single(e => e.Function == 7).Ebx & ((1u << 5) | (1u << 7) | (1u << 16) | (1u << 20)));
        Assert.DoesNotContain(soft, e => e.Function == 0xd);
        Assert.Equal(0u, soft.Single(e => e.Function == 0xa).Eax);

        var hard = Cpuid.Normalize(supported, 2, 4, softwareKvm: false);
        var hard1 = hard.Single(e => e.Function == 1);
        Assert.NotEqual(0u, hard1.Ecx & (1u << 26));
        Assert.Equal(2u, hard1.Ebx >> 24);
        Assert.Equal(4u, (hard1.Ebx >> 16) & 0xff);
        Assert.Contains(hard, e => e.Function == 0xd);
    }

    private static int Sum(ReadOnlySpan<byte> bytes)
    {
        var sum = 0;
        foreach (var b in bytes)
        {
            sum += b;
        }

        return sum & 0xff;
    }

    private static byte[] MinimalElf(ulong paddr, ulong filesz, ulong memsz)
    {
        var elf = new byte[0x1000];
        elf[0] = 0x7f;
        "ELF"u8.CopyTo(elf.AsSpan(1));
        elf[4] = 2;
        elf[5] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(16), 2);
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(18), 62);
        BinaryPrimitives.WriteUInt64LittleEndian(elf.AsSpan(24), paddr);
        BinaryPrimitives.WriteUInt64LittleEndian(elf.AsSpan(32), 64);
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(54), 56);
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(56), 1);
        var ph = elf.AsSpan(64);
        BinaryPrimitives.WriteUInt32LittleEndian(ph, 1);
        BinaryPrimitives.WriteUInt64LittleEndian(ph[8..], 0x200);
        BinaryPrimitives.WriteUInt64LittleEndian(ph[24..], paddr);
        BinaryPrimitives.WriteUInt64LittleEndian(ph[32..], filesz);
        BinaryPrimitives.WriteUInt64LittleEndian(ph[40..], memsz);
        return elf;
    }
}
