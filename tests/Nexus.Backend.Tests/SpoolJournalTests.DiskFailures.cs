// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text;
using Nexus.Backend.WriteBack;
using Nexus.Channel;
using Nexus.Testing;

namespace Nexus.Backend.Tests;

/// <summary>
/// A disk that fills or fails under the journal. A record's write that the disk refuses (EIO; ENOSPC on a file system that
/// allocates on overwrite) after its place was reserved: the puts acknowledged after it must still be found by the next
/// start (the refusal is made by the journal's write hook, which throws before the bytes reach the file, as a failed
/// pwrite leaves them). A put that found room before its body was read keeps it (a real tmpfs without room for another
/// segment).
/// </summary>
public sealed partial class SpoolJournalTests
{
    [Theory]
    [InlineData(100)] // written whole (one write under the journal's lock)
    [InlineData(200 * 1024)] // streamed (its header written under the lock, its body after)
    public async Task Puts_acknowledged_after_a_refused_write_are_all_replayed(int refusedBytes)
    {
        // Defence: the segment of a refused write takes no more records (SpoolJournal.RefuseAfterFailedWriteLocked).
        // Without it the next put lands behind the unwritten header, where the restart's scan has stopped.
        var refuse = 0;
        void BeforeWrite(string path, long offset)
        {
            if (Interlocked.Exchange(ref refuse, 0) == 1)
            {
                throw new IOException("Input/output error (injected)");
            }
        }

        var acknowledged = new List<string>();
        using (var journal = SpoolJournal.Open(_directory, SpoolJournal.DefaultSegmentBytes, beforeSync: null, s_never, BeforeWrite).Journal)
        {
            await AppendAsync(journal, "before", "acknowledged before the refusal");
            acknowledged.Add("before");

            Volatile.Write(ref refuse, 1);
            var refused = Encoding.UTF8.GetBytes(new string('r', refusedBytes));
            await Assert.ThrowsAsync<IOException>(() => journal.AppendAsync(Meta("refused"), new MemoryStream(refused), refused.Length, CancellationToken.None));

            for (var i = 0; i < 3; i++)
            {
                await AppendAsync(journal, "after" + i, $"acknowledged after the refusal, {i}");
                acknowledged.Add("after" + i);
            }
        }

        Assert.Equal(acknowledged, Reopen().Select(r => r.Key));
    }

    [Fact]
    public async Task A_segment_left_by_a_refused_write_is_recycled_once_its_records_are_retired()
    {
        var refuse = 0;
        void BeforeWrite(string path, long offset)
        {
            if (Interlocked.Exchange(ref refuse, 0) == 1)
            {
                throw new IOException("Input/output error (injected)");
            }
        }

        using var journal = SpoolJournal.Open(_directory, 4096, beforeSync: null, s_never, BeforeWrite).Journal;
        var first = await AppendAsync(journal, "first", "in the segment the refusal seals");
        Volatile.Write(ref refuse, 1);

        // Streamed (larger than a segment): its header's write is refused, and it must not stay counted live.
        var refused = new byte[8192];
        await Assert.ThrowsAsync<IOException>(() => journal.AppendAsync(Meta("refused"), new MemoryStream(refused), refused.Length, CancellationToken.None));
        var second = await AppendAsync(journal, "second", "in the next segment");

        await journal.RetireAsync(first);
        await journal.RetireAsync(second);
        journal.SyncMarks();

        // Only the active segment holds bytes: the sealed one and the refused record's own were freed.
        Assert.InRange(journal.HeldBytes, 0, 4096);
    }

    [Fact]
    public async Task A_put_that_found_room_keeps_it_while_its_body_comes_in()
    {
        // Defence: the room made before a put's body is read is set aside for it (JournalSegment.Promised). Without it a
        // put arriving meanwhile took that room, and the first, its body read, found none and failed (not a fallback).
        // A 96 KiB tmpfs holds one 64 KiB segment and not a second.
        using var disk = SmallTmpfs.Mount(Path.Combine(_directory, "small"), "96k");
        using var journal = SpoolJournal.Open(disk.Path, segmentBytes: 64 * 1024).Journal;

        // Leaves the segment room for one more 20 KiB record, not two.
        await AppendAsync(journal, "filler", new string('f', 30 * 1024));

        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var slowBody = new string('s', 20 * 1024);
        var slow = journal.AppendAsync(Meta("slow"), new GatedBody(Encoding.UTF8.GetBytes(slowBody), gate.Task), slowBody.Length, CancellationToken.None);

        // The slow put made its room before waiting for its body: this one finds none, before a byte of its body is read.
        var eager = Encoding.UTF8.GetBytes(new string('e', 20 * 1024));
        var eagerBody = new MemoryStream(eager);
        await Assert.ThrowsAsync<SpoolFullException>(() => journal.AppendAsync(Meta("eager"), eagerBody, eager.Length, CancellationToken.None));
        Assert.Equal(0, eagerBody.Position);

        gate.SetResult();
        Assert.Equal("slow", (await slow).Record.Key);
        journal.Dispose();
        Assert.Equal(["filler", "slow"], SpoolJournal.Scan(disk.Path).OrderBy(r => r.Sequence).Select(r => r.Key));
    }

    /// <summary>A body whose bytes come only once <c>gate</c> completes: a sandbox still writing it.</summary>
    private sealed class GatedBody(byte[] bytes, Task gate) : ForwardOnlyStream
    {
        public override long Length => bytes.Length;

        public override int Read(Span<byte> buffer) => throw new NotSupportedException("read asynchronously");

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await gate.WaitAsync(cancellationToken);
            var n = (int)Math.Min(buffer.Length, bytes.Length - Consumed);
            bytes.AsMemory((int)Consumed, n).CopyTo(buffer);
            Consumed += n;
            return n;
        }
    }
}
