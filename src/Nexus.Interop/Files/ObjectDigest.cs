// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;
using System.Security.Cryptography;
namespace Nexus.Interop;

/// <summary>
/// One of S3's object checksums (crc64nvme, crc32c, crc32, sha256, sha1) or an MD5 (md5), computed as the bytes pass:
/// the value S3 carries base64-encoded (big-endian for the CRCs). The CRCs fold with carry-less multiplication.
/// Shared by the backend (checking bodies, the spool) and the store (the checksums it keeps).
/// </summary>
public sealed class ObjectDigest : IDisposable
{
    private readonly IncrementalHash? _hash;
    private ulong _crc;

    public ObjectDigest(string algorithm)
    {
        Algorithm = algorithm;
        _hash = algorithm switch
        {
            "md5" => IncrementalHash.CreateHash(HashAlgorithmName.MD5),
            "sha1" => IncrementalHash.CreateHash(HashAlgorithmName.SHA1),
            "sha256" => IncrementalHash.CreateHash(HashAlgorithmName.SHA256),
            "crc64nvme" or "crc32c" or "crc32" => null,
            _ => throw new ArgumentException($"not an object checksum: {algorithm}", nameof(algorithm)),
        };
    }

    public string Algorithm { get; }

    public void Append(ReadOnlySpan<byte> data)
    {
        switch (Algorithm)
        {
            case "crc64nvme": _crc = Crc64Nvme.Append(_crc, data); break;
            case "crc32c": _crc = Crc32C.Append((uint)_crc, data); break;
            case "crc32": _crc = Crc32.Append((uint)_crc, data); break;
            default: _hash!.AppendData(data); break;
        }
    }

    /// <summary>The digest of every byte appended (the hashes start again after it).</summary>
    public byte[] Digest()
    {
        switch (Algorithm)
        {
            case "crc64nvme":
                var eight = new byte[8];
                BinaryPrimitives.WriteUInt64BigEndian(eight, _crc);
                return eight;
            case "crc32c" or "crc32":
                var four = new byte[4];
                BinaryPrimitives.WriteUInt32BigEndian(four, (uint)_crc);
                return four;
            default:
                return _hash!.GetHashAndReset();
        }
    }

    public void Dispose() => _hash?.Dispose();
}
