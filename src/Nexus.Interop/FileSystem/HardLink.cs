// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.InteropServices;

namespace Nexus.Interop.FileSystem;

/// <summary>Hard links (link(2)): a second name for the same inode, no copy.</summary>
public static partial class HardLink
{
    private const int EXDEV = 18;

    /// <summary>Links <paramref name="newPath"/> to <paramref name="existing"/>; false when they are on different file systems.</summary>
    public static bool TryCreate(string existing, string newPath)
    {
        if (Link(existing, newPath) == 0)
        {
            return true;
        }

        var errno = Marshal.GetLastPInvokeError();
        return errno == EXDEV ? false : throw new UnixException($"link({existing}, {newPath})", errno);
    }

    [LibraryImport(Libc.LibraryName, EntryPoint = "link", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Link(string existing, string newPath);
}
