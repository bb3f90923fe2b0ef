// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.InteropServices;

namespace Nexus.Interop;

/// <summary>Durability of directory entries (renames, unlinks) for crash-safe stores.</summary>
public static partial class DirectorySync
{
    private const int O_RDONLY = 0;
    private const int O_DIRECTORY = 0x10000;
    private const int O_CLOEXEC = 0x80000;
    private const int EINTR = 4;

    [LibraryImport(Libc.LibraryName, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenForDirectorySync(string path, int flags);

    [LibraryImport(Libc.LibraryName, EntryPoint = "fsync", SetLastError = true)]
    private static partial int FsyncForDirectorySync(SafeFd fd);

    /// <summary>
    /// fsync(2) a directory so that renames and unlinks inside it are durable:
    /// .NET cannot open a directory as a file handle, so this needs its own open(O_DIRECTORY).
    /// </summary>
    public static void Fsync(string path)
    {
        int raw;
        do
        {
            raw = OpenForDirectorySync(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        }
        while (raw == -1 && Marshal.GetLastPInvokeError() == EINTR);

        using var fd = new SafeFd(Libc.Check(raw, "open(" + path + ")"));
        int result;
        do
        {
            result = FsyncForDirectorySync(fd);
        }
        while (result == -1 && Marshal.GetLastPInvokeError() == EINTR);

        Libc.Check(result, "fsync(" + path + ")");
    }
}
