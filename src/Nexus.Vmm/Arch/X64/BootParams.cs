// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;
using Nexus.Vmm.VState;

namespace Nexus.Vmm.Arch.X64;

/// <summary>The Linux zero page (struct boot_params) with the e820 map (Documentation/arch/x86/zero-page.rst).</summary>
public static class BootParams
{
    public const int Size = 4096;
    public const int E820EntriesOffset = 0x1e8;
    public const int BootFlagOffset = 0x1fe;
    public const int HeaderOffset = 0x202;
    public const int TypeOfLoaderOffset = 0x210;
    public const int CmdLinePtrOffset = 0x228;
    public const int KernelAlignmentOffset = 0x230;
    public const int CmdlineSizeOffset = 0x238;
    public const int E820TableOffset = 0x2d0;
    public const int E820Max = 128;
    public const uint E820Ram = 1;
    public const uint E820Reserved = 2;

    /// <summary>RAM below the EBDA, the EBDA/MP table reserved, RAM above 1 MiB up to the MMIO gap, RAM above 4 GiB.</summary>
    public static List<(ulong Address, ulong Size, uint Type)> E820(ulong memorySize)
    {
        var map = new List<(ulong, ulong, uint)>
        {
            (0, Layout.MpTableStart, E820Ram),
            (Layout.MpTableStart, Layout.EbdaEnd - Layout.MpTableStart, E820Reserved),
        };
        var lowEnd = Math.Min(memorySize, Layout.MmioGapStart);
        if (lowEnd > Layout.HighMemoryStart)
        {
            map.Add((Layout.HighMemoryStart, lowEnd - Layout.HighMemoryStart, E820Ram));
        }

        if (memorySize > Layout.MmioGapStart)
        {
            map.Add((Layout.MmioGapEnd, memorySize - Layout.MmioGapStart, E820Ram));
        }

        return map;
    }

    public static byte[] Build(ulong memorySize, int cmdlineLength)
    {
        var zero = new byte[Size];
        var span = zero.AsSpan();
        BinaryPrimitives.WriteUInt16LittleEndian(span[BootFlagOffset..], 0xaa55);
        BinaryPrimitives.WriteUInt32LittleEndian(span[HeaderOffset..], 0x5372_6448); // "HdrS"
        span[TypeOfLoaderOffset] = 0xff;
        BinaryPrimitives.WriteUInt32LittleEndian(span[CmdLinePtrOffset..], (uint)Layout.CmdlineStart);
        BinaryPrimitives.WriteUInt32LittleEndian(span[CmdlineSizeOffset..], (uint)cmdlineLength + 1);
        BinaryPrimitives.WriteUInt32LittleEndian(span[KernelAlignmentOffset..], 0x0100_0000);
        var e820 = E820(memorySize);
        span[E820EntriesOffset] = (byte)e820.Count;
        for (var i = 0; i < e820.Count; i++)
        {
            var entry = span[(E820TableOffset + (i * 20))..];
            BinaryPrimitives.WriteUInt64LittleEndian(entry, e820[i].Address);
            BinaryPrimitives.WriteUInt64LittleEndian(entry[8..], e820[i].Size);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[16..], e820[i].Type);
        }

        return zero;
    }

    /// <summary>Writes the NUL-terminated command line at 0x20000 and the zero page at 0x7000.</summary>
    public static void Write(GuestMemory memory, ulong memorySize, string cmdline)
    {
        var bytes = System.Text.Encoding.ASCII.GetBytes(cmdline);
        if (bytes.Length + 1 > Layout.CmdlineMax)
        {
            throw new ArgumentException($"kernel command line is {bytes.Length} bytes; the limit is {Layout.CmdlineMax - 1}", nameof(cmdline));
        }

        memory.Write(Layout.CmdlineStart, [.. bytes, 0]);
        memory.Write(Layout.ZeroPage, Build(memorySize, bytes.Length));
    }
}
