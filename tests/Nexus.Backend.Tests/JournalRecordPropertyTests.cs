// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Security.Cryptography;
using CsCheck;
using Nexus.Backend.WriteBack;

namespace Nexus.Backend.Tests;

/// <summary>
/// Properties of the journal's record format on generated writes (CsCheck): a record reads back as written, a record
/// cut short anywhere is refused, and one changed byte under a checksum refuses the header or the footer.
/// </summary>
public sealed class JournalRecordPropertyTests
{
    private static readonly Gen<JournalMeta> s_meta =
        Gen.Select(Gen.String, Gen.String, Gen.String.Null(), Gen.Dictionary(Gen.String[Gen.Char.AlphaNumeric, 1, 20], Gen.String)[0, 5])
            .Select((bucket, key, contentType, metadata) => new JournalMeta(bucket, key, contentType, metadata));

    private static readonly Gen<(JournalMeta Meta, byte[] Body, long Generation, long Sequence, DateTimeOffset At)> s_write =
        Gen.Select(s_meta, Gen.Byte.Array[0, 3000], Gen.Long[1, long.MaxValue], Gen.Long[1, long.MaxValue], Gen.Long[0, DateTimeOffset.MaxValue.UtcTicks])
            .Select((meta, body, generation, sequence, ticks) => (meta, body, generation, sequence, new DateTimeOffset(ticks, TimeSpan.Zero)));

    [Fact]
    public void A_record_reads_back_as_written() =>
        s_write.Sample(w =>
        {
            var (bytes, metaLength) = Encode(w);
            var header = JournalRecord.ReadHeader(bytes, w.Generation, bytes.Length, n => bytes.AsSpan(JournalRecord.HeaderBytes, n).ToArray());
            Assert.NotNull(header);
            Assert.Equal((w.Meta.Bucket, w.Meta.Key, w.Meta.ContentType), (header.Meta.Bucket, header.Meta.Key, header.Meta.ContentType));
            Assert.Equal(w.Meta.Metadata.OrderBy(p => p.Key), header.Meta.Metadata.OrderBy(p => p.Key));
            Assert.Equal((w.Sequence, metaLength, (long)w.Body.Length, JournalRecord.Live), (header.Sequence, header.MetaLength, header.BodyLength, header.State));
            Assert.Equal(bytes.Length, header.Size);
            var footer = JournalRecord.ReadFooter(bytes.AsSpan(bytes.Length - JournalRecord.FooterBytes), header.Crc);
            Assert.NotNull(footer);
            Assert.Equal(MD5.HashData(w.Body), footer.Value.Md5);
            Assert.Equal(w.At, footer.Value.AcknowledgedAt);

            // Another segment generation's record is not this segment's.
            Assert.Null(JournalRecord.ReadHeader(bytes, w.Generation ^ 1, bytes.Length, n => bytes.AsSpan(JournalRecord.HeaderBytes, n).ToArray()));
        }, iter: 2000);

    [Fact]
    public void A_record_cut_short_is_refused() =>
        Gen.Select(s_write, Gen.Double[0, 1]).Sample((w, fraction) =>
        {
            var (bytes, _) = Encode(w);
            var room = (int)(fraction * (bytes.Length - 1));
            var header = room < JournalRecord.HeaderBytes ? null : JournalRecord.ReadHeader(bytes.AsSpan(0, room), w.Generation, room, n => JournalRecord.HeaderBytes + n <= room ? bytes.AsSpan(JournalRecord.HeaderBytes, n).ToArray() : null);
            Assert.Null(header);
        }, iter: 2000);

    [Fact]
    public void One_changed_byte_under_a_checksum_is_refused() =>
        Gen.Select(s_write, Gen.Double[0, 1], Gen.Byte[1, 255]).Sample((w, fraction, flip) =>
        {
            var (bytes, metaLength) = Encode(w);
            var footerAt = bytes.Length - JournalRecord.FooterBytes;
            var checkedHeader = Enumerable.Range(0, JournalRecord.StateOffset).Concat(Enumerable.Range(JournalRecord.HeaderBytes, metaLength));
            var positions = checkedHeader.Concat(Enumerable.Range(footerAt, JournalRecord.FooterBytes)).ToArray();
            var at = positions[(int)(fraction * (positions.Length - 1))];
            bytes[at] ^= flip;
            var header = JournalRecord.ReadHeader(bytes, w.Generation, bytes.Length, n => bytes.AsSpan(JournalRecord.HeaderBytes, n).ToArray());
            var footer = header is null ? null : JournalRecord.ReadFooter(bytes.AsSpan(footerAt), header.Crc);
            Assert.True(header is null || footer is null, $"byte {at} of {bytes.Length} changed and the record still reads");
        }, iter: 5000);

    private static (byte[] Bytes, int MetaLength) Encode((JournalMeta Meta, byte[] Body, long Generation, long Sequence, DateTimeOffset At) w)
    {
        var meta = JournalRecord.EncodeMeta(w.Meta);
        var bytes = new byte[JournalRecord.Size(meta.Length, w.Body.Length)];
        var crc = JournalRecord.WriteHeader(bytes, w.Generation, w.Sequence, meta, w.Body.Length);
        w.Body.CopyTo(bytes, JournalRecord.HeaderBytes + meta.Length);
        JournalRecord.WriteFooter(bytes.AsSpan(bytes.Length - JournalRecord.FooterBytes), crc, MD5.HashData(w.Body), w.At);
        return (bytes, meta.Length);
    }
}
