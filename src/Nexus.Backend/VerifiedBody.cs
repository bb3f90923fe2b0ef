// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Amazon.Runtime.Internal.Util;
using Amazon.S3;
using Amazon.S3.Model;
using Nexus.Channel;
using Nexus.Interop;

namespace Nexus.Backend;

/// <summary>
/// The body of a GetObject, checked end to end against what the store keeps for the object: its full-object checksum
/// when the response carries one (the backend asks for it, <see cref="ChecksumMode"/>; S3 keeps a CRC-64/NVME for every
/// new object unless its writer sent another), else its ETag when that is the body's MD5 (as the SDK checks it). The CRCs
/// are folded with carry-less multiplication, several times faster than MD5, which was the largest single share of the
/// node's CPU per call with a remote store (docs/evaluation.md). A mismatch fails the read, as the SDK's check would.
/// </summary>
internal sealed class VerifiedBody : ForwardOnlyStream
{
    // The full-object checksums S3 may answer, cheapest to check first, with their sizes.
    private static readonly (string Algorithm, int Size)[] s_fullObjectChecksums =
        [("crc64nvme", 8), ("crc32c", 4), ("crc32", 4), ("sha256", 32), ("sha1", 20)];

    private readonly Stream _inner;
    private readonly ObjectDigest? _digest;
    private readonly byte[]? _expected;
    private readonly long _length;
    private bool _verified;

    private VerifiedBody(Stream inner, string? algorithm, byte[]? expected, long length)
    {
        _inner = inner;
        _expected = expected;
        _length = length;
        _digest = algorithm is null ? null : new ObjectDigest(algorithm);
    }

    /// <summary>What a GetObject asks for when its body is to be verified: the object's checksum with the response.</summary>
    public static ChecksumMode ChecksumMode => ChecksumMode.ENABLED;

    public override long Length => _length;

    /// <summary>
    /// The response's raw body (the SDK's own wrappers skipped), verified here when <paramref name="verify"/> is set (it
    /// is not for the node's embedded store: the body never crossed a network) and the body is the whole object.
    /// </summary>
    public static Stream Of(GetObjectResponse response, bool ranged, bool verify)
    {
        var raw = WrapperStream.GetNonWrapperBaseStream(response.ResponseStream);
        var length = response.Headers.ContentLength;
        if (!verify || ranged)
        {
            return new VerifiedBody(raw, null, null, length);
        }

        var sse = response.ServerSideEncryptionMethod is { } method && method.Value is "aws:kms" or "aws:kms:dsse"
            || response.ServerSideEncryptionCustomerMethod is { } customer && !string.IsNullOrEmpty(customer.Value);
        var composite = response.ChecksumType == ChecksumType.COMPOSITE;
        return Create(raw, length, algorithm => composite ? null : algorithm switch
        {
            "crc64nvme" => response.ChecksumCRC64NVME,
            "crc32c" => response.ChecksumCRC32C,
            "crc32" => response.ChecksumCRC32,
            "sha256" => response.ChecksumSHA256,
            _ => response.ChecksumSHA1,
        }, response.ETag, sse);
    }

    /// <summary>The same for a whole-object GET the backend sent itself (<see cref="Storage.DirectS3"/>): its headers name the checksum.</summary>
    public static Stream Of(HttpResponseMessage response, Stream raw, bool verify)
    {
        var length = response.Content.Headers.ContentLength ?? -1;
        if (!verify)
        {
            return new VerifiedBody(raw, null, null, length);
        }

        string? Header(string name) => Storage.DirectS3.Header(response, name);
        var sse = Header("x-amz-server-side-encryption") is "aws:kms" or "aws:kms:dsse"
            || !string.IsNullOrEmpty(Header("x-amz-server-side-encryption-customer-algorithm"));
        var composite = string.Equals(Header("x-amz-checksum-type"), ChecksumType.COMPOSITE.Value, StringComparison.Ordinal);
        return Create(raw, length, algorithm => composite ? null : Header("x-amz-checksum-" + algorithm), Header("ETag"), sse);
    }

    /// <summary>
    /// Verified by the response's full-object checksum, cheapest first (S3 sends one; <paramref name="checksum"/> gives
    /// none for a composite checksum, a multipart upload's of its parts' checksums, which the SDK skips too), else by the
    /// ETag when that is the body's MD5 (not under SSE-KMS or SSE-C).
    /// </summary>
    private static VerifiedBody Create(Stream raw, long length, Func<string, string?> checksum, string? etag, bool sse)
    {
        foreach (var (algorithm, size) in s_fullObjectChecksums)
        {
            var value = checksum(algorithm);
            var expected = new byte[size];
            if (!string.IsNullOrEmpty(value) && Convert.TryFromBase64String(value, expected, out var written) && written == size)
            {
                return new VerifiedBody(raw, algorithm, expected, length);
            }
        }

        etag = etag?.Trim('"');
        var md5 = !sse && etag is { Length: 32 } && etag.All(char.IsAsciiHexDigit);
        return new VerifiedBody(raw, md5 ? "md5" : null, md5 ? Convert.FromHexString(etag!) : null, length);
    }

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

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _digest?.Dispose();
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private int Account(ReadOnlySpan<byte> data)
    {
        Consumed += data.Length;
        if (_digest is null)
        {
            return data.Length;
        }

        _digest.Append(data);
        if (!_verified && (Consumed == _length || data.Length == 0))
        {
            _verified = true;
            if (!_digest.Digest().AsSpan().SequenceEqual(_expected))
            {
                throw new IOException(_digest.Algorithm == "md5"
                    ? $"the object's bytes do not match its ETag (MD5) after {Consumed} bytes"
                    : $"the object's bytes do not match its checksum ({_digest.Algorithm}) after {Consumed} bytes");
            }
        }

        return data.Length;
    }
}
