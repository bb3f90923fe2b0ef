// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Nexus.Interop;

/// <summary>
/// Points the process's standard output and error (descriptors 1 and 2) at a file. What writes to them, .NET's
/// Console and the runtime's own fatal messages alike, goes there from the next write on: a daemon's log file can be
/// replaced (rotated) without the writers knowing.
/// </summary>
public static partial class StandardOutput
{
    [LibraryImport(Libc.LibraryName, EntryPoint = "dup2", SetLastError = true)]
    private static partial int Dup2(SafeFileHandle fd, int target);

    /// <summary>Opens <paramref name="path"/> for appending (made 0600 when new) and makes it descriptors 1 and 2.</summary>
    public static void AppendTo(string path)
    {
        using var file = File.OpenHandle(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, FileOptions.None, preallocationSize: 0);
        Libc.Check(Dup2(file, 1), "dup2(stdout)");
        Libc.Check(Dup2(file, 2), "dup2(stderr)");
    }
}
