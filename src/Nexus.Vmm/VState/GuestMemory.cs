// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Nexus.Interop;

namespace Nexus.Vmm.VState;

/// <summary>One contiguous range of guest-physical memory backed by a host mapping.</summary>
public sealed class GuestRegion
{
    internal GuestRegion(ulong guestAddress, SafeMemoryMapping mapping, SafeFd? backingFd)
    {
        GuestAddress = guestAddress;
        Mapping = mapping;
        BackingFd = backingFd;
    }

    public ulong GuestAddress { get; }

    public ulong Size => (ulong)Mapping.Length;

    public ulong End => GuestAddress + Size;

    public SafeMemoryMapping Mapping { get; }

    /// <summary>The memfd behind the region when it is shared with another process, else null.</summary>
    public SafeFd? BackingFd { get; }

    public bool Contains(ulong address, ulong length) =>
        address >= GuestAddress && length <= Size && address - GuestAddress <= Size - length;
}

/// <summary>A guest address or length outside guest RAM.</summary>
public sealed class GuestMemoryException : Exception
{
    public GuestMemoryException(string message)
        : base(message)
    {
    }

    public GuestMemoryException()
    {
    }

    public GuestMemoryException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Guest RAM: a set of non-overlapping regions. Every access is bounds-checked against one region,
/// because addresses come from the (hostile) guest. Accessors copy values out, so a value the
/// guest changes concurrently is read exactly once.
/// </summary>
public sealed class GuestMemory : IDisposable
{
    private readonly List<GuestRegion> _regions = [];

    public IReadOnlyList<GuestRegion> Regions => _regions;

    /// <summary>Total bytes of all regions.</summary>
    public ulong TotalSize => _regions.Aggregate(0UL, (sum, r) => sum + r.Size);

    /// <summary>Anonymous private RAM (MAP_NORESERVE: pages are allocated when first touched).</summary>
    public static GuestRegion Anonymous(ulong guestAddress, ulong size) =>
        new(guestAddress, Memory.Map(null, (long)size, MemoryProtection.ReadWrite, MapFlags.Private | MapFlags.NoReserve), null);

    /// <summary>RAM backed by a new memfd and mapped shared, so another process can map the same pages.</summary>
    public static GuestRegion SharedMemfd(string name, ulong guestAddress, ulong size)
    {
        var fd = Memory.CreateMemfd(name, (long)size);
        try
        {
            return new GuestRegion(guestAddress, Memory.MapShared(fd, (long)size), fd);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>A shared mapping of an existing memfd the caller owns (the region keeps its own duplicate-free reference).</summary>
    public static GuestRegion SharedFile(SafeFd fd, ulong guestAddress, ulong size) =>
        new(guestAddress, Memory.MapShared(fd, (long)size), fd);

    /// <summary>
    /// A copy-on-write view of <paramref name="size"/> bytes of a memory file at <paramref name="fileOffset"/>:
    /// pages load lazily on first touch and guest writes never reach the file.
    /// </summary>
    public static GuestRegion PrivateFile(SafeFd file, long fileOffset, ulong guestAddress, ulong size) =>
        new(guestAddress, Memory.Map(file, (long)size, MemoryProtection.ReadWrite, MapFlags.Private | MapFlags.NoReserve, fileOffset), null);

    public void Add(GuestRegion region)
    {
        foreach (var r in _regions)
        {
            if (region.GuestAddress < r.End && r.GuestAddress < region.End)
            {
                throw new ArgumentException($"region 0x{region.GuestAddress:x}+0x{region.Size:x} overlaps 0x{r.GuestAddress:x}+0x{r.Size:x}");
            }
        }

        _regions.Add(region);
    }

    public bool IsValid(ulong address, ulong length) => Find(address, length) is not null;

    /// <summary>A host view of guest bytes; throws when the range is not inside one region.</summary>
    public unsafe Span<byte> GetSpan(ulong address, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var region = Find(address, (ulong)length)
            ?? throw new GuestMemoryException($"guest range 0x{address:x}+0x{length:x} is outside guest memory");

        // SAFETY: Find checked [address, address+length) lies inside the region's live mapping,
        // which stays mapped until this GuestMemory is disposed (after every vCPU and device stopped).
        return new Span<byte>((byte*)region.Mapping.Address + (address - region.GuestAddress), length);
    }

    public void Read(ulong address, Span<byte> destination) => GetSpan(address, destination.Length).CopyTo(destination);

    public void Write(ulong address, ReadOnlySpan<byte> source) => source.CopyTo(GetSpan(address, source.Length));

    public byte ReadU8(ulong address) => GetSpan(address, 1)[0];

    public ushort ReadU16(ulong address) => BinaryPrimitives.ReadUInt16LittleEndian(GetSpan(address, 2));

    public uint ReadU32(ulong address) => BinaryPrimitives.ReadUInt32LittleEndian(GetSpan(address, 4));

    public ulong ReadU64(ulong address) => BinaryPrimitives.ReadUInt64LittleEndian(GetSpan(address, 8));

    public void WriteU8(ulong address, byte value) => GetSpan(address, 1)[0] = value;

    public void WriteU16(ulong address, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(GetSpan(address, 2), value);

    public void WriteU32(ulong address, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(GetSpan(address, 4), value);

    public void WriteU64(ulong address, ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(GetSpan(address, 8), value);

    /// <summary>Reads a blittable struct (copied, so the guest cannot change it afterwards).</summary>
    public T ReadStruct<T>(ulong address)
        where T : unmanaged
    {
        return MemoryMarshal.Read<T>(GetSpan(address, System.Runtime.CompilerServices.Unsafe.SizeOf<T>()));
    }

    public void Dispose()
    {
        foreach (var r in _regions)
        {
            r.Mapping.Dispose();
            r.BackingFd?.Dispose();
        }

        _regions.Clear();
    }

    private GuestRegion? Find(ulong address, ulong length)
    {
        foreach (var r in _regions)
        {
            if (r.Contains(address, length))
            {
                return r;
            }
        }

        return null;
    }
}
