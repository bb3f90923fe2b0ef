// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text;
using Nexus.Backend.WriteBack;

namespace Nexus.Backend.Tests;

/// <summary>
/// When retirement marks become durable (they ride on the next append's group sync), against a model of what a power
/// loss keeps (<see cref="PowerLossDisk"/>), and small records written whole.
/// </summary>
public sealed partial class SpoolJournalTests
{
    private static readonly TimeSpan s_never = TimeSpan.FromHours(1);

    [Fact]
    public async Task An_uploaded_records_retirement_costs_no_sync_of_its_own_and_is_durable_with_the_next_append()
    {
        using var disk = new PowerLossDisk();
        using var journal = SpoolJournal.Open(_directory, SpoolJournal.DefaultSegmentBytes, disk.Keep, s_never).Journal;
        for (var i = 0; i < 10; i++)
        {
            await journal.RetireAsync(await AppendAsync(journal, "out/summary.json", $"call {i}"));
        }

        // One sync per put, none per retirement: each mark was made durable by the next put's sync.
        Assert.Equal(10, journal.Syncs);
        Assert.Equal(["out/summary.json"], disk.LiveKeys());
        Assert.Equal(Md5("call 9"), SpoolJournal.Scan(disk.Directory).Single().Md5);

        // What a delete that waited for the upload does first: then no start finds it live.
        journal.SyncMarks();
        Assert.Empty(disk.LiveKeys());
        Assert.Equal(11, journal.Syncs);
    }

    [Fact]
    public async Task A_mark_is_written_only_once_every_earlier_mark_on_its_key_is_durable()
    {
        using var disk = new PowerLossDisk();
        using var journal = SpoolJournal.Open(_directory, 4096, disk.Keep, s_never).Journal;

        // The newer write of "k" goes to the next segment, whose syncs do not cover the first's marks.
        var (older, newer) = await AppendInTwoSegmentsAsync(journal, ("k", "older"), ("k", "newer"));

        await journal.RetireAsync(older);
        await journal.RetireAsync(newer);
        await AppendAsync(journal, "after", "syncs the second segment");

        // A power loss now must not find the older write of "k" live behind a retired newer one: a restart would upload
        // it over the newer bytes.
        var live = disk.LiveKeys();
        Assert.DoesNotContain("k", live);
        Assert.Contains("after", live);
    }

    [Fact]
    public async Task A_retirement_waits_for_no_mark_on_another_key_in_a_segment_no_append_syncs()
    {
        using var disk = new PowerLossDisk();
        using var journal = SpoolJournal.Open(_directory, 4096, disk.Keep, s_never).Journal;

        var (a, b) = await AppendInTwoSegmentsAsync(journal, ("a", "in the first segment"), ("b", "in the second segment"));
        await journal.RetireAsync(a);

        // "a"'s mark waits in the sealed segment, which no append syncs; "b" is another key, so its retirement waits for
        // no sync of that segment (each retirement there used to cost one).
        var syncs = journal.Syncs;
        await journal.RetireAsync(b);
        Assert.Equal(syncs, journal.Syncs);

        // The next append makes "b"'s mark durable; "a"'s is not yet (a restart would check it with a HEAD), until the
        // marks are synced (the timer, or a delete that waited for the upload).
        await AppendAsync(journal, "c", "syncs the second segment");
        Assert.DoesNotContain("b", disk.LiveKeys());
        Assert.Contains("a", disk.LiveKeys());
        journal.SyncMarks();
        Assert.DoesNotContain("a", disk.LiveKeys());
    }

    /// <summary>
    /// In a journal of 4 KiB segments: the first write, then writes that keep its segment in use and fill it, so that it
    /// is sealed, then the second write, in the next segment.
    /// </summary>
    private static async Task<(JournalEntry First, JournalEntry Second)> AppendInTwoSegmentsAsync(SpoolJournal journal, (string Key, string Text) first, (string Key, string Text) second)
    {
        var firstEntry = await AppendAsync(journal, first.Key, first.Text);
        for (var i = 0; i < 8; i++)
        {
            await AppendAsync(journal, $"keep/{i}", new string('f', 400));
        }

        var secondEntry = await AppendAsync(journal, second.Key, second.Text);
        Assert.NotEqual(firstEntry.Segment, secondEntry.Segment);
        return (firstEntry, secondEntry);
    }

    [Fact]
    public async Task A_mark_no_append_makes_durable_is_synced_after_the_delay()
    {
        using var disk = new PowerLossDisk();
        using var journal = SpoolJournal.Open(_directory, SpoolJournal.DefaultSegmentBytes, disk.Keep, TimeSpan.FromMilliseconds(50)).Journal;
        await journal.RetireAsync(await AppendAsync(journal, "last", "the node goes idle after this one"));

        // Polled, not timed: the delay is 50 ms, the bound only keeps a broken journal from hanging the test run.
        for (var waited = 0; disk.LiveKeys().Count > 0 && waited < 200; waited++)
        {
            await Task.Delay(50);
        }

        Assert.Empty(disk.LiveKeys());
    }

    [Fact]
    public async Task A_small_put_that_fails_writes_nothing_and_the_next_record_takes_its_place()
    {
        using var journal = SpoolJournal.Open(_directory).Journal;
        var first = await AppendAsync(journal, "a", "first");
        await Assert.ThrowsAsync<EndOfStreamException>(() => journal.AppendAsync(Meta("b"), new MemoryStream(Encoding.UTF8.GetBytes("only half")), 100, CancellationToken.None));
        var wrong = new JournalMeta("bucket", "c", null, new Dictionary<string, string>(), new WriterChecksum("crc32", "AAAAAA=="));
        await Assert.ThrowsAsync<ChecksumMismatchException>(() => journal.AppendAsync(wrong, new MemoryStream(Encoding.UTF8.GetBytes("not that")), 8, CancellationToken.None));
        var next = await AppendAsync(journal, "d", "fourth");

        // Read whole before anything was reserved or written: the failed puts left no header behind.
        Assert.Equal(first.BodyOffset + first.Record.Length + JournalRecord.FooterBytes, next.Offset);
        Assert.Equal(["a", "d"], Reopen().Select(r => r.Key));
    }
}
