// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.InteropServices;

namespace Nexus.Interop;

/// <summary>
/// ioctl(2). The C prototype is variadic; every request Nexus issues passes one integer or one
/// pointer, which the x86-64 ABI passes exactly like a fixed third argument.
/// </summary>
public static partial class Ioctl
{
    /// <summary>Issues <paramref name="request"/> and throws, naming <paramref name="name"/>, when it fails.</summary>
    public static int Call(SafeFd fd, uint request, nint arg, string name) =>
        Libc.Check(Sys(fd, request, arg), name);

    /// <summary>Issues <paramref name="request"/> and returns -errno instead of throwing (for EINTR/EAGAIN paths).</summary>
    public static int TryCall(SafeFd fd, uint request, nint arg)
    {
        var result = Sys(fd, request, arg);
        return result == -1 ? -Marshal.GetLastPInvokeError() : result;
    }

    [LibraryImport(Libc.LibraryName, EntryPoint = "ioctl", SetLastError = true)]
    private static partial int Sys(SafeFd fd, nuint request, nint arg);
}
