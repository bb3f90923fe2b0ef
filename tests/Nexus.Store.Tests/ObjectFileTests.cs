// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;
using System.Text;

namespace Nexus.Store.Tests;

/// <summary>The object file's trailer v4 (a multipart object's parts): round trip, v3 files still read, bad part lists refused.</summary>
public sealed class ObjectFileTests
{
    private static readonly byte[] s_body = Encoding.ASCII.GetBytes("0123456789");

    [Fact]
    public void A_multipart_objects_parts_round_trip()
    {
        var info = Info() with { Parts = [new ObjectPart(1, 6, "c1"), new ObjectPart(3, 4, null)] };
        var read = ObjectFile.ReadInfo([.. s_body, .. ObjectFile.EncodeTrailer(info)], "test");
        Assert.Equal(info.Parts, read.Parts);
        Assert.Equal(info.Checksum, read.Checksum);
        Assert.Null(ObjectFile.ReadInfo([.. s_body, .. ObjectFile.EncodeTrailer(Info())], "test").Parts);
    }

    [Fact]
    public void A_version_3_file_reads_with_its_checksum_and_no_parts()
    {
        var read = ObjectFile.ReadInfo([.. s_body, .. Trailer(3, _ => { })], "test");
        Assert.Equal(new ObjectChecksum("crc32", "AAAAAA=="), read.Checksum);
        Assert.Null(read.Parts);
    }

    [Theory]
    [InlineData(new long[] { 6, 5 }, new[] { 1, 2 })] // adds up to more than the body
    [InlineData(new long[] { 6, 3 }, new[] { 1, 2 })] // to less
    [InlineData(new long[] { 6, 4 }, new[] { 2, 2 })] // numbers not ascending
    [InlineData(new long[] { -1, 11 }, new[] { 1, 2 })] // a negative size
    public void A_part_list_that_does_not_describe_the_body_is_refused(long[] sizes, int[] numbers)
    {
        var file = s_body.Concat(Trailer(4, writer =>
        {
            writer.Write7BitEncodedInt(sizes.Length);
            for (var i = 0; i < sizes.Length; i++)
            {
                writer.Write7BitEncodedInt(numbers[i]);
                writer.Write7BitEncodedInt64(sizes[i]);
                writer.Write(string.Empty);
            }
        })).ToArray();
        Assert.Throws<InvalidDataException>(() => ObjectFile.ReadInfo(file, "test"));
    }

    private static ObjectInfo Info() =>
        new("k", s_body.Length, "etag-2", DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000), "text/plain", [], [], []) { Checksum = new ObjectChecksum("crc32", "AAAAAA==") };

    /// <summary>A trailer of <paramref name="version"/> written field by field, then <paramref name="rest"/>, then the footer.</summary>
    private static byte[] Trailer(byte version, Action<BinaryWriter> rest)
    {
        using var memory = new MemoryStream();
        using (var writer = new BinaryWriter(memory, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(version);
            writer.Write("k");
            writer.Write((long)s_body.Length);
            writer.Write("etag");
            writer.Write(1_700_000_000_000L);
            writer.Write("text/plain");
            writer.Write7BitEncodedInt(0);
            writer.Write7BitEncodedInt(0);
            writer.Write7BitEncodedInt(0);
            writer.Write("crc32");
            writer.Write("AAAAAA==");
            rest(writer);
        }

        var length = (int)memory.Length;
        var footer = new byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(footer, (uint)length);
        BinaryPrimitives.WriteUInt32LittleEndian(footer.AsSpan(4), 0x314F584E);
        memory.Write(footer);
        return memory.ToArray();
    }
}
