// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Amazon.S3;

namespace Nexus.Backend.WriteBack;

/// <summary>
/// Dead letters: acknowledged writes storage refuses for good because their bucket was deleted behind the node's back
/// (docs/writeback.md, "Missing buckets"). Marked in the journal, out of the retry loop, until an operator re-drives or
/// discards them.
/// </summary>
public sealed partial class WriteBackQueue
{
    /// <summary>The dead letters: acknowledged writes storage refused for good (their bucket is gone), oldest first.</summary>
    public IReadOnlyList<SpoolRecord> DeadLetters
    {
        get
        {
            lock (_lock)
            {
                return [.. _deadLetters.Select(e => e.Record).OrderBy(r => r.Sequence)];
            }
        }
    }

    /// <summary>
    /// Makes the dead letters (of <paramref name="bucket"/>, or all) live again and queues them; returns how many. Each is
    /// uploaded once more as it was acknowledged (a write of the key that landed since is overwritten, unless a newer one
    /// is still pending: then the newer wins); if its bucket is still missing it becomes a dead letter again.
    /// </summary>
    public int Redrive(string? bucket) => TakeDeadLetters(bucket, entry =>
    {
        _journal.Redrive(entry.Written);
        Interlocked.Add(ref _pendingBytes, entry.Record.Length);

        // As after a restart: if storage has these bytes already, the record is only retired.
        Enqueue(entry with { Recovered = true });
    });

    /// <summary>Retires the dead letters (of <paramref name="bucket"/>, or all) for good, freeing their place; returns how many.</summary>
    public int Discard(string? bucket) => TakeDeadLetters(bucket, entry =>
    {
        _journal.Discard(entry.Written);
        Log($"write-back: discarded the dead letter {Describe(entry.Record)}");
    });

    private static string Describe(SpoolRecord record) =>
        $"{record.Bucket}/{record.Key} ({record.Length} bytes, acknowledged {record.AcknowledgedAt:O})";

    /// <summary>
    /// Takes the dead letters of <paramref name="bucket"/> (or all) out of the list at once (so two callers never act on
    /// one) and hands each to <paramref name="act"/>, which changes the journal first: when it fails, that one and those
    /// not reached yet go back to the list, as they still are on disk.
    /// </summary>
    private int TakeDeadLetters(string? bucket, Action<Entry> act)
    {
        Entry[] chosen;
        lock (_lock)
        {
            chosen = [.. _deadLetters.Where(e => bucket is null || e.Record.Bucket == bucket)];
            _deadLetters.RemoveAll(chosen.Contains);
        }

        for (var i = 0; i < chosen.Length; i++)
        {
            try
            {
                act(chosen[i]);
            }
            catch
            {
                lock (_lock)
                {
                    _deadLetters.AddRange(chosen[i..]);
                }

                throw;
            }

            Interlocked.Add(ref _deadLetterBytes, -chosen[i].Record.Length);
        }

        return chosen.Length;
    }

    /// <summary>
    /// True when <paramref name="failure"/> says the bucket is missing and storage confirms it (a HEAD of the bucket, the
    /// bucket forgotten first so that the next put to it is checked again): the write is marked a dead letter durably.
    /// Any other answer (the bucket exists again, storage cannot say) leaves it to the retries.
    /// </summary>
    private async Task<bool> DeadLetterIfBucketGoneAsync(Entry entry, Exception failure, CancellationToken ct)
    {
        var noSuchBucket = failure switch
        {
            AmazonS3Exception e => e.ErrorCode == "NoSuchBucket",

            // The direct path's PutObject: a 404 to a PUT of an object can only mean the bucket.
            HttpRequestException e => e.StatusCode == System.Net.HttpStatusCode.NotFound,
            _ => false,
        };
        var bucket = entry.Record.Bucket;
        if (!noSuchBucket)
        {
            return false;
        }

        _buckets.Forget(bucket);
        if (!await _buckets.IsMissingAsync(bucket, ct).ConfigureAwait(false))
        {
            return false;
        }

        try
        {
            _journal.MarkDeadLetter(entry.Written);
        }
        catch (IOException e)
        {
            Log($"write-back: could not mark {Describe(entry.Record)} a dead letter ({e.Message}); retrying it");
            return false;
        }

        Log($"write-back: dead letter {Describe(entry.Record)}: storage says bucket {bucket} does not exist; kept in the spool, not retried (nexus spool redrive or discard)");
        return true;
    }
}
