// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Channel;

/// <summary>
/// A body read once, in order, of a known length (a request body out of the region, a store response being verified, a
/// spooled write being uploaded): the parts of <see cref="Stream"/> every such wrapper shares, so that each one only
/// says how it reads and counts what it read in <see cref="Consumed"/>.
/// </summary>
public abstract class ForwardOnlyStream : Stream
{
    public sealed override bool CanRead => true;

    public sealed override bool CanSeek => false;

    public sealed override bool CanWrite => false;

    public sealed override long Position
    {
        get => Consumed;
        set => throw new NotSupportedException("this body is read once, in order");
    }

    /// <summary>Bytes read so far.</summary>
    protected long Consumed { get; set; }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public sealed override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public sealed override void Flush()
    {
    }

    public sealed override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("this body is read once, in order");

    public sealed override void SetLength(long value) => throw new NotSupportedException();

    public sealed override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
