// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Nexus.Store;

/// <summary>An object's metadata: what HEAD returns and the object file's trailer holds.</summary>
internal sealed record ObjectInfo(
    string Key,
    long Size,
    string ETag,
    DateTimeOffset LastModified,
    string ContentType,
    IReadOnlyList<KeyValuePair<string, string>> Headers,
    IReadOnlyList<KeyValuePair<string, string>> Metadata,
    IReadOnlyList<KeyValuePair<string, string>> Tags)
{
    /// <summary>
    /// The object's full-object checksum, as S3 keeps one for every object: the one its writer sent (x-amz-checksum-*),
    /// else a CRC-64/NVME the store computed. Null only for objects written before the store kept checksums.
    /// </summary>
    public ObjectChecksum? Checksum { get; init; }

    /// <summary>
    /// A multipart object's parts in order (number, size, and checksum when its upload kept part checksums); null for an
    /// object written by one request, and for a multipart object assembled before the store kept part boundaries.
    /// </summary>
    public IReadOnlyList<ObjectPart>? Parts { get; init; }

    /// <summary>The storage class S3 reports for this object (stored only when it is not STANDARD).</summary>
    public string StorageClass => StoredHeader(S3Handler.StorageClassHeader) ?? "STANDARD";

    public string? StoredHeader(string name)
    {
        foreach (var (header, value) in Headers)
        {
            if (header.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }

        return null;
    }
}

/// <summary>One part of a multipart object: its number in the upload, its size, and its checksum value (the object's algorithm), if kept.</summary>
internal sealed record ObjectPart(int PartNumber, long Size, string? Checksum);

/// <summary>An S3 full-object checksum: lower-case algorithm (crc32, crc32c, crc64nvme, sha1, sha256) and base64 value.</summary>
internal sealed record ObjectChecksum(string Algorithm, string Value)
{
    public string HeaderName => "x-amz-checksum-" + Algorithm;

    /// <summary>The XML element S3 names it with: ChecksumCRC32, ChecksumCRC32C, ChecksumCRC64NVME, ChecksumSHA1, ChecksumSHA256.</summary>
    public string ElementName => "Checksum" + Algorithm.ToUpperInvariant();

    /// <summary>A multipart object's checksum of its parts' checksums ("...-N"; base64 has no '-'), not of its bytes.</summary>
    public bool IsComposite => Value.Contains('-', StringComparison.Ordinal);
}

/// <summary>
/// The object file format: the body bytes first (so a GET streams from offset 0 and the body is written
/// as it arrives), then a metadata trailer, then an 8-byte footer: trailer length (uint32 LE) and "NXO1".
/// A file is only ever visible under its final name after it was written whole and fsynced, so body
/// and metadata always change together.
/// </summary>
internal static class ObjectFile
{
    public const int FooterSize = 8;
    private const uint Magic = 0x314F584E; // "NXO1" little-endian
    // 2 added the tag set after the user metadata, 3 the checksum after it, 4 a multipart object's parts after that;
    // 1 to 3 are still read (no tags, no checksum, no parts).
    private const byte Version = 4;

    // Metadata, tags and up to 10,000 parts of (number, size, SHA-256 checksum): about 0.5 MiB at most.
    private const int MaxTrailer = 1024 * 1024;

    public static byte[] EncodeTrailer(ObjectInfo info)
    {
        using var memory = new MemoryStream(256);
        using (var writer = new BinaryWriter(memory, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Version);
            writer.Write(info.Key);
            writer.Write(info.Size);
            writer.Write(info.ETag);
            writer.Write(info.LastModified.ToUnixTimeMilliseconds());
            writer.Write(info.ContentType);
            WritePairs(writer, info.Headers);
            WritePairs(writer, info.Metadata);
            WritePairs(writer, info.Tags);
            writer.Write(info.Checksum?.Algorithm ?? string.Empty);
            writer.Write(info.Checksum?.Value ?? string.Empty);
            var parts = info.Parts ?? [];
            writer.Write7BitEncodedInt(parts.Count);
            foreach (var part in parts)
            {
                writer.Write7BitEncodedInt(part.PartNumber);
                writer.Write7BitEncodedInt64(part.Size);
                writer.Write(part.Checksum ?? string.Empty);
            }
        }

        var length = (int)memory.Length;
        Span<byte> footer = stackalloc byte[FooterSize];
        BinaryPrimitives.WriteUInt32LittleEndian(footer, (uint)length);
        BinaryPrimitives.WriteUInt32LittleEndian(footer[4..], Magic);
        memory.Write(footer);
        return memory.ToArray();
    }

    /// <summary>Reads an object file's metadata through its open handle (two preads at the end).</summary>
    public static ObjectInfo ReadInfo(SafeFileHandle handle, long fileLength, string path)
    {
        if (fileLength < FooterSize)
        {
            throw new InvalidDataException($"{path}: {fileLength} bytes is too short for an object file.");
        }

        Span<byte> footer = stackalloc byte[FooterSize];
        ReadExactly(handle, footer, fileLength - FooterSize, path);
        var trailerLength = BinaryPrimitives.ReadUInt32LittleEndian(footer);
        if (BinaryPrimitives.ReadUInt32LittleEndian(footer[4..]) != Magic || trailerLength > MaxTrailer || trailerLength + FooterSize > fileLength)
        {
            throw new InvalidDataException($"{path}: not an object file (bad footer).");
        }

        var trailer = new byte[trailerLength];
        ReadExactly(handle, trailer, fileLength - FooterSize - trailerLength, path);
        return DecodeTrailer(trailer, fileLength - FooterSize - trailerLength, path);
    }

    /// <summary>Decodes the object file held whole in <paramref name="file"/> (small objects).</summary>
    public static ObjectInfo ReadInfo(ReadOnlySpan<byte> file, string path)
    {
        if (file.Length < FooterSize)
        {
            throw new InvalidDataException($"{path}: {file.Length} bytes is too short for an object file.");
        }

        var footer = file[^FooterSize..];
        var trailerLength = BinaryPrimitives.ReadUInt32LittleEndian(footer);
        if (BinaryPrimitives.ReadUInt32LittleEndian(footer[4..]) != Magic || trailerLength > MaxTrailer || trailerLength + FooterSize > file.Length)
        {
            throw new InvalidDataException($"{path}: not an object file (bad footer).");
        }

        var bodyLength = file.Length - FooterSize - (int)trailerLength;
        return DecodeTrailer(file.Slice(bodyLength, (int)trailerLength).ToArray(), bodyLength, path);
    }

    private static ObjectInfo DecodeTrailer(byte[] trailer, long bodyLength, string path)
    {
        try
        {
            using var reader = new BinaryReader(new MemoryStream(trailer, writable: false), Encoding.UTF8);
            var version = reader.ReadByte();
            if (version is < 1 or > Version)
            {
                throw new InvalidDataException($"{path}: unknown object file version.");
            }

            var key = reader.ReadString();
            var size = reader.ReadInt64();
            if (size != bodyLength)
            {
                throw new InvalidDataException($"{path}: body is {bodyLength} bytes, metadata says {size}.");
            }

            var etag = reader.ReadString();
            var modified = DateTimeOffset.FromUnixTimeMilliseconds(reader.ReadInt64());
            var contentType = reader.ReadString();
            var headers = ReadPairs(reader);
            var metadata = ReadPairs(reader);
            var tags = version >= 2 ? ReadPairs(reader) : [];
            var algorithm = version >= 3 ? reader.ReadString() : string.Empty;
            var checksum = version >= 3 ? reader.ReadString() : string.Empty;
            return new ObjectInfo(key, size, etag, modified, contentType, headers, metadata, tags)
            {
                Checksum = algorithm.Length > 0 ? new ObjectChecksum(algorithm, checksum) : null,
                Parts = version >= 4 ? ReadParts(reader, size) : null,
            };
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"{path}: truncated metadata trailer.", e);
        }
    }

    /// <summary>A multipart object's parts (null when it has none); their sizes must add up to the body's.</summary>
    private static ObjectPart[]? ReadParts(BinaryReader reader, long size)
    {
        var count = reader.Read7BitEncodedInt();
        if (count is < 0 or > 10000)
        {
            throw new InvalidDataException("bad part count");
        }

        if (count == 0)
        {
            return null;
        }

        var parts = new ObjectPart[count];
        long total = 0;
        for (var i = 0; i < count; i++)
        {
            var number = reader.Read7BitEncodedInt();
            var partSize = reader.Read7BitEncodedInt64();
            var checksum = reader.ReadString();
            if (partSize < 0 || (i > 0 && number <= parts[i - 1].PartNumber))
            {
                throw new InvalidDataException("bad part list");
            }

            total += partSize;
            parts[i] = new ObjectPart(number, partSize, checksum.Length > 0 ? checksum : null);
        }

        return total == size ? parts : throw new InvalidDataException($"the parts add up to {total} bytes, the body has {size}.");
    }

    private static void WritePairs(BinaryWriter writer, IReadOnlyList<KeyValuePair<string, string>> pairs)
    {
        writer.Write7BitEncodedInt(pairs.Count);
        foreach (var (name, value) in pairs)
        {
            writer.Write(name);
            writer.Write(value);
        }
    }

    private static KeyValuePair<string, string>[] ReadPairs(BinaryReader reader)
    {
        var count = reader.Read7BitEncodedInt();
        if (count is < 0 or > 1024)
        {
            throw new InvalidDataException("bad metadata count");
        }

        var pairs = new KeyValuePair<string, string>[count];
        for (var i = 0; i < count; i++)
        {
            pairs[i] = new(reader.ReadString(), reader.ReadString());
        }

        return pairs;
    }

    private static void ReadExactly(SafeFileHandle handle, Span<byte> buffer, long offset, string path)
    {
        while (!buffer.IsEmpty)
        {
            var n = RandomAccess.Read(handle, buffer, offset);
            if (n == 0)
            {
                throw new InvalidDataException($"{path}: file ended early.");
            }

            buffer = buffer[n..];
            offset += n;
        }
    }
}

/// <summary>S3 lists keys in UTF-8 byte order; UTF-16 ordinal order differs for surrogates vs U+E000..U+FFFF.</summary>
internal sealed class Utf8KeyComparer : IComparer<string>
{
    public static readonly Utf8KeyComparer Instance = new();

    public int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y))
        {
            return 0;
        }

        if (x is null || y is null)
        {
            return x is null ? -1 : 1;
        }

        var common = Math.Min(x.Length, y.Length);
        var mismatch = x.AsSpan(0, common).CommonPrefixLength(y.AsSpan(0, common));
        if (mismatch == common)
        {
            return x.Length - y.Length;
        }

        return Fix(x[mismatch]) - Fix(y[mismatch]);
    }

    // Surrogates (U+D800..U+DFFF) encode code points above U+FFFF, so they must sort after U+E000..U+FFFF.
    private static int Fix(char c) => c < 0xD800 ? c : c >= 0xE000 ? c - 0x800 : c + 0x2000;
}
