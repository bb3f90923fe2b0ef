// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Interop;

namespace Nexus.Channel;

/// <summary>
/// The shared memory of one channel: a sealed memfd, mapped into the host, whose descriptor the sandbox driver hands to
/// the sandbox (a process's fd 3, or the VMM process that maps it into its guest).
/// </summary>
public sealed unsafe class ChannelRegion : IDisposable
{
    private readonly SafeMemoryMapping _mapping;
    private int _disposed;

    private ChannelRegion(SafeFd fd, long size)
    {
        _mapping = Memory.MapShared(fd, size);
        var added = false;
        _mapping.DangerousAddRef(ref added);
        Base = (byte*)_mapping.Address;
        Fd = fd;
        Size = size;
    }

    /// <summary>The descriptor of the shared memory (the sandbox's fd 3 for a process sandbox).</summary>
    public SafeFd Fd { get; }

    public long Size { get; }

    /// <summary>Start of the host's mapping; valid until <see cref="Dispose"/>.</summary>
    internal byte* Base { get; }

    /// <summary>
    /// A new memfd of <paramref name="size"/> bytes, sealed against shrinking and growing (a sandbox holding it could
    /// otherwise truncate it and make the host fault on its mapping), and mapped.
    /// </summary>
    public static ChannelRegion CreateMemfd(string name, long size)
    {
        var fd = Memory.CreateMemfd(name, size, MemfdFlags.CloseOnExec | MemfdFlags.AllowSealing);
        try
        {
            Memory.Seal(fd, MemfdSeals.Shrink | MemfdSeals.Grow | MemfdSeals.Seal);
            return new ChannelRegion(fd, size);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Gives the pages of [<paramref name="offset"/>, +<paramref name="length"/>) back (MADV_REMOVE: the memfd's pages are
    /// freed for the host and the sandbox alike, and read as zeros next time). The caller makes sure nobody uses the range
    /// meanwhile.
    /// </summary>
    public void Release(long offset, long length) => _mapping.Advise(offset, length, MemoryAdvice.Remove);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _mapping.DangerousRelease();
        _mapping.Dispose();
        Fd.Dispose();
    }
}
