// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Security.Cryptography;
using System.Text;
using Nexus.Backend.WriteBack;

namespace Nexus.Backend.Tests;

/// <summary>
/// The write-back journal on its own (real files, real fdatasync): what a restart replays after torn and unfinished
/// records, in which order, and that retired records and recycled segments never come back.
/// </summary>
public sealed partial class SpoolJournalTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("nexus-journal-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task An_unfinished_put_is_skipped_and_the_acknowledged_records_behind_it_are_replayed()
    {
        var (journal, live) = SpoolJournal.Open(_directory);
        Assert.Empty(live);
        using (journal)
        {
            await AppendAsync(journal, "a", "first");

            // A sandbox dies mid-body of a put large enough to stream: its header and half its body are on disk, its
            // footer never is; the put is not acknowledged.
            var large = new byte[3 << 20];
            Array.Fill(large, (byte)'h');
            var unfinished = journal.AppendAsync(Meta("b"), new MemoryStream(large, 0, 2 << 20), large.Length, CancellationToken.None);
            await Assert.ThrowsAsync<EndOfStreamException>(() => unfinished);
            await AppendAsync(journal, "c", "third");
        }

        var replayed = Reopen();
        Assert.Equal(["a", "c"], replayed.Select(r => r.Key));
        Assert.Equal(Md5("first"), replayed[0].Md5);
        Assert.Equal("third".Length, replayed[1].Length);

        // Its half body is in the segment, behind a whole header: the scan skipped it and went on to "c".
        var segment = await File.ReadAllBytesAsync(Assert.Single(Directory.GetFiles(_directory, "*" + SpoolJournal.Extension)));
        Assert.True(segment.Count(b => b == (byte)'h') >= 2 << 20);
    }

    [Fact]
    public async Task A_tail_torn_anywhere_in_the_last_record_leaves_the_records_before_it()
    {
        JournalEntry last;
        using (var journal = SpoolJournal.Open(_directory).Journal)
        {
            await AppendAsync(journal, "a", "one");
            await AppendAsync(journal, "b", "two");
            last = await AppendAsync(journal, "c", new string('x', 3000));
        }

        // The segment was zero-filled when made; its first 4 KiB past the last record stand for the rest.
        var segment = Assert.Single(Directory.GetFiles(_directory, "*" + SpoolJournal.Extension));
        var lastStart = last.Offset;
        var recordEnd = last.BodyOffset + last.Record.Length + JournalRecord.FooterBytes;
        var whole = (await File.ReadAllBytesAsync(segment)).AsSpan(0, (int)recordEnd + 4096).ToArray();
        await File.WriteAllBytesAsync(segment, whole);
        Assert.Equal(["a", "b", "c"], Reopen().Select(r => r.Key));

        // Every length the crash could have left of the last record (a write cut short): it is never replayed.
        for (var cut = lastStart; cut < recordEnd; cut += 97)
        {
            await File.WriteAllBytesAsync(segment, whole.AsSpan(0, (int)cut).ToArray());
            Assert.Equal(["a", "b"], Reopen().Select(r => r.Key));
        }

        // Its bytes present but one of them wrong (header, meta, body or footer): not replayed either.
        for (var at = lastStart; at < recordEnd; at += 61)
        {
            if (at - lastStart is >= JournalRecord.StateOffset and < JournalRecord.HeaderBytes)
            {
                continue; // the state byte and padding: outside the checksums by design
            }

            var damaged = whole.ToArray();
            damaged[at] ^= 0x5a;
            await File.WriteAllBytesAsync(segment, damaged);
            Assert.Equal(["a", "b"], Reopen().Select(r => r.Key));
        }
    }

    [Fact]
    public async Task Replay_returns_live_records_of_every_segment_in_sequence_order_without_retired_ones()
    {
        var written = new List<JournalEntry>();
        using (var journal = SpoolJournal.Open(_directory, segmentBytes: 4096).Journal)
        {
            for (var i = 0; i < 40; i++)
            {
                written.Add(await AppendAsync(journal, "k" + (i % 7), $"value {i} " + new string('v', i * 20)));
            }

            // An uploaded record (durably retired) and a superseded one (its mark synced by the next durable retire).
            journal.RetireSuperseded(written[3]);
            await journal.RetireAsync(written[5]);
        }

        Assert.True(Directory.GetFiles(_directory, "*" + SpoolJournal.Extension).Length > 3, "the test needs several segments");
        var replayed = Reopen(segmentBytes: 4096);
        var expected = written.Where((_, i) => i is not 3 and not 5).Select(e => e.Record.Sequence).ToList();
        Assert.Equal(expected, replayed.Select(r => r.Sequence));
        Assert.True(replayed.Select(r => r.Sequence).Order().SequenceEqual(replayed.Select(r => r.Sequence)));
        Assert.Equal(written[39].Record.Md5, replayed.Last(r => r.Key == "k4").Md5);
    }

    [Fact]
    public async Task Segments_whose_records_are_all_retired_are_recycled_and_their_old_records_never_come_back()
    {
        using (var journal = SpoolJournal.Open(_directory, segmentBytes: 4096).Journal)
        {
            for (var round = 0; round < 5; round++)
            {
                var batch = new List<JournalEntry>();
                for (var i = 0; i < 20; i++)
                {
                    batch.Add(await AppendAsync(journal, $"r{round}/{i}", new string((char)('a' + round), 300)));
                }

                foreach (var entry in batch)
                {
                    await journal.RetireAsync(entry);
                }

                // 20 records of ~400 bytes fill two 4 KiB segments per round; retired, they are reused, not added to.
                Assert.InRange(Directory.GetFiles(_directory, "*" + SpoolJournal.Extension).Length, 1, 5);
                Assert.InRange(journal.HeldBytes, 0, 4096);
            }

            await AppendAsync(journal, "after", "the last write");
        }

        // The reused files still hold bytes of older generations: only the one live record is replayed.
        Assert.Equal(["after"], Reopen(segmentBytes: 4096).Select(r => r.Key));
    }

    [Fact]
    public async Task Concurrent_puts_are_each_durable_and_whole()
    {
        using (var journal = SpoolJournal.Open(_directory).Journal)
        {
            await Task.WhenAll(Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
            {
                for (var i = 0; i < 50; i++)
                {
                    await AppendAsync(journal, $"w{w}/{i}", $"writer {w} put {i} " + new string('p', (w * 131 + i * 17) % 5000));
                }
            })));
        }

        var replayed = Reopen();
        Assert.Equal(400, replayed.Count);
        Assert.Equal(400, replayed.Select(r => r.Sequence).Distinct().Count());
        foreach (var record in replayed)
        {
            var parts = record.Key.Split('/');
            var w = int.Parse(parts[0][1..], System.Globalization.CultureInfo.InvariantCulture);
            var i = int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(Md5($"writer {w} put {i} " + new string('p', (w * 131 + i * 17) % 5000)), record.Md5);
        }
    }

    [Fact]
    public async Task Spool_files_an_older_node_left_move_into_the_journal()
    {
        var bytes = Encoding.UTF8.GetBytes("written by the per-file spool");
        var (_, legacy) = await SpoolFile.WriteAsync(_directory, 7, "bucket", "old", "text/plain", new Dictionary<string, string>(), new MemoryStream(bytes), bytes.Length, CancellationToken.None);

        // A store that is not there: the write stays pending while the test looks at it.
        using var s3 = new Amazon.S3.AmazonS3Client("key", "secret", new Amazon.S3.AmazonS3Config { ServiceURL = "http://127.0.0.1:9", ForcePathStyle = true });
        using var http = new HttpClient();
        var direct = new Storage.DirectS3(new NexusBackendOptions { ServiceUrl = "http://127.0.0.1:9", AccessKey = "key", SecretKey = "secret" }, http);
        await using (var queue = new WriteBackQueue(s3, direct, new Nexus.Backend.Storage.KnownBuckets(direct), _directory, 1L << 30, 1, (_, _) => { }, _ => { }))
        {
            var found = queue.Find("bucket", "old", withBody: true);
            Assert.NotNull(found);
            await using var body = found.Value.Body!;
            var read = new MemoryStream();
            await body.CopyToAsync(read);
            Assert.Equal(bytes, read.ToArray());
        }

        Assert.False(File.Exists(legacy));
        Assert.Equal(["old"], SpoolJournal.Scan(_directory).Select(r => r.Key));
    }

    private static JournalMeta Meta(string key) => new("bucket", key, "text/plain", new Dictionary<string, string> { ["m"] = key });

    private static Task<JournalEntry> AppendAsync(SpoolJournal journal, string key, string body)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        return journal.AppendAsync(Meta(key), new MemoryStream(bytes), bytes.Length, CancellationToken.None);
    }

    private static string Md5(string body) => Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(body)));

    private List<SpoolRecord> Reopen(long segmentBytes = SpoolJournal.DefaultSegmentBytes)
    {
        var (journal, live) = SpoolJournal.Open(_directory, segmentBytes);
        journal.Dispose();
        return [.. live.Select(e => e.Record)];
    }
}
