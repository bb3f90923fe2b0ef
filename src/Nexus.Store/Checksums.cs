// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;
using System.Security.Cryptography;
using Nexus.Interop;

namespace Nexus.Store;

/// <summary>CRC-32 (IEEE 802.3, reflected 0xEDB88320), slicing-by-8; System.IO.Hashing is not available here.</summary>
internal static class Crc32
{
    private static readonly uint[] s_table = BuildTable();

    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        var table = s_table;
        crc = ~crc;
        while (data.Length >= 8)
        {
            var low = BinaryPrimitives.ReadUInt32LittleEndian(data) ^ crc;
            var high = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
            crc = table[(7 * 256) + (low & 0xFF)] ^ table[(6 * 256) + ((low >> 8) & 0xFF)] ^
                  table[(5 * 256) + ((low >> 16) & 0xFF)] ^ table[(4 * 256) + (low >> 24)] ^
                  table[(3 * 256) + (high & 0xFF)] ^ table[(2 * 256) + ((high >> 8) & 0xFF)] ^
                  table[256 + ((high >> 16) & 0xFF)] ^ table[high >> 24];
            data = data[8..];
        }

        foreach (var b in data)
        {
            crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return ~crc;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[8 * 256];
        for (uint i = 0; i < 256; i++)
        {
            var c = i;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[i] = c;
        }

        for (var i = 256; i < table.Length; i++)
        {
            table[i] = (table[i - 256] >> 8) ^ table[table[i - 256] & 0xFF];
        }

        return table;
    }
}

/// <summary>CRC-64/NVME (reflected 0x9A6C9329AC4BC9B5), as S3's x-amz-checksum-crc64nvme.</summary>
internal static class Crc64Nvme
{
    private static readonly ulong[] s_table = BuildTable();

    public static ulong Append(ulong crc, ReadOnlySpan<byte> data)
    {
        var table = s_table;
        crc = ~crc;
        foreach (var b in data)
        {
            crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return ~crc;
    }

    private static ulong[] BuildTable()
    {
        var table = new ulong[256];
        for (ulong i = 0; i < 256; i++)
        {
            var c = i;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0x9A6C9329AC4BC9B5ul ^ (c >> 1) : c >> 1;
            }

            table[i] = c;
        }

        return table;
    }
}

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
