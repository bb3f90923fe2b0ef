// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Backend.Storage;

/// <summary>
/// A request body that says it is seekable, for the SDK's UploadPart (it wraps the part in a stream that insists on a
/// seekable base, to learn where the part starts) while still being read once, in order, out of the shared region:
/// a seek to where the stream already is succeeds, any other seek (the SDK rewinding to retry) fails, so a failed part
/// is reported to the function rather than resent from bytes that are gone.
/// </summary>
internal sealed class InPlaceSeekableBody(Stream body) : Stream
{
    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => body.Length;

    public override long Position
    {
        get => body.Position;
        set => Seek(value, SeekOrigin.Begin);
    }

    public override int Read(byte[] buffer, int offset, int count) => body.Read(buffer, offset, count);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        body.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        body.ReadAsync(buffer, offset, count, cancellationToken);

    public override long Seek(long offset, SeekOrigin origin)
    {
        var target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => body.Position + offset,
            _ => body.Length + offset,
        };
        return target == body.Position ? target : throw new NotSupportedException("the part is read once, in order, from the channel; it cannot be rewound");
    }

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            body.Dispose();
        }

        base.Dispose(disposing);
    }
}
