// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Interop;

namespace Nexus.Store;

/// <summary>One of S3's additional checksums (x-amz-checksum-ALGO), computed while a body streams in.</summary>
internal sealed class S3Checksum : IDisposable
{
    private readonly ObjectDigest _digest;

    private S3Checksum(string algorithm) => _digest = new ObjectDigest(algorithm);

    /// <summary>Lower-case name as in the header suffix: crc32, crc32c, crc64nvme, sha1, sha256.</summary>
    public string Algorithm => _digest.Algorithm;

    public string HeaderName => "x-amz-checksum-" + Algorithm;

    public static bool IsSupported(string algorithm) => algorithm is "crc32" or "crc32c" or "crc64nvme" or "sha1" or "sha256";

    public static S3Checksum Create(string algorithm) =>
        IsSupported(algorithm) ? new S3Checksum(algorithm) : throw S3Errors.InvalidRequest($"Unsupported checksum algorithm '{algorithm}'; supported: crc32, crc32c, crc64nvme, sha1, sha256.");

    public void Append(ReadOnlySpan<byte> data) => _digest.Append(data);

    /// <summary>The checksum as S3 carries it: base64 of the big-endian value or digest.</summary>
    public string ToBase64() => Convert.ToBase64String(_digest.Digest());

    public void Dispose() => _digest.Dispose();
}
