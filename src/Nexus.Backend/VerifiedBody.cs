// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Security.Cryptography;
using Amazon.Runtime.Internal.Util;
using Amazon.S3.Model;

namespace Nexus.Backend;

/// <summary>
/// The body of a GetObject, checked against its ETag as the SDK checks it (whole objects whose ETag is an MD5), but
/// with the platform's MD5 instead of the SDK's managed one, which cost more CPU than everything else in the backend
/// put together (profiled: about 2 ms per MiB). A mismatch fails the read, as the SDK's check would.
/// </summary>
internal sealed class VerifiedBody : Stream
{
    private readonly Stream _inner;
    private readonly IncrementalHash? _md5;
    private readonly byte[]? _expected;
    private readonly long _length;
    private long _read;
    private bool _verified;

    private VerifiedBody(Stream inner, byte[]? expected, long length)
    {
        _inner = inner;
        _expected = expected;
        _length = length;
        _md5 = expected is null ? null : IncrementalHash.CreateHash(HashAlgorithmName.MD5);
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => _length;

    public override long Position
    {
        get => _read;
        set => throw new NotSupportedException();
    }

    /// <summary>
    /// The response's raw body (the SDK's own MD5 wrapper skipped), verified here when the SDK would verify it and
    /// <paramref name="verify"/> is set (it is not for the node's embedded store: the body never crossed a network).
    /// </summary>
    public static Stream Of(GetObjectResponse response, bool ranged, bool verify)
    {
        var raw = WrapperStream.GetNonWrapperBaseStream(response.ResponseStream);
        var etag = response.ETag?.Trim('"');
        var sse = response.ServerSideEncryptionMethod is { } method && method.Value is "aws:kms" or "aws:kms:dsse"
            || response.ServerSideEncryptionCustomerMethod is { } customer && !string.IsNullOrEmpty(customer.Value);
        var verifiable = verify && !ranged && !sse && etag is { Length: 32 } && etag.All(char.IsAsciiHexDigit);
        return new VerifiedBody(raw, verifiable ? Convert.FromHexString(etag!) : null, response.Headers.ContentLength);
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = _inner.Read(buffer);
        return Account(buffer[..n]);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        return Account(buffer.Span[..n]);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _md5?.Dispose();
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private int Account(ReadOnlySpan<byte> data)
    {
        _read += data.Length;
        if (_md5 is null)
        {
            return data.Length;
        }

        _md5.AppendData(data);
        if (!_verified && (_read == _length || data.Length == 0))
        {
            _verified = true;
            if (!_md5.GetHashAndReset().AsSpan().SequenceEqual(_expected))
            {
                throw new IOException($"the object's bytes do not match its ETag (MD5) after {_read} bytes");
            }
        }

        return data.Length;
    }
}
