// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Microsoft.Win32.SafeHandles;
using Nexus.Channel;

namespace Nexus.Backend.WriteBack;

/// <summary>A read-only stream over <paramref name="length"/> bytes of a file at <paramref name="offset"/>, by positional reads; <paramref name="closed"/> runs once on dispose.</summary>
internal sealed class SegmentBodyStream(SafeFileHandle file, long offset, long length, Action closed) : ForwardOnlyStream
{
    private int _disposed;

    public override long Length => length;

    public override int Read(Span<byte> buffer)
    {
        var n = RandomAccess.Read(file, buffer[..(int)Math.Min(buffer.Length, length - Consumed)], offset + Consumed);
        Consumed += n;
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await RandomAccess.ReadAsync(file, buffer[..(int)Math.Min(buffer.Length, length - Consumed)], offset + Consumed, cancellationToken).ConfigureAwait(false);
        Consumed += n;
        return n;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            closed();
        }

        base.Dispose(disposing);
    }
}
