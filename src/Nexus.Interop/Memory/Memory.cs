// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.InteropServices;

namespace Nexus.Interop;

/// <summary>mmap protection bits (PROT_*).</summary>
[Flags]
public enum MemoryProtection
{
    None = 0,
    Read = 0x1,
    Write = 0x2,
    Execute = 0x4,
    ReadWrite = Read | Write,
}

/// <summary>mmap flags (MAP_*), Linux values.</summary>
[Flags]
public enum MapFlags
{
    Shared = 0x01,
    Private = 0x02,
    Fixed = 0x10,
    Anonymous = 0x20,
    NoReserve = 0x4000,
    Populate = 0x8000,
}

/// <summary>madvise advice values (MADV_*), Linux values.</summary>
public enum MemoryAdvice
{
    Normal = 0,
    Random = 1,
    Sequential = 2,
    WillNeed = 3,
    DontNeed = 4,
    Remove = 9,
    DontFork = 10,
    DoFork = 11,
    HugePage = 14,
    NoHugePage = 15,
    DontDump = 16,
}

/// <summary>File seals (F_SEAL_*) for memfds.</summary>
[Flags]
public enum MemfdSeals
{
    None = 0,
    Seal = 0x1,
    Shrink = 0x2,
    Grow = 0x4,
    Write = 0x8,
}

/// <summary>memfd_create flags (MFD_*).</summary>
[Flags]
public enum MemfdFlags : uint
{
    None = 0,
    CloseOnExec = 0x1,
    AllowSealing = 0x2,
}

public static partial class Libc
{
    [LibraryImport(LibraryName, EntryPoint = "memfd_create", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int MemfdCreate(string name, uint flags);

    [LibraryImport(LibraryName, EntryPoint = "fcntl", SetLastError = true)]
    internal static partial int FcntlInt(int fd, int command, int argument);

    [LibraryImport(LibraryName, EntryPoint = "ftruncate", SetLastError = true)]
    internal static partial int Ftruncate(int fd, long length);

    [LibraryImport(LibraryName, EntryPoint = "mmap", SetLastError = true)]
    internal static partial nint Mmap(nint address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport(LibraryName, EntryPoint = "munmap", SetLastError = true)]
    internal static partial int Munmap(nint address, nuint length);

    [LibraryImport(LibraryName, EntryPoint = "madvise", SetLastError = true)]
    internal static partial int Madvise(nint address, nuint length, int advice);
}

/// <summary>Anonymous shared memory (memfd) and memory mappings.</summary>
public static class Memory
{
    /// <summary>
    /// Creates a memfd of <paramref name="size"/> bytes. Close-on-exec by default: a child gets it only
    /// through an explicit dup2 (spawn file actions), never by accident.
    /// </summary>
    public static SafeFd CreateMemfd(string name, long size, MemfdFlags flags = MemfdFlags.CloseOnExec)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        var fd = new SafeFd(Libc.Check(Libc.MemfdCreate(name, (uint)flags), "memfd_create"));
        try
        {
            Truncate(fd, size);
        }
        catch
        {
            fd.Dispose();
            throw;
        }

        return fd;
    }

    /// <summary>The size of the file behind <paramref name="fd"/> (fstat), e.g. a memfd another process handed over.</summary>
    public static long Length(SafeFd fd)
    {
        ArgumentNullException.ThrowIfNull(fd);
        using var file = new Microsoft.Win32.SafeHandles.SafeFileHandle(fd.DangerousGetHandle(), ownsHandle: false);
        return RandomAccess.GetLength(file);
    }

    /// <summary>Sets the size of the file behind <paramref name="fd"/>.</summary>
    public static void Truncate(SafeFd fd, long size)
    {
        ArgumentNullException.ThrowIfNull(fd);
        var added = false;
        try
        {
            fd.DangerousAddRef(ref added);
            Libc.Check(Libc.Ftruncate(fd.Fd, size), "ftruncate");
        }
        finally
        {
            if (added)
            {
                fd.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Adds seals to a memfd created with <see cref="MemfdFlags.AllowSealing"/>. A region shared with a sandbox is
    /// sealed against shrinking (which would make the host fault on its mapping) and against growing.
    /// </summary>
    public static void Seal(SafeFd fd, MemfdSeals seals)
    {
        ArgumentNullException.ThrowIfNull(fd);
        const int F_ADD_SEALS = 1033;
        var added = false;
        try
        {
            fd.DangerousAddRef(ref added);
            Libc.Check(Libc.FcntlInt(fd.Fd, F_ADD_SEALS, (int)seals), "fcntl(F_ADD_SEALS)");
        }
        finally
        {
            if (added)
            {
                fd.DangerousRelease();
            }
        }
    }

    /// <summary>Maps <paramref name="length"/> bytes of <paramref name="fd"/> (or anonymous memory when null).</summary>
    public static SafeMemoryMapping Map(SafeFd? fd, long length, MemoryProtection protection, MapFlags flags, long offset = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        var added = false;
        try
        {
            fd?.DangerousAddRef(ref added);
            var rawFd = fd is null ? -1 : fd.Fd;
            if (fd is null)
            {
                flags |= MapFlags.Anonymous;
            }

            var address = Libc.Check(Libc.Mmap(0, (nuint)length, (int)protection, (int)flags, rawFd, offset), "mmap");
            return new SafeMemoryMapping(address, length);
        }
        finally
        {
            if (added)
            {
                fd!.DangerousRelease();
            }
        }
    }

    /// <summary>Maps the whole of a shared file read-write (MAP_SHARED), as both ends of a channel do.</summary>
    public static SafeMemoryMapping MapShared(SafeFd fd, long length) =>
        Map(fd, length, MemoryProtection.ReadWrite, MapFlags.Shared);
}

/// <summary>An owned memory mapping, unmapped exactly once.</summary>
public sealed class SafeMemoryMapping : SafeHandle
{
    internal SafeMemoryMapping(nint address, long length)
        : base(0, ownsHandle: true)
    {
        SetHandle(address);
        Length = length;
    }

    public override bool IsInvalid => handle == 0 || handle == -1;

    /// <summary>The mapped length in bytes.</summary>
    public long Length { get; }

    /// <summary>The base address; valid only while this mapping is alive (hold a reference with DangerousAddRef).</summary>
    public nint Address => handle;

    /// <summary>madvise on a page-aligned subrange of the mapping.</summary>
    public void Advise(long offset, long length, MemoryAdvice advice)
    {
        if (offset < 0 || length < 0 || offset > Length - length)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"range [{offset}, +{length}) is outside the {Length}-byte mapping");
        }

        var added = false;
        try
        {
            DangerousAddRef(ref added);
            Libc.Check(Libc.Madvise(handle + (nint)offset, (nuint)length, (int)advice), "madvise");
        }
        finally
        {
            if (added)
            {
                DangerousRelease();
            }
        }
    }

    protected override bool ReleaseHandle() => Libc.Munmap(handle, (nuint)Length) == 0;
}
