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
/// started after its footer was written, and puts that finish while syncs run share the next, which may start before
/// they end (group commit with up to <see cref="JournalSegment.SyncSlots"/> syncs in flight, see <see cref="GroupSync"/>). So an acknowledged record and every header before it are on disk, and a scan that stops
/// at the first torn header loses nothing acknowledged; a record with a whole header but no valid footer or body is a
/// put that never finished (skipped).
/// Retiring a record (uploaded or superseded) rewrites one state byte in its header. An uploaded record's mark is made
/// durable only after every earlier mark on a record of its key, so a restart never finds an older write of a key live
/// while a newer one is retired. A sealed segment whose records are all retired is cleared and recycled (or deleted
/// beyond two spares).
/// </summary>
public sealed partial class SpoolJournal : IDisposable
{
    public const string Extension = ".nxwj";
    public const long DefaultSegmentBytes = 16L << 20;

    private const int SparesKept = 2;
    private const int CopyBufferBytes = 1 << 20;

    /// <summary>
    /// How long a state mark may wait for an append's group sync to make it durable before the journal syncs it itself:
    /// the longest a power loss can bring an uploaded write back for the next start to check (HEAD) again.
    /// </summary>
    private static readonly TimeSpan s_markSyncDelay = TimeSpan.FromSeconds(1);

    private readonly string _directory;
    private readonly long _segmentBytes;
    private readonly Lock _lock = new();
    private readonly List<JournalSegment> _segments = [];
    private readonly Stack<JournalSegment> _spares = new();
    private readonly Timer _markSync;
    private readonly TimeSpan _markSyncDelay;
    private readonly Action<string>? _beforeSync;
    private readonly Action<string, long>? _beforeWrite;

    // Marks not yet known durable, by their record's bucket and key (see RetireAsync), under the lock.
    private readonly Dictionary<(string Bucket, string Key), List<KeyMark>> _keyMarks = [];
    private JournalSegment? _active;
    private bool _markSyncArmed;
    private long _sequence;
    private long _generation;
    private int _fileNumber;

    private SpoolJournal(string directory, long segmentBytes, Action<string>? beforeSync, TimeSpan markSyncDelay, Action<string, long>? beforeWrite)
    {
        _directory = directory;
        _segmentBytes = segmentBytes;
        _beforeSync = beforeSync;
        _beforeWrite = beforeWrite;
        _markSyncDelay = markSyncDelay;
        _markSync = new Timer(_ => SyncMarksLate());
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
    public static (SpoolJournal Journal, IReadOnlyList<JournalEntry> Live) Open(string directory, long segmentBytes = DefaultSegmentBytes) =>
        Open(directory, segmentBytes, beforeSync: null, s_markSyncDelay);

    /// <summary>
    /// As <see cref="Open(string, long)"/>; <paramref name="beforeSync"/> is told each segment's path just before every
    /// fdatasync of it (tests copy the file there: what a power loss would keep), <paramref name="beforeWrite"/> a
    /// segment's path and offset before each write of a record or mark (tests throw there: a write the disk refuses),
    /// and marks wait at most <paramref name="markSyncDelay"/> for an append's sync.
    /// </summary>
    internal static (SpoolJournal Journal, IReadOnlyList<JournalEntry> Live) Open(string directory, long segmentBytes, Action<string>? beforeSync, TimeSpan markSyncDelay, Action<string, long>? beforeWrite = null)
    {
        var journal = new SpoolJournal(directory, segmentBytes, beforeSync, markSyncDelay, beforeWrite);
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
            using var segment = new JournalSegment(path, handle, RandomAccess.GetLength(handle), beforeSync: null, syncSlots: 1);
            if (JournalSegment.ReadGeneration(handle) is { } generation)
            {
                segment.Generation = generation;
                found.AddRange(ScanRecords(segment, _ => { }).Where(e => e.IsDeadLetter == deadLetters).Select(e => e.Record));
            }
        }

        return found;
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
        try
        {
            // A clean stop leaves no uploaded write for the next start to check again.
            SyncMarks();
        }
        catch (IOException)
        {
            // Those records stay live; the next start checks them with a HEAD.
        }

        _markSync.Dispose();
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
            var segment = new JournalSegment(path, handle, RandomAccess.GetLength(handle), _beforeSync, beforeWrite: _beforeWrite);
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

    /// <summary>
    /// Sets <paramref name="size"/> bytes aside for a record in the active segment, making the next segment if it has no
    /// room, and returns that segment (its place is reserved later, <see cref="ReserveLocked"/>, or the room given back,
    /// <see cref="GiveBack"/>); throws <see cref="SpoolFullException"/>, nothing written, when the next cannot be made (its
    /// disk is full).
    /// </summary>
    private JournalSegment MakeRoom(long size)
    {
        try
        {
            lock (_lock)
            {
                var segment = ActiveFor(size);
                segment.Promised += size;
                segment.Live++;
                return segment;
            }
        }
        catch (IOException e)
        {
            throw new SpoolFullException($"the spool has no room for its next segment: {e.Message}", e);
        }
    }

    /// <summary>The segment a record of <paramref name="size"/> bytes goes to; seals the active one when it is full.</summary>
    private JournalSegment ActiveFor(long size)
    {
        if (_active is { } active && active.Position + active.Promised + size <= active.Capacity)
        {
            return active;
        }

        if (_active is not null)
        {
            _active.Sealed = true;
            FreeIfDone(_active);

            // No active segment until the next is made: a failed make (a full disk) must not seal and free this one twice.
            _active = null;
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
            try
            {
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
            catch
            {
                // A disk without room for it: nothing is in it yet, and a restart must not find half a segment.
                handle.Dispose();
                File.Delete(path);
                throw;
            }

            segment = new JournalSegment(path, handle, capacity, _beforeSync, beforeWrite: _beforeWrite);
        }

        segment.Activate(++_generation);
        _segments.Add(segment);
        _active = segment;
        return segment;
    }

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
