// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Backend.WriteBack;

/// <summary>What a start finds in the spool: the journal's live records, and the files of the older per-file format.</summary>
public sealed partial class WriteBackQueue
{
    /// <summary>
    /// Keeps, per key, the live record with the highest sequence and queues it; the older ones are retired. Dead letters
    /// stay dead letters.
    /// </summary>
    private void Recover(IReadOnlyList<JournalEntry> live)
    {
        var newest = new Dictionary<(string, string), JournalEntry>();
        foreach (var written in live)
        {
            if (written.IsDeadLetter)
            {
                _deadLetters.Add(new Entry(written, Recovered: true));
                Interlocked.Add(ref _deadLetterBytes, written.Record.Length);
                continue;
            }

            var id = (written.Record.Bucket, written.Record.Key);
            if (newest.TryGetValue(id, out var other))
            {
                var (keep, drop) = other.Record.Sequence > written.Record.Sequence ? (other, written) : (written, other);
                _journal.RetireSuperseded(drop);
                newest[id] = keep;
            }
            else
            {
                newest[id] = written;
            }
        }

        foreach (var written in newest.Values.OrderBy(e => e.Record.Sequence))
        {
            Interlocked.Add(ref _pendingBytes, written.Record.Length);
            Enqueue(new Entry(written, Recovered: true));
        }

        if (newest.Count > 0)
        {
            Log($"write-back: recovered {newest.Count} acknowledged write(s) from the spool; uploading");
        }

        if (_deadLetters.Count > 0)
        {
            Log($"write-back: {_deadLetters.Count} dead letter(s) in the spool, not uploaded (nexus spool ls; nexus spool redrive or discard)");
        }
    }

    /// <summary>
    /// Spool files of the per-file format an older node left: whole ones are appended to the journal (in their order)
    /// and then removed; a temp file was never acknowledged; a damaged final-named file is left for the operator.
    /// </summary>
    private List<JournalEntry> MoveSpoolFilesIntoJournal()
    {
        var moved = new List<(SpoolRecord Record, string Path)>();
        foreach (var path in Directory.EnumerateFiles(_directory))
        {
            var name = Path.GetFileName(path);
            if (name.StartsWith(SpoolFile.TempPrefix, StringComparison.Ordinal))
            {
                File.Delete(path);
            }
            else if (name.EndsWith(SpoolFile.Extension, StringComparison.Ordinal))
            {
                if (SpoolFile.TryRead(path, out var problem) is { } record)
                {
                    moved.Add((record, path));
                }
                else
                {
                    Log($"write-back: ignoring {name}: {problem}");
                }
            }
        }

        var entries = new List<JournalEntry>();
        foreach (var (record, path) in moved.OrderBy(m => m.Record.Sequence))
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16) { Position = SpoolFile.BodyOffset };
            var meta = new JournalMeta(record.Bucket, record.Key, record.ContentType, record.Metadata);

            // Start-up, before anything is served: nothing waits on this thread.
            entries.Add(_journal.AppendAsync(meta, file, record.Length, CancellationToken.None).GetAwaiter().GetResult());
        }

        foreach (var (_, path) in moved)
        {
            SpoolFile.Delete(path);
        }

        return entries;
    }
}
