// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Nexus.Interop;

/// <summary>Durability of a file's data: fdatasync(2), which .NET does not expose (its Flush(true) is a full fsync).</summary>
public static partial class FileSync
{
    private const int EINTR = 4;

    [LibraryImport(Libc.LibraryName, EntryPoint = "fdatasync", SetLastError = true)]
    private static partial int FdataSync(SafeFileHandle fd);

    /// <summary>
    /// Makes the file's written bytes (and the size, if it grew) durable; unlike fsync it skips metadata such as the
    /// modification time, which a journal does not need to find its records again.
    /// </summary>
    public static void DataSync(SafeFileHandle file)
    {
        int result;
        do
        {
            result = FdataSync(file);
        }
        while (result == -1 && Marshal.GetLastPInvokeError() == EINTR);

        Libc.Check(result, "fdatasync");
    }
}
