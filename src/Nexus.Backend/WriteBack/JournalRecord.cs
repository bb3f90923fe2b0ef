// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;
using System.Text.Json;
using Nexus.Interop;

namespace Nexus.Backend.WriteBack;

/// <summary>
/// What a journal record says about its write before the body: known when the put starts. <paramref name="Checksum"/> is
/// the one its writer sent (null: none); a record is sealed only when the body matched it.
/// </summary>
public sealed record JournalMeta(string Bucket, string Key, string? ContentType, IReadOnlyDictionary<string, string> Metadata, WriterChecksum? Checksum = null);

/// <summary>
/// The bytes of one write in a journal segment:
/// <c>[header 48][meta JSON][body][footer 32]</c>.
/// The header is written when the put reserves its place (so that every later record is found behind it), the body
/// streams in while its MD5 is computed, the footer seals it. A record counts only when its header checksum, its
/// generation (the segment's), its footer checksum and the MD5 of its body all hold, so a torn or unfinished record is
/// never replayed; a torn header ends the segment (nothing behind it was acknowledged, see <see cref="SpoolJournal"/>).
/// </summary>
/// <remarks>
/// Header: u32 magic "NXJR", u32 meta length, u64 generation, u64 sequence, u64 body length, u32 CRC-32C of bytes 0..32
/// and the meta, u8 state (0 live, 1 retired: the only byte rewritten in place, outside every checksum), 11 zero bytes.
/// Footer: MD5 of the body (16), i64 acknowledgement time (UTC ticks), u32 CRC-32C of the header CRC, MD5 and time,
/// u32 magic "NXJE".
/// </remarks>
public static class JournalRecord
{
    public const int HeaderBytes = 48;
    public const int FooterBytes = 32;
    public const int StateOffset = 36;
    public const byte Live = 0;
    public const byte Retired = 1;

    /// <summary>Storage refused it for good (its bucket is gone): kept, not uploaded, until an operator re-drives or discards it.</summary>
    public const byte DeadLetter = 2;
    public const int MaxMetaBytes = 64 * 1024;

    private const uint HeaderMagic = 0x524A584E; // "NXJR"
    private const uint FooterMagic = 0x454A584E; // "NXJE"

    /// <summary>Bytes a record of this meta and body takes.</summary>
    public static long Size(int metaLength, long bodyLength) => HeaderBytes + metaLength + bodyLength + FooterBytes;

    public static byte[] EncodeMeta(JournalMeta meta) => JsonSerializer.SerializeToUtf8Bytes(meta, SpoolJson.Default.JournalMeta);

    /// <summary>Writes header and meta into <paramref name="destination"/> (HeaderBytes + meta.Length); returns the header CRC.</summary>
    public static uint WriteHeader(Span<byte> destination, long generation, long sequence, ReadOnlySpan<byte> meta, long bodyLength)
    {
        var header = destination[..HeaderBytes];
        header.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(header, HeaderMagic);
        BinaryPrimitives.WriteInt32LittleEndian(header[4..], meta.Length);
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], generation);
        BinaryPrimitives.WriteInt64LittleEndian(header[16..], sequence);
        BinaryPrimitives.WriteInt64LittleEndian(header[24..], bodyLength);
        meta.CopyTo(destination[HeaderBytes..]);
        var crc = Crc32C.Append(Crc32C.Append(0, header[..32]), meta);
        BinaryPrimitives.WriteUInt32LittleEndian(header[32..], crc);
        return crc;
    }

    public static void WriteFooter(Span<byte> destination, uint headerCrc, ReadOnlySpan<byte> md5, DateTimeOffset acknowledgedAt)
    {
        var footer = destination[..FooterBytes];
        md5.CopyTo(footer);
        BinaryPrimitives.WriteInt64LittleEndian(footer[16..], acknowledgedAt.UtcTicks);
        BinaryPrimitives.WriteUInt32LittleEndian(footer[24..], FooterCrc(headerCrc, footer));
        BinaryPrimitives.WriteUInt32LittleEndian(footer[28..], FooterMagic);
    }

    /// <summary>
    /// Parses a header and its meta. Null when the bytes are not a whole header of <paramref name="generation"/> whose
    /// record fits in <paramref name="room"/> bytes: the end of the segment's records.
    /// </summary>
    public static Header? ReadHeader(ReadOnlySpan<byte> header, long generation, long room, Func<int, byte[]?> readMeta)
    {
        if (header.Length < HeaderBytes || BinaryPrimitives.ReadUInt32LittleEndian(header) != HeaderMagic)
        {
            return null;
        }

        var metaLength = BinaryPrimitives.ReadInt32LittleEndian(header[4..]);
        var bodyLength = BinaryPrimitives.ReadInt64LittleEndian(header[24..]);
        if (BinaryPrimitives.ReadInt64LittleEndian(header[8..]) != generation || metaLength is < 0 or > MaxMetaBytes
            || bodyLength < 0 || bodyLength > room - HeaderBytes - FooterBytes - metaLength)
        {
            return null;
        }

        var meta = readMeta(metaLength);
        var crc = BinaryPrimitives.ReadUInt32LittleEndian(header[32..]);
        if (meta is null || Crc32C.Append(Crc32C.Append(0, header[..32]), meta) != crc)
        {
            return null;
        }

        JournalMeta? parsed;
        try
        {
            parsed = JsonSerializer.Deserialize(meta, SpoolJson.Default.JournalMeta);
        }
        catch (JsonException)
        {
            // The checksum held, so these are bytes this code wrote: unreadable means a different format, not a tear.
            return null;
        }

        if (parsed is null || parsed.Bucket is null || parsed.Key is null || parsed.Metadata is null)
        {
            return null;
        }

        return new Header(parsed, BinaryPrimitives.ReadInt64LittleEndian(header[16..]), metaLength, bodyLength, crc, header[StateOffset]);
    }

    /// <summary>The footer's MD5 and time when it seals a record whose header CRC is <paramref name="headerCrc"/>; null otherwise.</summary>
    public static (byte[] Md5, DateTimeOffset AcknowledgedAt)? ReadFooter(ReadOnlySpan<byte> footer, uint headerCrc)
    {
        if (footer.Length < FooterBytes || BinaryPrimitives.ReadUInt32LittleEndian(footer[28..]) != FooterMagic
            || BinaryPrimitives.ReadUInt32LittleEndian(footer[24..]) != FooterCrc(headerCrc, footer))
        {
            return null;
        }

        var ticks = BinaryPrimitives.ReadInt64LittleEndian(footer[16..]);
        if (ticks < DateTimeOffset.MinValue.UtcTicks || ticks > DateTimeOffset.MaxValue.UtcTicks)
        {
            return null;
        }

        return (footer[..16].ToArray(), new DateTimeOffset(ticks, TimeSpan.Zero));
    }

    private static uint FooterCrc(uint headerCrc, ReadOnlySpan<byte> footer)
    {
        Span<byte> seed = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(seed, headerCrc);
        return Crc32C.Append(Crc32C.Append(0, seed), footer[..24]);
    }

    /// <summary>A parsed header: the write's meta, its sequence, the lengths, the header CRC (the footer's seed) and its state byte.</summary>
    public sealed record Header(JournalMeta Meta, long Sequence, int MetaLength, long BodyLength, uint Crc, byte State)
    {
        public long Size => JournalRecord.Size(MetaLength, BodyLength);
    }
}
