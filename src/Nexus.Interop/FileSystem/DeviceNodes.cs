// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.InteropServices;

namespace Nexus.Interop.FileSystem;

/// <summary>
/// Character device nodes and file ownership, for a jail's own /dev (Firecracker's jailer makes /dev/kvm and
/// /dev/net/tun inside the chroot, owned by the jailed uid, instead of exposing the host's /dev).
/// </summary>
public static partial class DeviceNodes
{
    /// <summary>S_IFCHR: the file type bits of a character device.</summary>
    private const uint CharacterDeviceType = 0x2000;

    /// <summary>Makes a character device node (major, minor) at <paramref name="path"/> with permission bits <paramref name="mode"/>.</summary>
    public static void CreateCharacterDevice(string path, uint major, uint minor, UnixFileMode mode)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("device nodes are made on Linux only");
        }

        // glibc's makedev: the low 8 bits of minor and 12 of major in the classic places, the rest above.
        var device = ((ulong)(major & 0xfff) << 8) | (minor & 0xff) | ((ulong)(minor & ~0xffu) << 12) | ((ulong)(major & ~0xfffu) << 32);
        Libc.Check(MkNod(path, CharacterDeviceType | (uint)mode, device), $"mknod({path})");

        // mknod applies the umask; the node must have exactly the bits asked for.
        File.SetUnixFileMode(path, mode);
    }

    /// <summary>Gives <paramref name="path"/> (not following a symbolic link) to <paramref name="uid"/>:<paramref name="gid"/>.</summary>
    public static void SetOwner(string path, int uid, int gid) => Libc.Check(LChown(path, uid, gid), $"lchown({path}, {uid}, {gid})");

    [LibraryImport(Libc.LibraryName, EntryPoint = "mknod", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int MkNod(string path, uint mode, ulong device);

    [LibraryImport(Libc.LibraryName, EntryPoint = "lchown", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int LChown(string path, int uid, int gid);
}
