// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;
using Nexus.Interop;

namespace Nexus.Backend.WriteBack;

/// <summary>One durable write in the journal: its record and where its body lies.</summary>
public sealed class JournalEntry
{
    internal JournalEntry(SpoolRecord record, JournalSegment segment, long offset, long bodyOffset)
    {
        Record = record;
        Segment = segment;
        Offset = offset;
        BodyOffset = bodyOffset;
    }

    public SpoolRecord Record { get; }

    /// <summary>Marked a dead letter in the journal (<see cref="SpoolJournal.MarkDeadLetter"/>): not uploaded until re-driven.</summary>
    public bool IsDeadLetter { get; internal set; }

    internal JournalSegment Segment { get; }

    /// <summary>Where the record starts in its segment.</summary>
    internal long Offset { get; }

    internal long BodyOffset { get; }
}

/// <summary>
/// The write-back spool as an append-only journal of segment files (<c>*.nxwj</c>). Concurrent puts each reserve their
/// place in the active segment and write their header there at once (under the lock, so every later record lies behind
/// a header already written), then stream their bodies in parallel; a put is acknowledged after an fdatasync that
/// started after its footer was written, and puts that finish while one sync runs share the next (group commit, see
/// <see cref="GroupSync"/>). So an acknowledged record and every header before it are on disk, and a scan that stops
/// at the first torn header loses nothing acknowledged; a record with a whole header but no valid footer or body is a
/// put that never finished (skipped).
/// Retiring a record (uploaded or superseded) rewrites one state byte in its header. An uploaded record's mark is made
/// durable only after every earlier mark, so a restart never finds an older write of a key live while a newer one is
/// retired. A sealed segment whose records are all retired is cleared and recycled (or deleted beyond two spares).
/// </summary>
public sealed class SpoolJournal : IDisposable
{
    public const string Extension = ".nxwj";
    public const long DefaultSegmentBytes = 16L << 20;

    private const int SparesKept = 2;
    private const int CopyBufferBytes = 1 << 20;

    private readonly string _directory;
    private readonly long _segmentBytes;
    private readonly Lock _lock = new();
    private readonly List<JournalSegment> _segments = [];
    private readonly Stack<JournalSegment> _spares = new();
    private JournalSegment? _active;
    private long _sequence;
    private long _generation;
    private int _fileNumber;

    private SpoolJournal(string directory, long segmentBytes)
    {
        _directory = directory;
        _segmentBytes = segmentBytes;
    }

    /// <summary>Segment files in use (not spares): the journal's share of the disk.</summary>
    public long HeldBytes
    {
        get
        {
            lock (_lock)
            {
                return _segments.Sum(s => s.Position);
            }
        }
    }

    /// <summary>Group-commit fdatasyncs run for appends and retirements so far (those clearing a segment and of deleted segments not counted).</summary>
    public long Syncs
    {
        get
        {
            lock (_lock)
            {
                return _segments.Concat(_spares).Sum(s => s.Sync.Syncs);
            }
        }
    }

    /// <summary>
    /// Opens the journal in <paramref name="directory"/> (which must exist) and returns every whole live record found,
    /// in sequence order, dead letters among them (<see cref="JournalEntry.IsDeadLetter"/>); the caller decides which of
    /// the others win and retires the rest.
    /// </summary>
    public static (SpoolJournal Journal, IReadOnlyList<JournalEntry> Live) Open(string directory, long segmentBytes = DefaultSegmentBytes)
    {
        var journal = new SpoolJournal(directory, segmentBytes);
        var live = journal.Replay();
        return (journal, live);
    }

    /// <summary>
    /// Live records in the journal files of <paramref name="directory"/> (those a start uploads; with
    /// <paramref name="deadLetters"/> the dead letters instead), read without opening it for writing (for status and tests).
    /// </summary>
    public static IReadOnlyList<SpoolRecord> Scan(string directory, bool deadLetters = false)
    {
        var found = new List<SpoolRecord>();
        if (!Directory.Exists(directory))
        {
            return found;
        }

        foreach (var path in Directory.EnumerateFiles(directory, "*" + Extension))
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var segment = new JournalSegment(path, handle, RandomAccess.GetLength(handle));
            if (JournalSegment.ReadGeneration(handle) is { } generation)
            {
                segment.Generation = generation;
                found.AddRange(ScanRecords(segment, _ => { }).Where(e => e.IsDeadLetter == deadLetters).Select(e => e.Record));
            }
        }

        return found;
    }

    /// <summary>
    /// Writes one record durably: reserves its place, streams <paramref name="length"/> bytes of <paramref name="body"/>
    /// (computing their MD5, and the writer's checksum when the meta names one), seals it and returns once it is on disk.
    /// Throws <see cref="ChecksumMismatchException"/> before sealing when the body does not match the writer's checksum.
    /// </summary>
    public async Task<JournalEntry> AppendAsync(JournalMeta meta, Stream body, long length, CancellationToken cancellationToken)
    {
        var metaBytes = JournalRecord.EncodeMeta(meta);
        if (metaBytes.Length > JournalRecord.MaxMetaBytes)
        {
            throw new ArgumentException($"the write's bucket, key, content type and metadata take {metaBytes.Length} bytes; at most {JournalRecord.MaxMetaBytes}");
        }

        var size = JournalRecord.Size(metaBytes.Length, length);
        var head = new byte[JournalRecord.HeaderBytes + metaBytes.Length];
        JournalSegment segment;
        long offset;
        long sequence;
        uint headerCrc;
        lock (_lock)
        {
            segment = ActiveFor(size);
            offset = segment.Position;
            segment.Position += size;
            segment.Live++;
            sequence = ++_sequence;
            headerCrc = JournalRecord.WriteHeader(head, segment.Generation, sequence, metaBytes, length);

            // Written before the lock is let go: every record reserved later lies behind this header.
            RandomAccess.Write(segment.Handle, head, offset);
        }

        var bodyOffset = offset + head.Length;
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Clamp(length + JournalRecord.FooterBytes, JournalRecord.FooterBytes, CopyBufferBytes));
        try
        {
            using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
            using var checksum = meta.Checksum is { } declared ? new ObjectDigest(declared.Algorithm) : null;
            long done = 0;
            var filled = 0;
            while (done < length)
            {
                var n = await body.ReadAsync(buffer.AsMemory(filled, (int)Math.Min(buffer.Length - filled, length - done)), cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    throw new EndOfStreamException($"the body ended after {done} of {length} bytes");
                }

                md5.AppendData(buffer, filled, n);
                checksum?.Append(buffer.AsSpan(filled, n));
                done += n;
                filled += n;
                if (filled == buffer.Length)
                {
                    WriteAt(segment, buffer.AsSpan(0, filled), bodyOffset + done - filled, cancellationToken);
                    filled = 0;
                }
            }

            if (checksum is not null && !meta.Checksum!.Matches(checksum.Digest()))
            {
                // Never sealed, so never acknowledged: the function gets BadDigest, as from the store.
                throw new ChecksumMismatchException(meta.Checksum);
            }

            // The footer rides with the body's last bytes when they fit: one write for a small put.
            // The write's LastModified, in whole milliseconds as storage keeps it: the upload carries it to storage
            // (SpoolUpload.LastModifiedHeader), so reads from the spool and from storage agree.
            var acknowledgedAt = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            var hash = md5.GetHashAndReset();
            if (filled + JournalRecord.FooterBytes > buffer.Length)
            {
                WriteAt(segment, buffer.AsSpan(0, filled), bodyOffset + done - filled, cancellationToken);
                filled = 0;
            }

            JournalRecord.WriteFooter(buffer.AsSpan(filled), headerCrc, hash, acknowledgedAt);
            WriteAt(segment, buffer.AsSpan(0, filled + JournalRecord.FooterBytes), bodyOffset + done - filled, cancellationToken);
            segment.Sync.Sync();
            var record = new SpoolRecord
            {
                Sequence = sequence,
                Bucket = meta.Bucket,
                Key = meta.Key,
                Length = length,
                Md5 = Convert.ToHexStringLower(hash),
                ContentType = meta.ContentType,
                Metadata = meta.Metadata,
                Checksum = meta.Checksum,
                AcknowledgedAt = acknowledgedAt,
            };
            return new JournalEntry(record, segment, offset, bodyOffset);
        }
        catch
        {
            // Its header stays behind without a footer: skipped by every scan, its space freed with the segment.
            Release(segment, reader: false);
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Retires an uploaded record durably: the marks written before are synced first and this one after, so no restart
    /// sees this write gone while an older write of its key is still live.
    /// </summary>
    public void Retire(JournalEntry entry)
    {
        SyncEarlierMarks();
        WriteState(entry, JournalRecord.Retired);
        entry.Segment.Sync.Sync();
        Release(entry.Segment, reader: false);
    }

    /// <summary>
    /// Retires a record a newer live write of its key replaces: the mark is only written, and made durable before the
    /// next uploaded record's (<see cref="Retire"/>).
    /// </summary>
    public void RetireSuperseded(JournalEntry entry)
    {
        WriteState(entry, JournalRecord.Retired);
        lock (_lock)
        {
            entry.Segment.MarksDirty = true;
        }

        Release(entry.Segment, reader: false);
    }

    /// <summary>
    /// Marks a record whose upload storage refuses for good a dead letter, durably and after every earlier mark (as
    /// <see cref="Retire"/> does, so a restart cannot find an older write of the key live behind it). The record keeps
    /// its segment on disk; a restart finds it again as a dead letter and does not upload it.
    /// </summary>
    public void MarkDeadLetter(JournalEntry entry)
    {
        SyncEarlierMarks();
        WriteState(entry, JournalRecord.DeadLetter);
        entry.Segment.Sync.Sync();
        entry.IsDeadLetter = true;
    }

    /// <summary>Makes a dead letter live again, durably: it is uploaded now, and by a restart if it has not landed by then.</summary>
    public void Redrive(JournalEntry entry)
    {
        WriteState(entry, JournalRecord.Live);
        entry.Segment.Sync.Sync();
        entry.IsDeadLetter = false;
    }

    /// <summary>Retires a dead letter an operator gave up on, durably, and frees its place.</summary>
    public void Discard(JournalEntry entry)
    {
        WriteState(entry, JournalRecord.Retired);
        entry.Segment.Sync.Sync();
        Release(entry.Segment, reader: false);
    }

    /// <summary>Reads the body of a live record; its segment is not recycled until the stream is disposed.</summary>
    /// <remarks>Call while the record is known live (it is pending in the queue), so its segment cannot be freed meanwhile.</remarks>
    public Stream OpenBody(JournalEntry entry)
    {
        lock (_lock)
        {
            entry.Segment.Readers++;
        }

        return new SegmentBodyStream(entry.Segment.Handle, entry.BodyOffset, entry.Record.Length, () => Release(entry.Segment, reader: true));
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var segment in _segments.Concat(_spares))
            {
                segment.Dispose();
            }

            _segments.Clear();
            _spares.Clear();
        }
    }

    private List<JournalEntry> Replay()
    {
        var live = new List<JournalEntry>();
        foreach (var path in Directory.EnumerateFiles(_directory, "*" + Extension).Order(StringComparer.Ordinal))
        {
            if (int.TryParse(Path.GetFileNameWithoutExtension(path), NumberStyles.None, CultureInfo.InvariantCulture, out var number))
            {
                _fileNumber = Math.Max(_fileNumber, number);
            }

            var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
            var segment = new JournalSegment(path, handle, RandomAccess.GetLength(handle));
            if (JournalSegment.ReadGeneration(handle) is not { } generation)
            {
                // Cleared (free) or never activated: a spare.
                AddSpare(segment);
                continue;
            }

            segment.Generation = generation;
            segment.Sealed = true;
            _generation = Math.Max(_generation, generation);
            var entries = ScanRecords(segment, sequence => _sequence = Math.Max(_sequence, sequence));
            segment.Position = segment.Capacity;
            segment.Live = entries.Count;
            live.AddRange(entries);
            if (entries.Count == 0)
            {
                segment.Clear();
                AddSpare(segment);
            }
            else
            {
                _segments.Add(segment);
            }
        }

        live.Sort((a, b) => a.Record.Sequence.CompareTo(b.Record.Sequence));
        return live;
    }

    /// <summary>Whole live records of a segment, in file order; <paramref name="seen"/> gets every sequence a whole header names.</summary>
    private static List<JournalEntry> ScanRecords(JournalSegment segment, Action<long> seen)
    {
        var entries = new List<JournalEntry>();
        var handle = segment.Handle;
        var end = segment.Capacity;
        var position = (long)JournalSegment.HeaderBytes;
        var head = new byte[JournalRecord.HeaderBytes];
        var footer = new byte[JournalRecord.FooterBytes];
        var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferBytes);
        try
        {
            while (position + JournalRecord.HeaderBytes <= end && RandomAccess.Read(handle, head, position) == head.Length)
            {
                var metaAt = position + JournalRecord.HeaderBytes;
                var header = JournalRecord.ReadHeader(head, segment.Generation, end - position, length =>
                {
                    var meta = new byte[length];
                    return RandomAccess.Read(handle, meta, metaAt) == length ? meta : null;
                });
                if (header is null)
                {
                    // Torn, stale (an older generation) or never written: nothing acknowledged lies behind it.
                    break;
                }

                seen(header.Sequence);
                var bodyAt = metaAt + header.MetaLength;
                if (header.State is JournalRecord.Live or JournalRecord.DeadLetter
                    && RandomAccess.Read(handle, footer, bodyAt + header.BodyLength) == footer.Length
                    && JournalRecord.ReadFooter(footer, header.Crc) is { } sealedBy
                    && BodyMatches(handle, bodyAt, header.BodyLength, sealedBy.Md5, buffer))
                {
                    var record = new SpoolRecord
                    {
                        Sequence = header.Sequence,
                        Bucket = header.Meta.Bucket,
                        Key = header.Meta.Key,
                        Length = header.BodyLength,
                        Md5 = Convert.ToHexStringLower(sealedBy.Md5),
                        ContentType = header.Meta.ContentType,
                        Metadata = header.Meta.Metadata,
                        Checksum = header.Meta.Checksum,
                        AcknowledgedAt = sealedBy.AcknowledgedAt,
                    };
                    entries.Add(new JournalEntry(record, segment, position, bodyAt) { IsDeadLetter = header.State == JournalRecord.DeadLetter });
                }

                position += header.Size;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return entries;
    }

    private static bool BodyMatches(SafeFileHandle handle, long offset, long length, byte[] md5, byte[] buffer)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        while (length > 0)
        {
            var n = RandomAccess.Read(handle, buffer.AsSpan(0, (int)Math.Min(buffer.Length, length)), offset);
            if (n == 0)
            {
                return false;
            }

            hash.AppendData(buffer, 0, n);
            offset += n;
            length -= n;
        }

        return hash.GetHashAndReset().AsSpan().SequenceEqual(md5);
    }

    /// <summary>The segment a record of <paramref name="size"/> bytes goes to; seals the active one when it is full.</summary>
    private JournalSegment ActiveFor(long size)
    {
        if (_active is { } active && active.Position + size <= active.Capacity)
        {
            return active;
        }

        if (_active is not null)
        {
            _active.Sealed = true;
            FreeIfDone(_active);
        }

        var capacity = Math.Max(_segmentBytes, JournalSegment.HeaderBytes + size);
        JournalSegment segment;
        if (capacity == _segmentBytes && _spares.Count > 0)
        {
            segment = _spares.Pop();
        }
        else
        {
            var path = Path.Combine(_directory, (++_fileNumber).ToString("D8", CultureInfo.InvariantCulture) + Extension);
            var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read);
            segment = new JournalSegment(path, handle, capacity);

            // Written out in full once, so that appends overwrite allocated blocks and their fdatasync has no size or
            // extent change to commit; and the new name must survive a crash before a record in it is acknowledged.
            var zeros = new byte[Math.Min(capacity, CopyBufferBytes)];
            for (long at = 0; at < capacity; at += zeros.Length)
            {
                RandomAccess.Write(handle, zeros.AsSpan(0, (int)Math.Min(zeros.Length, capacity - at)), at);
            }

            RandomAccess.FlushToDisk(handle);
            DirectorySync.Fsync(_directory);
        }

        segment.Activate(++_generation);
        _segments.Add(segment);
        _active = segment;
        return segment;
    }

    /// <summary>
    /// A plain positional write into the page cache. On Linux an asynchronous file write is this same write queued to the
    /// thread pool: a hop (and a wake-up) per write, on a put that blocks its thread for the group sync right after anyway.
    /// </summary>
    private static void WriteAt(JournalSegment segment, ReadOnlySpan<byte> bytes, long offset, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        RandomAccess.Write(segment.Handle, bytes, offset);
    }

    /// <summary>Makes every superseded mark written so far durable.</summary>
    private void SyncEarlierMarks()
    {
        JournalSegment[] dirty;
        lock (_lock)
        {
            dirty = [.. _segments.Where(s => s.MarksDirty)];
            foreach (var segment in dirty)
            {
                segment.MarksDirty = false;
            }
        }

        foreach (var segment in dirty)
        {
            segment.Sync.Sync();
        }
    }

    private static void WriteState(JournalEntry entry, byte state) =>
        RandomAccess.Write(entry.Segment.Handle, [state], entry.Offset + JournalRecord.StateOffset);

    private void Release(JournalSegment segment, bool reader)
    {
        lock (_lock)
        {
            if (reader)
            {
                segment.Readers--;
            }
            else
            {
                segment.Live--;
            }

            FreeIfDone(segment);
        }
    }

    /// <summary>Under the lock: a sealed segment with nothing live and no reader is cleared and becomes a spare.</summary>
    private void FreeIfDone(JournalSegment segment)
    {
        if (!segment.Sealed || segment.Live > 0 || segment.Readers > 0 || !_segments.Remove(segment))
        {
            return;
        }

        // Every mark in it is made void with the header, so nothing here can come back after a crash.
        segment.Clear();
        AddSpare(segment);
    }

    private void AddSpare(JournalSegment segment)
    {
        if (segment.Capacity == _segmentBytes && _spares.Count < SparesKept)
        {
            _spares.Push(segment);
            return;
        }

        segment.Dispose();
        File.Delete(segment.Path);
    }
}
