// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Nexus.Interop;
using Nexus.Sandbox.Microvm;

namespace Nexus.Sandbox.Tests;

/// <summary>The restore record a microVM restored from a shared snapshot finds in its region (docs/channel.md).</summary>
public sealed class RestoreRecordTests
{
    private static readonly byte[] s_seed = Enumerable.Range(1, RestoreRecord.SeedSize).Select(i => (byte)i).ToArray();

    [Fact]
    public void The_record_holds_its_fields_at_the_offsets_the_guest_reads_and_the_environment_sorted()
    {
        var record = RestoreRecord.Encode(0x1122334455667788, 1_700_000_000_123_456_789, s_seed,
            new Dictionary<string, string> { ["ZED"] = "z", ["AWS_LAMBDA_LOG_STREAM_NAME"] = "2026/12/04/[$LATEST]nx-é" });
        var bytes = record.Bytes;
        var environment = "AWS_LAMBDA_LOG_STREAM_NAME=2026/12/04/[$LATEST]nx-é\0ZED=z\0"u8;

        Assert.Equal(64 + environment.Length, bytes.Length);
        Assert.Equal(0x5352584Eu, BinaryPrimitives.ReadUInt32LittleEndian(bytes));
        Assert.Equal("NXRS", Encoding.ASCII.GetString(bytes[..4]));
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(bytes[4..]));
        Assert.Equal(environment.Length, BinaryPrimitives.ReadUInt16LittleEndian(bytes[6..]));
        Assert.Equal(0x1122334455667788UL, BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]));
        Assert.Equal(1_700_000_000_123_456_789L, BinaryPrimitives.ReadInt64LittleEndian(bytes[16..]));
        Assert.Equal(s_seed, bytes[24..56].ToArray());
        Assert.Equal(0UL, BinaryPrimitives.ReadUInt64LittleEndian(bytes[56..])); // the guest's "applied"
        Assert.Equal(environment.ToArray(), bytes[64..].ToArray());
        Assert.Equal(4096, RestoreRecord.Offset + RestoreRecord.MaxSize);
    }

    [Fact]
    public void Every_record_has_a_fresh_seed_and_sequence_and_the_hosts_wall_clock()
    {
        var before = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100;
        var records = Enumerable.Range(0, 2).Select(_ => Parse(RestoreRecord.Create([]).Bytes)).ToList();
        var after = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100;

        Assert.NotEqual(Convert.ToHexString(records[0].Seed), Convert.ToHexString(records[1].Seed));
        Assert.NotEqual(records[0].Sequence, records[1].Sequence);
        Assert.All(records, r => Assert.NotEqual(0UL, r.Sequence));
        Assert.All(records, r => Assert.InRange(r.WallClockNs, before, after));
        Assert.All(records, r => Assert.Equal(string.Empty, r.Environment));
    }

    [Theory]
    [InlineData("A=B", "v")]
    [InlineData("", "v")]
    [InlineData("A\0B", "v")]
    [InlineData("NAME", "a\0b")]
    public void An_environment_entry_the_guest_would_split_differently_is_refused(string name, string value)
    {
        var error = Assert.Throws<ArgumentException>(() => RestoreRecord.Encode(1, 1, s_seed, new Dictionary<string, string> { [name] = value }));
        Assert.Contains(name.Length == 0 || name.Contains('=') || name.Contains('\0') ? "'=' or NUL" : "holds NUL", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_environment_larger_than_the_header_page_left_is_refused_and_one_that_fits_is_not()
    {
        var fits = new Dictionary<string, string> { ["N"] = new string('x', RestoreRecord.MaxEnvironmentBytes - 3) };
        Assert.Equal(RestoreRecord.MaxSize, RestoreRecord.Encode(1, 1, s_seed, fits).Bytes.Length);

        var tooLarge = new Dictionary<string, string> { ["N"] = new string('x', RestoreRecord.MaxEnvironmentBytes - 2) };
        Assert.Contains("holds 3008", Assert.Throws<ArgumentException>(() => RestoreRecord.Encode(1, 1, s_seed, tooLarge)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_zero_sequence_or_clock_or_a_short_seed_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => RestoreRecord.Encode(0, 1, s_seed, []));
        Assert.Throws<ArgumentOutOfRangeException>(() => RestoreRecord.Encode(1, 0, s_seed, []));
        Assert.Throws<ArgumentException>(() => RestoreRecord.Encode(1, 1, s_seed.AsSpan(1), []));
    }

    [Fact]
    public void Writing_into_a_region_replaces_the_whole_rest_of_the_header_page_and_nothing_before_it()
    {
        using var region = Memory.CreateMemfd("restore-record-test", 1 << 20);
        using (var handle = new SafeFileHandle(region.DangerousGetHandle(), ownsHandle: false))
        {
            RandomAccess.Write(handle, Enumerable.Repeat((byte)0xAA, 8192).ToArray(), 0);
        }

        RestoreRecord.Encode(7, 9, s_seed, new Dictionary<string, string> { ["A"] = "b" }).WriteTo(region);

        var page = ReadPage(region, 0, 8192);
        Assert.All(page[..RestoreRecord.Offset], b => Assert.Equal(0xAA, b));
        var found = Read(region);
        Assert.Equal(7UL, found.Sequence);
        Assert.Equal("A=b\0", found.Environment);
        Assert.All(page[(RestoreRecord.Offset + 68)..4096], b => Assert.Equal(0, b));
        Assert.All(page[4096..], b => Assert.Equal(0xAA, b));
    }

    /// <summary>The record in a region memfd as the guest sees it.</summary>
    internal static (ulong Sequence, long WallClockNs, byte[] Seed, string Environment) Read(SafeFd region) =>
        Parse(ReadPage(region, RestoreRecord.Offset, RestoreRecord.MaxSize));

    private static (ulong Sequence, long WallClockNs, byte[] Seed, string Environment) Parse(ReadOnlySpan<byte> record)
    {
        var length = BinaryPrimitives.ReadUInt16LittleEndian(record[RestoreRecord.OffEnvironmentLength..]);
        return (
            BinaryPrimitives.ReadUInt64LittleEndian(record[RestoreRecord.OffSequence..]),
            BinaryPrimitives.ReadInt64LittleEndian(record[RestoreRecord.OffWallClock..]),
            record.Slice(RestoreRecord.OffSeed, RestoreRecord.SeedSize).ToArray(),
            Encoding.UTF8.GetString(record.Slice(RestoreRecord.OffEnvironment, length)));
    }

    private static byte[] ReadPage(SafeFd region, long offset, int length)
    {
        var bytes = new byte[length];
        using var handle = new SafeFileHandle(region.DangerousGetHandle(), ownsHandle: false);
        Assert.Equal(length, RandomAccess.Read(handle, bytes, offset));
        return bytes;
    }
}
