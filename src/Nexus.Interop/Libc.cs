// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.InteropServices;

namespace Nexus.Interop;

/// <summary>
/// The libc entry points Nexus calls. Every native call of the project lives in this assembly
/// (one partial file per concern); errno becomes an exception in <see cref="Check(int, string)"/> only.
/// </summary>
public static partial class Libc
{
    internal const string LibraryName = "libc";

    [LibraryImport(LibraryName, EntryPoint = "close", SetLastError = true)]
    internal static partial int Close(int fd);

    /// <summary>Throws <see cref="UnixException"/> naming <paramref name="call"/> when a libc call returned -1.</summary>
    public static int Check(int result, string call)
    {
        if (result == -1)
        {
            throw new UnixException(call, Marshal.GetLastPInvokeError());
        }

        return result;
    }

    /// <inheritdoc cref="Check(int, string)"/>
    public static long Check(long result, string call)
    {
        if (result == -1)
        {
            throw new UnixException(call, Marshal.GetLastPInvokeError());
        }

        return result;
    }

    /// <inheritdoc cref="Check(int, string)"/>
    public static nint Check(nint result, string call)
    {
        if (result == -1)
        {
            throw new UnixException(call, Marshal.GetLastPInvokeError());
        }

        return result;
    }
}
