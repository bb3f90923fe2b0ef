// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;
using Nexus.Vmm.VState;

namespace Nexus.Vmm.Arch.X64;

/// <summary>
/// Loads an uncompressed x86-64 ELF kernel (vmlinux or a test guest): every PT_LOAD segment at its
/// physical address, checked against the file and guest RAM. Returns the 64-bit entry point.
/// </summary>
public static class ElfLoader
{
    private const uint PtLoad = 1;
    private const uint PtNote = 4;
    private const uint XenElfnotePhys32Entry = 18;

    /// <summary>The 32-bit PVH entry point (XEN_ELFNOTE_PHYS32_ENTRY), present when the kernel has CONFIG_PVH; else null.</summary>
    public static uint? FindPvhEntry(ReadOnlySpan<byte> image)
    {
        if (image.Length < 64)
        {
            return null;
        }

        var phoff = BinaryPrimitives.ReadUInt64LittleEndian(image[32..]);
        var phentsize = BinaryPrimitives.ReadUInt16LittleEndian(image[54..]);
        var phnum = BinaryPrimitives.ReadUInt16LittleEndian(image[56..]);
        for (var i = 0; i < phnum; i++)
        {
            var at = phoff + (ulong)(i * phentsize);
            if (phentsize < 56 || at > (ulong)image.Length - 56)
            {
                return null;
            }

            var ph = image[(int)at..];
            var offset = BinaryPrimitives.ReadUInt64LittleEndian(ph[8..]);
            var size = BinaryPrimitives.ReadUInt64LittleEndian(ph[32..]);
            if (BinaryPrimitives.ReadUInt32LittleEndian(ph) != PtNote || offset > (ulong)image.Length || size > (ulong)image.Length - offset)
            {
                continue;
            }

            // Notes: u32 namesz, u32 descsz, u32 type, name and desc each padded to 4 bytes.
            var notes = image.Slice((int)offset, (int)size);
            while (notes.Length >= 12)
            {
                var nameSize = (int)BinaryPrimitives.ReadUInt32LittleEndian(notes);
                var descSize = (int)BinaryPrimitives.ReadUInt32LittleEndian(notes[4..]);
                var type = BinaryPrimitives.ReadUInt32LittleEndian(notes[8..]);
                var nameEnd = 12 + ((nameSize + 3) & ~3);
                var descEnd = nameEnd + ((descSize + 3) & ~3);
                if (nameSize < 0 || descSize < 0 || descEnd > notes.Length || descEnd < nameEnd)
                {
                    break;
                }

                if (type == XenElfnotePhys32Entry && nameSize == 4 && notes.Slice(12, 4).SequenceEqual("Xen\0"u8) && descSize >= 4)
                {
                    return BinaryPrimitives.ReadUInt32LittleEndian(notes[nameEnd..]);
                }

                notes = notes[descEnd..];
            }
        }

        return null;
    }

    public static ulong Load(GuestMemory memory, string path)
    {
        var image = File.ReadAllBytes(path);
        return Load(memory, image, path);
    }

    public static ulong Load(GuestMemory memory, ReadOnlySpan<byte> image, string name)
    {
        if (image.Length < 64 || !image[..4].SequenceEqual((ReadOnlySpan<byte>)[0x7f, (byte)'E', (byte)'L', (byte)'F']))
        {
            throw new InvalidDataException($"{name}: not an ELF file (a vmlinux is needed; a bzImage is not supported)");
        }

        if (image[4] != 2 || image[5] != 1 || BinaryPrimitives.ReadUInt16LittleEndian(image[18..]) != 62)
        {
            throw new InvalidDataException($"{name}: not a little-endian 64-bit x86-64 ELF");
        }

        var type = BinaryPrimitives.ReadUInt16LittleEndian(image[16..]);
        if (type != 2)
        {
            throw new InvalidDataException($"{name}: ELF type {type} is not an executable (ET_EXEC); an object file or shared library cannot be booted");
        }

        var entry = BinaryPrimitives.ReadUInt64LittleEndian(image[24..]);
        var phoff = BinaryPrimitives.ReadUInt64LittleEndian(image[32..]);
        var phentsize = BinaryPrimitives.ReadUInt16LittleEndian(image[54..]);
        var phnum = BinaryPrimitives.ReadUInt16LittleEndian(image[56..]);
        if (phentsize < 56 || phoff > (ulong)image.Length || (ulong)phnum * phentsize > (ulong)image.Length - phoff)
        {
            throw new InvalidDataException($"{name}: program header table (offset {phoff}, {phnum} x {phentsize}) is outside the file");
        }

        if (entry < Layout.HighMemoryStart)
        {
            throw new InvalidDataException($"{name}: entry point 0x{entry:x} is below 0x{Layout.HighMemoryStart:x}");
        }

        var loaded = 0;
        for (var i = 0; i < phnum; i++)
        {
            var ph = image[(int)(phoff + (ulong)(i * phentsize))..];
            if (BinaryPrimitives.ReadUInt32LittleEndian(ph) != PtLoad)
            {
                continue;
            }

            var offset = BinaryPrimitives.ReadUInt64LittleEndian(ph[8..]);
            var paddr = BinaryPrimitives.ReadUInt64LittleEndian(ph[24..]);
            var filesz = BinaryPrimitives.ReadUInt64LittleEndian(ph[32..]);
            var memsz = BinaryPrimitives.ReadUInt64LittleEndian(ph[40..]);
            if (offset > (ulong)image.Length || filesz > (ulong)image.Length - offset || memsz < filesz)
            {
                throw new InvalidDataException($"{name}: segment {i} (file offset {offset}, size {filesz}) is outside the file");
            }

            if (paddr < Layout.HighMemoryStart || !memory.IsValid(paddr, memsz) || memsz > int.MaxValue)
            {
                throw new InvalidDataException($"{name}: segment {i} at 0x{paddr:x}+0x{memsz:x} does not fit in guest RAM above 1 MiB");
            }

            var target = memory.GetSpan(paddr, (int)memsz);
            image.Slice((int)offset, (int)filesz).CopyTo(target);
            target[(int)filesz..].Clear();
            loaded++;
        }

        if (loaded == 0)
        {
            throw new InvalidDataException($"{name}: no PT_LOAD segment");
        }

        return entry;
    }
}
