// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;
using System.Security.Cryptography;
using Nexus.Interop;

namespace Nexus.Store;

/// <summary>One of S3's additional checksums (x-amz-checksum-ALGO), computed while a body streams in.</summary>
internal sealed class S3Checksum : IDisposable
{
    private readonly IncrementalHash? _hash;
    private uint _crc32;
    private ulong _crc64;

    private S3Checksum(string algorithm)
    {
        Algorithm = algorithm;
        _hash = algorithm switch
        {
            "sha1" => IncrementalHash.CreateHash(HashAlgorithmName.SHA1),
            "sha256" => IncrementalHash.CreateHash(HashAlgorithmName.SHA256),
            _ => null,
        };
    }

    /// <summary>Lower-case name as in the header suffix: crc32, crc32c, crc64nvme, sha1, sha256.</summary>
    public string Algorithm { get; }

    public string HeaderName => "x-amz-checksum-" + Algorithm;

    public static bool IsSupported(string algorithm) => algorithm is "crc32" or "crc32c" or "crc64nvme" or "sha1" or "sha256";

    public static S3Checksum Create(string algorithm) =>
        IsSupported(algorithm) ? new S3Checksum(algorithm) : throw S3Errors.InvalidRequest($"Unsupported checksum algorithm '{algorithm}'; supported: crc32, crc32c, crc64nvme, sha1, sha256.");

    public void Append(ReadOnlySpan<byte> data)
    {
        switch (Algorithm)
        {
            case "crc32": _crc32 = Crc32.Append(_crc32, data); break;
            case "crc32c": _crc32 = Crc32C.Append(_crc32, data); break;
            case "crc64nvme": _crc64 = Crc64Nvme.Append(_crc64, data); break;
            default: _hash!.AppendData(data); break;
        }
    }

    /// <summary>The checksum as S3 carries it: base64 of the big-endian value or digest.</summary>
    public string ToBase64()
    {
        switch (Algorithm)
        {
            case "crc32":
            case "crc32c":
                Span<byte> four = stackalloc byte[4];
                BinaryPrimitives.WriteUInt32BigEndian(four, _crc32);
                return Convert.ToBase64String(four);
            case "crc64nvme":
                Span<byte> eight = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64BigEndian(eight, _crc64);
                return Convert.ToBase64String(eight);
            default:
                return Convert.ToBase64String(_hash!.GetHashAndReset());
        }
    }

    public void Dispose() => _hash?.Dispose();
}
