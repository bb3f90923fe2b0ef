// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.InteropServices;

namespace Nexus.Interop.FileSystem;

/// <summary>mount(2) flags used by Nexus.</summary>
[Flags]
public enum MountFlags : ulong
{
    None = 0,
    NoSuid = 0x2,
    NoDev = 0x4,
    NoExec = 0x8,
    Bind = 0x1000,
    Recursive = 0x4000,
    Unbindable = 0x20000,
}

/// <summary>
/// Mounts, unmounts and directories as bare system calls (no path is touched but the ones given), for work done inside
/// another mount namespace (<see cref="MountNamespace.RunIn"/>).
/// </summary>
public static partial class Mounts
{
    private const int MNT_DETACH = 2;

    /// <summary>mount(2): <paramref name="source"/> on <paramref name="target"/>.</summary>
    public static void Mount(string? source, string target, string? fileSystemType, MountFlags flags, string? data = null) =>
        Libc.Check(MountCall(source, target, fileSystemType, (ulong)flags, data), $"mount({source ?? "none"}, {target}, {fileSystemType ?? "-"}, {flags})");

    /// <summary>Detaches the mount at <paramref name="target"/> and every mount under it (umount2 MNT_DETACH): gone once nothing uses them.</summary>
    public static void Detach(string target) => Libc.Check(Umount2(target, MNT_DETACH), $"umount2({target}, MNT_DETACH)");

    /// <summary>Makes directory <paramref name="path"/> with exactly <paramref name="mode"/> (the umask does not apply).</summary>
    public static void MakeDirectory(string path, UnixFileMode mode)
    {
        Libc.Check(MkDir(path, (uint)mode), $"mkdir({path})");
        SetMode(path, mode);
    }

    /// <summary>chmod(2).</summary>
    public static void SetMode(string path, UnixFileMode mode) => Libc.Check(ChMod(path, (uint)mode), $"chmod({path})");

    /// <summary>Removes the empty directory <paramref name="path"/>.</summary>
    public static void RemoveDirectory(string path) => Libc.Check(RmDir(path), $"rmdir({path})");

    [LibraryImport(Libc.LibraryName, EntryPoint = "mount", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int MountCall(string? source, string target, string? fileSystemType, ulong flags, string? data);

    [LibraryImport(Libc.LibraryName, EntryPoint = "umount2", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Umount2(string target, int flags);

    [LibraryImport(Libc.LibraryName, EntryPoint = "mkdir", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int MkDir(string path, uint mode);

    [LibraryImport(Libc.LibraryName, EntryPoint = "chmod", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int ChMod(string path, uint mode);

    [LibraryImport(Libc.LibraryName, EntryPoint = "rmdir", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int RmDir(string path);
}
