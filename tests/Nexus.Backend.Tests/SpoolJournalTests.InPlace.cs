// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers;
using System.Security.Cryptography;
using Nexus.Backend.WriteBack;
using Nexus.Channel.Services;

namespace Nexus.Backend.Tests;

/// <summary>A body read in place from the sandbox's region: spooled from there, hashed where it landed.</summary>
public sealed partial class SpoolJournalTests
{
    /// <summary>
    /// Guards the in-place spool write: a region body is written from where it lies (never read through the stream,
    /// which copies through a buffer first), and its MD5 and checksum are those of the bytes spooled even though the
    /// sandbox rewrites each chunk right after the host took it (as a hostile one may): the record's MD5, the bytes read
    /// back and the replayed record all agree with what the host read. Checked by removing the in-place branch once
    /// (the body's stream read threw: failed).
    /// </summary>
    [Fact]
    public async Task A_region_body_is_spooled_from_where_it_lies_and_hashed_as_spooled_whatever_the_sandbox_writes_after()
    {
        var body = new byte[(3 << 20) + 1234];
        new Random(12).NextBytes(body);
        var region = (byte[])body.Clone();
        using var crc = new Nexus.Interop.ObjectDigest("crc32");
        crc.Append(body);
        var meta = new JournalMeta("bucket", "in-place", "application/octet-stream", new Dictionary<string, string>(), new WriterChecksum("crc32", Convert.ToBase64String(crc.Digest())));
        var source = new RegionBody(region, chunk: (256 << 10) + 7);

        var (journal, _) = SpoolJournal.Open(_directory);
        using (journal)
        {
            var entry = await journal.AppendAsync(meta, source, body.Length, CancellationToken.None);
            Assert.Equal(Convert.ToHexStringLower(MD5.HashData(body)), entry.Record.Md5);
            await using var spooled = journal.OpenBody(entry);
            var read = new MemoryStream();
            await spooled.CopyToAsync(read);
            Assert.Equal(body, read.ToArray());
        }

        Assert.Equal(body.Length, source.HandedOver);
        Assert.All(region, b => Assert.Equal(0xA5, b));
        var replayed = Assert.Single(Reopen());
        Assert.Equal(Convert.ToHexStringLower(MD5.HashData(body)), replayed.Md5);
    }

    /// <summary>
    /// A region body that does not match the checksum its writer sent is refused on the in-place path as on the other:
    /// nothing is acknowledged, nothing comes back on a restart. Checked by skipping the checksum comparison of the
    /// in-place path once: the put was sealed and replayed (failed).
    /// </summary>
    [Fact]
    public async Task A_region_body_that_does_not_match_its_checksum_is_never_acknowledged()
    {
        var body = new byte[1 << 20];
        new Random(13).NextBytes(body);
        var wrong = new JournalMeta("bucket", "bad", null, new Dictionary<string, string>(), new WriterChecksum("crc32", "AAAAAA=="));
        var (journal, _) = SpoolJournal.Open(_directory);
        using (journal)
        {
            await Assert.ThrowsAsync<ChecksumMismatchException>(() => journal.AppendAsync(wrong, new RegionBody(body, chunk: 1 << 18), body.Length, CancellationToken.None));
        }

        Assert.Empty(Reopen());
    }

    /// <summary>
    /// A stand-in for the channel's body: hands out chunks of its "region" in place and then overwrites them, as a
    /// sandbox may once the host has read them; its stream read fails, so a spool that copies through a buffer fails.
    /// </summary>
    private sealed class RegionBody(byte[] region, int chunk) : Stream, IInPlaceBody
    {
        public long HandedOver { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => region.Length;

        public override long Position
        {
            get => HandedOver;
            set => throw new NotSupportedException();
        }

        public ValueTask<int> ReadInPlaceAsync<TState>(int max, TState state, ReadOnlySpanAction<byte, TState> consume, CancellationToken cancellationToken = default)
        {
            var take = (int)Math.Min(Math.Min(max, chunk), region.Length - HandedOver);
            var at = (int)HandedOver;
            consume(region.AsSpan(at, take), state);
            region.AsSpan(at, take).Fill(0xA5);
            HandedOver += take;
            return ValueTask.FromResult(take);
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new InvalidOperationException("read through the stream, not in place");

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
