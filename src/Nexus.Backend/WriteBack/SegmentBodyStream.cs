// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Microsoft.Win32.SafeHandles;

namespace Nexus.Backend.WriteBack;

/// <summary>
/// A read-only stream over <paramref name="length"/> bytes of a file at <paramref name="offset"/>, by positional reads;
/// <paramref name="closed"/> runs once on dispose. Seekable, so the SDK can hash a whole body before sending it (uploads
/// without aws-chunked framing) and rewind it to retry.
/// </summary>
internal sealed class SegmentBodyStream(SafeFileHandle file, long offset, long length, Action closed) : Stream
{
    private long _position;
    private int _disposed;

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => length;

    public override long Position
    {
        get => _position;
        set => Seek(value, SeekOrigin.Begin);
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = RandomAccess.Read(file, buffer[..(int)Math.Min(buffer.Length, length - _position)], offset + _position);
        _position += n;
        return n;
    }

    /// <summary>
    /// Reads in place, synchronously: the bytes were written moments ago and sit in the page cache, and on Linux an
    /// asynchronous file read is this same read queued to the thread pool, a hop (and a wake-up) for every chunk the
    /// SDK asks for.
    /// </summary>
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }

        return ValueTask.FromResult(Read(buffer.Span));
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        var target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => length + offset,
        };
        ArgumentOutOfRangeException.ThrowIfNegative(target, nameof(offset));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(target, length, nameof(offset));
        _position = target;
        return target;
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            closed();
        }

        base.Dispose(disposing);
    }
}
