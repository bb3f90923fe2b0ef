// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Interop;

namespace Nexus.Channel;

/// <summary>
/// The shared memory of one channel, mapped into the host. Where it comes from is the sandbox driver's business: a
/// sealed memfd passed to a process (<see cref="CreateMemfd"/>), or the memfd behind a micro-VM's guest memory slot
/// (<see cref="Map"/>). The host only ever uses the mapping.
/// </summary>
public sealed unsafe class ChannelRegion : IDisposable
{
    private readonly SafeMemoryMapping _mapping;
    private readonly bool _ownsFd;
    private int _disposed;

    private ChannelRegion(SafeFd fd, long size, bool ownsFd)
    {
        _mapping = Memory.MapShared(fd, size);
        var added = false;
        _mapping.DangerousAddRef(ref added);
        Base = (byte*)_mapping.Address;
        Fd = fd;
        Size = size;
        _ownsFd = ownsFd;
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
            return new ChannelRegion(fd, size, ownsFd: true);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Gives the pages of [<paramref name="offset"/>, +<paramref name="length"/>) back (MADV_REMOVE: the memfd's pages are
    /// freed for the host and the sandbox alike, and read as zeros next time); false, and nothing done, for memory someone
    /// else owns (a guest's memory slot is the VM's to manage). The caller makes sure nobody uses the range meanwhile.
    /// </summary>
    public bool Release(long offset, long length)
    {
        if (!_ownsFd)
        {
            return false;
        }

        _mapping.Advise(offset, length, MemoryAdvice.Remove);
        return true;
    }

    /// <summary>Maps memory someone else owns (a guest memory slot); the caller keeps <paramref name="fd"/> alive and sized.</summary>
    public static ChannelRegion Map(SafeFd fd, long size) => new(fd, size, ownsFd: false);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _mapping.DangerousRelease();
        _mapping.Dispose();
        if (_ownsFd)
        {
            Fd.Dispose();
        }
    }
}
