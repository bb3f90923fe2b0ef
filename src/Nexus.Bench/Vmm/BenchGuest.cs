// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;

namespace Nexus.Bench.Vmm;

/// <summary>
/// The benchmark guest, assembled once (GNU as, listing below) and embedded so `nexus vmm bench`
/// needs no toolchain. Wrapped in a one-segment ELF loaded at 1 MiB.
/// </summary>
public static class BenchGuest
{
    public const ushort FirstInstructionPort = 0x80;
    public const ushort LoopPort = 0x81;

    /// <summary>Bytes of guest RAM the guest touches (from 4 MiB), so a snapshot has real pages to save.</summary>
    public const ulong TouchedBytes = 64UL << 20;

    // out 0x80, al                    ; first instruction: an exit
    // mov al, 'N' / mov dx, 0x3f8 / out dx, al   ; first serial byte
    // mov edi, 0x400000
    // 1: mov byte [rdi], 1 / add rdi, 0x1000 / cmp rdi, 0x4400000 / jb 1b   ; touch 64 MiB
    // 2: out 0x81, al / jmp 2b         ; idle loop with exits
    private static readonly byte[] s_code =
    [
        0xe6, 0x80, 0xb0, 0x4e, 0x66, 0xba, 0xf8, 0x03, 0xee, 0xbf, 0x00, 0x00, 0x40, 0x00,
        0xc6, 0x07, 0x01, 0x48, 0x81, 0xc7, 0x00, 0x10, 0x00, 0x00, 0x48, 0x81, 0xff, 0x00,
        0x00, 0x40, 0x04, 0x72, 0xed, 0xe6, 0x81, 0xeb, 0xfc,
    ];

    /// <summary>Writes the guest as an ELF file; returns its path.</summary>
    public static string Write(string directory)
    {
        var path = Path.Combine(directory, "nexus-bench-guest.elf");
        File.WriteAllBytes(path, Elf(s_code, 0x100000));
        return path;
    }

    /// <summary>A minimal ELF64 executable: one PT_LOAD of <paramref name="code"/> at <paramref name="address"/>.</summary>
    public static byte[] Elf(ReadOnlySpan<byte> code, ulong address)
    {
        const int CodeOffset = 0x1000;
        var elf = new byte[CodeOffset + code.Length];
        var s = elf.AsSpan();
        s[0] = 0x7f;
        "ELF"u8.CopyTo(s[1..]);
        s[4] = 2; // 64-bit
        s[5] = 1; // little-endian
        s[6] = 1; // ELF version
        BinaryPrimitives.WriteUInt16LittleEndian(s[16..], 2); // ET_EXEC
        BinaryPrimitives.WriteUInt16LittleEndian(s[18..], 62); // x86-64
        BinaryPrimitives.WriteUInt32LittleEndian(s[20..], 1);
        BinaryPrimitives.WriteUInt64LittleEndian(s[24..], address);
        BinaryPrimitives.WriteUInt64LittleEndian(s[32..], 64);
        BinaryPrimitives.WriteUInt16LittleEndian(s[52..], 64);
        BinaryPrimitives.WriteUInt16LittleEndian(s[54..], 56);
        BinaryPrimitives.WriteUInt16LittleEndian(s[56..], 1);
        var ph = s[64..];
        BinaryPrimitives.WriteUInt32LittleEndian(ph, 1); // PT_LOAD
        BinaryPrimitives.WriteUInt32LittleEndian(ph[4..], 5); // R+X
        BinaryPrimitives.WriteUInt64LittleEndian(ph[8..], CodeOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(ph[16..], address);
        BinaryPrimitives.WriteUInt64LittleEndian(ph[24..], address);
        BinaryPrimitives.WriteUInt64LittleEndian(ph[32..], (ulong)code.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(ph[40..], (ulong)code.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(ph[48..], 0x1000);
        code.CopyTo(s[CodeOffset..]);
        return elf;
    }
}
