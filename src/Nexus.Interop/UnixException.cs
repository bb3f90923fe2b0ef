// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.InteropServices;

namespace Nexus.Interop;

/// <summary>A failed libc call: which call, and the errno it set.</summary>
public sealed class UnixException : IOException
{
    public UnixException(string call, int errno)
        : base($"{call} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})")
    {
        Call = call;
        Errno = errno;
    }

    /// <summary>A failed call whose errno alone would mislead: <paramref name="detail"/> says what it means here.</summary>
    public UnixException(string call, int errno, string detail)
        : base($"{call} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}): {detail}")
    {
        Call = call;
        Errno = errno;
    }

    public UnixException()
        : this("unknown", 0)
    {
    }

    public UnixException(string message)
        : base(message)
    {
        Call = "unknown";
    }

    public UnixException(string message, Exception innerException)
        : base(message, innerException)
    {
        Call = "unknown";
    }

    /// <summary>The libc function (or ioctl name) that failed.</summary>
    public string Call { get; } = "unknown";

    /// <summary>The errno value.</summary>
    public int Errno { get; }
}
