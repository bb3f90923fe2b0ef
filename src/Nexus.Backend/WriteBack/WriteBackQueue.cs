// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Security.Cryptography;
using Amazon.S3;
using Nexus.Backend.Storage;

namespace Nexus.Backend.WriteBack;

/// <summary>Write-back figures (for status and metrics).</summary>
public sealed record WriteBackStats(int Pending, long PendingBytes, int Failing, long Uploaded, long Retries, long Superseded, long SyncFallbacks, TimeSpan OldestPending, int DeadLetters = 0, long DeadLetterBytes = 0);

/// <summary>
/// The node's acknowledged-but-not-yet-uploaded writes. A write is appended durably to the spool journal
/// (<see cref="SpoolJournal"/>, group-committed with the puts running beside it) before it is acknowledged; uploads then run in the background with bounded concurrency and retries. Per key the last acknowledged
/// write wins: a newer write supersedes an older one still waiting, and never is an older write uploaded after a newer
/// one. Readers ask <see cref="Find"/> first (read-your-writes for every function of the node). After a crash, the next
/// start uploads every whole live journal record, newest per key, once in effect: a record whose bytes the store already
/// has (same MD5 ETag) is only retired. A write storage refuses because its bucket is gone (confirmed by a HEAD of the
/// bucket) becomes a dead letter: kept in the journal, counted and logged, not retried, until an operator re-drives or
/// discards it (<see cref="Redrive"/>, <see cref="Discard"/>).
/// </summary>
public sealed partial class WriteBackQueue : IAsyncDisposable
{
    private static readonly TimeSpan s_maxBackoff = TimeSpan.FromSeconds(30);

    private readonly IAmazonS3 _s3;
    private readonly DirectS3 _direct;
    private readonly KnownBuckets _buckets;
    private readonly bool _chunkedUploads;
    private readonly string _directory;
    private readonly SpoolJournal _journal;
    private readonly long _maxSpoolBytes;
    private readonly Action<string, string> _changed;
    private readonly Action<string> _log;
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Bucket, string Key), KeyState> _keys = [];
    private readonly List<Entry> _deadLetters = [];
    private readonly System.Threading.Channels.Channel<(string Bucket, string Key)> _ready =
        System.Threading.Channels.Channel.CreateUnbounded<(string, string)>();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _workers;
    private long _pendingBytes;

    // 1 once "no room" was logged, until a write is spooled again: said once per spell, not per put.
    private int _roomLogged;
    private long _deadLetterBytes;
    private long _uploaded;
    private long _retries;
    private long _superseded;
    private long _fallbacks;

    /// <summary>
    /// Opens the spool in <paramref name="directory"/> (created if absent), recovers what it holds and starts uploading.
    /// <paramref name="beforeSync"/> and <paramref name="markSyncDelay"/> are for tests (see <see cref="SpoolJournal"/>).
    /// </summary>
    internal WriteBackQueue(IAmazonS3 s3, DirectS3 direct, KnownBuckets buckets, string directory, long maxSpoolBytes, int uploaders, Action<string, string> changed, Action<string> log, bool chunkedUploads = true, Action<string>? beforeSync = null, TimeSpan? markSyncDelay = null)
    {
        _s3 = s3;
        _direct = direct;
        _buckets = buckets;
        _chunkedUploads = chunkedUploads;
        _directory = directory;
        _maxSpoolBytes = maxSpoolBytes;
        _changed = changed;
        _log = log;
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("the write-back spool runs on Linux only");
        }

        // Function outputs wait here in plain: only the node (root) may read them.
        Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        (_journal, var live) = beforeSync is null && markSyncDelay is null
            ? SpoolJournal.Open(directory)
            : SpoolJournal.Open(directory, SpoolJournal.DefaultSegmentBytes, beforeSync, markSyncDelay ?? TimeSpan.FromSeconds(1));
        Recover([.. live, .. MoveSpoolFilesIntoJournal()]);
        _workers = [.. Enumerable.Range(0, uploaders).Select(_ => Task.Run(UploadLoopAsync))];
    }

    public WriteBackStats Stats
    {
        get
        {
            lock (_lock)
            {
                var pending = _keys.Values.Sum(k => (k.Waiting is null ? 0 : 1) + (k.Uploading is null ? 0 : 1));
                var oldest = _keys.Values.SelectMany(k => new[] { k.Uploading, k.Waiting }).OfType<Entry>().Select(e => e.Record.AcknowledgedAt).DefaultIfEmpty(DateTimeOffset.UtcNow).Min();
                return new WriteBackStats(
                    pending,
                    Interlocked.Read(ref _pendingBytes),
                    _keys.Values.Count(k => k.Failures > 0),
                    Interlocked.Read(ref _uploaded),
                    Interlocked.Read(ref _retries),
                    Interlocked.Read(ref _superseded),
                    Interlocked.Read(ref _fallbacks),
                    DateTimeOffset.UtcNow - oldest,
                    _deadLetters.Count,
                    Interlocked.Read(ref _deadLetterBytes));
            }
        }
    }

    /// <summary>
    /// Spools one write durably and queues its upload; returns its record (ETag) once it is safe to acknowledge, or null
    /// when the spool is full (the caller writes synchronously instead). Throws <see cref="ChecksumMismatchException"/>,
    /// having acknowledged nothing, when the body does not match the checksum its writer sent.
    /// </summary>
    public async Task<SpoolRecord?> AcceptAsync(JournalMeta meta, Stream body, long length, CancellationToken cancellationToken)
    {
        // Dead letters count too: they stay on disk until an operator acts.
        if (Interlocked.Add(ref _pendingBytes, length) + Interlocked.Read(ref _deadLetterBytes) > _maxSpoolBytes)
        {
            Interlocked.Add(ref _pendingBytes, -length);
            Interlocked.Increment(ref _fallbacks);
            return null;
        }

        JournalEntry written;
        try
        {
            written = await _journal.AppendAsync(meta, body, length, cancellationToken).ConfigureAwait(false);
        }
        catch (SpoolFullException e)
        {
            // A spool whose disk is full takes no more: the put goes to storage (its body still unread), as past the cap.
            Interlocked.Add(ref _pendingBytes, -length);
            Interlocked.Increment(ref _fallbacks);
            if (Interlocked.Exchange(ref _roomLogged, 1) == 0)
            {
                Log($"write-back: {e.Message}; puts go to storage synchronously until it has");
            }

            return null;
        }
        catch
        {
            Interlocked.Add(ref _pendingBytes, -length);
            throw;
        }

        if (Volatile.Read(ref _roomLogged) != 0)
        {
            Volatile.Write(ref _roomLogged, 0);
        }

        Enqueue(new Entry(written, Recovered: false));
        _changed(meta.Bucket, meta.Key);
        return written.Record;
    }

    /// <summary>
    /// The newest acknowledged write of the key that storage may not have yet, or null; with <paramref name="withBody"/>
    /// also its bytes (the caller disposes the stream), readable even if the write is uploaded meanwhile.
    /// </summary>
    public (SpoolRecord Record, Stream? Body)? Find(string bucket, string key, bool withBody)
    {
        lock (_lock)
        {
            // Opened under the lock: while the write is pending its journal segment cannot be recycled.
            return _keys.TryGetValue((bucket, key), out var state) && (state.Waiting ?? state.Uploading) is { } e
                ? (e.Record, withBody ? _journal.OpenBody(e.Written) : null)
                : null;
        }
    }

    /// <summary>
    /// Completes when no write of the key is pending (so that a request to the store sees it) and the retirements of
    /// those uploaded are durable (so that a restart cannot upload one again over what the caller does next).
    /// </summary>
    public Task FlushAsync(string bucket, string key, CancellationToken cancellationToken)
    {
        Task? pending;
        lock (_lock)
        {
            pending = _keys.TryGetValue((bucket, key), out var state) ? state.Done.Task : null;
        }

        return SettledAsync(pending, cancellationToken);
    }

    /// <summary>Completes when no write of a key under <paramref name="prefix"/> in <paramref name="bucket"/> is pending, as <see cref="FlushAsync"/>.</summary>
    public Task FlushPrefixAsync(string bucket, string prefix, CancellationToken cancellationToken)
    {
        Task? pending;
        lock (_lock)
        {
            var waits = _keys.Where(k => k.Key.Bucket == bucket && k.Key.Key.StartsWith(prefix, StringComparison.Ordinal)).Select(k => k.Value.Done.Task).ToArray();
            pending = waits.Length == 0 ? null : Task.WhenAll(waits);
        }

        return SettledAsync(pending, cancellationToken);
    }

    /// <summary>Waits until every pending write was uploaded or <paramref name="timeout"/> passed; returns how many remain.</summary>
    public async Task<int> DrainAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        Task all;
        lock (_lock)
        {
            all = Task.WhenAll(_keys.Values.Select(k => k.Done.Task));
        }

        try
        {
            await all.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // What is left stays in the spool for the next start.
        }

        await SyncRetirementsAsync().ConfigureAwait(false);
        return Stats.Pending;
    }

    public async ValueTask DisposeAsync()
    {
        _ready.Writer.TryComplete();
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_workers).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Uploads cut short stay in the spool.
        }

        _stop.Dispose();
        _journal.Dispose();
    }

    private void Enqueue(Entry entry)
    {
        var schedule = false;
        lock (_lock)
        {
            var id = (entry.Record.Bucket, entry.Record.Key);
            if (!_keys.TryGetValue(id, out var state))
            {
                _keys[id] = state = new KeyState();
            }

            if ((state.Waiting ?? state.Uploading) is { } newer && newer.Record.Sequence > entry.Record.Sequence)
            {
                // Two writes of the key overlapped and the one with the higher sequence finished spooling first: the
                // higher sequence wins here as it does in recovery, so reads, uploads and a restart all agree.
                RetireSuperseded(entry);
            }
            else
            {
                var superseded = state.Waiting;
                state.Waiting = entry;
                schedule = state.Uploading is null && superseded is null;
                if (superseded is not null)
                {
                    RetireSuperseded(superseded);
                }
            }
        }

        if (schedule)
        {
            _ready.Writer.TryWrite((entry.Record.Bucket, entry.Record.Key));
        }
    }

    /// <summary>
    /// After <paramref name="pending"/> (the keys' uploads), makes every retirement mark written so far durable. An
    /// upload's mark is only written when its key settles and becomes durable with the next append's group sync; a caller
    /// that acts on the key next (a delete, a sync put, a listing) must not have a restart bring the upload back after it.
    /// </summary>
    private async Task SettledAsync(Task? pending, CancellationToken cancellationToken)
    {
        if (pending is not null)
        {
            await pending.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        await SyncRetirementsAsync().ConfigureAwait(false);
    }

    private async Task SyncRetirementsAsync()
    {
        try
        {
            await _journal.SyncMarksAsync().ConfigureAwait(false);
        }
        catch (IOException e)
        {
            // As before the marks were deferred: the store has the bytes; left live, a record is only checked (HEAD,
            // same ETag) again at the next start.
            Log($"write-back: could not make the journal's retirements durable: {e.Message}");
        }
    }

    /// <summary>Retires an uploaded write (its mark made durable after every earlier one on its key, see <see cref="SpoolJournal.RetireAsync"/>).</summary>
    private async Task RetireUploadedAsync(Entry entry)
    {
        try
        {
            await _journal.RetireAsync(entry.Written).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            // The store has the bytes; left live, the record is only checked (HEAD, same ETag) again at the next start.
            Log($"write-back: could not retire {entry.Record.Bucket}/{entry.Record.Key} in the journal after its upload: {e.Message}");
        }

        Interlocked.Add(ref _pendingBytes, -entry.Record.Length);
    }

    /// <summary>Called under the lock, before the newer write can be picked for upload, so the older one's mark is written first.</summary>
    private void RetireSuperseded(Entry entry)
    {
        _journal.RetireSuperseded(entry.Written);
        Interlocked.Add(ref _pendingBytes, -entry.Record.Length);
        Interlocked.Increment(ref _superseded);
    }

    private async Task UploadLoopAsync()
    {
        var ct = _stop.Token;
        await foreach (var id in _ready.Reader.ReadAllAsync(ct).ConfigureAwait(false))
        {
            Entry? entry;
            KeyState? state;
            lock (_lock)
            {
                if (!_keys.TryGetValue(id, out state) || state.Uploading is not null || state.Waiting is null)
                {
                    continue;
                }

                entry = state.Waiting;
                state.Waiting = null;
                state.Uploading = entry;
            }

            Exception? failure = null;
            try
            {
                await UploadAsync(entry, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                failure = e;
            }

            if (failure is null)
            {
                // Its mark is written before the key counts as settled, and made durable before a delete or sync write
                // that waited for this upload goes on (SettledAsync): a restart cannot upload it again over that.
                await RetireUploadedAsync(entry).ConfigureAwait(false);
            }

            var dead = false;
            try
            {
                dead = failure is not null && await DeadLetterIfBucketGoneAsync(entry, failure, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }

            TimeSpan? retryIn = null;
            var failures = 0;
            lock (_lock)
            {
                state.Uploading = null;
                if (failure is null)
                {
                    // Counted as the key leaves the pending set, under the lock Stats reads in: a snapshot never shows the
                    // write in neither (pending + uploaded + superseded + dead letters accounts for every acknowledged write).
                    Interlocked.Increment(ref _uploaded);
                    state.Failures = 0;
                }
                else if (dead && state.Waiting is null)
                {
                    // Out of the retry loop; the key's waiters go on to storage, which answers for the missing bucket.
                    _deadLetters.Add(entry);
                    Interlocked.Add(ref _pendingBytes, -entry.Record.Length);
                    Interlocked.Add(ref _deadLetterBytes, entry.Record.Length);
                }
                else if (state.Waiting is null)
                {
                    // Still the newest write of the key: it goes again after a pause.
                    state.Waiting = entry;
                    failures = ++state.Failures;
                    retryIn = Backoff(failures);
                }
                else
                {
                    // A newer write of the key arrived meanwhile; it replaces this one (dead letter or not), which is not retried.
                    RetireSuperseded(entry);
                }

                if (state.Waiting is null)
                {
                    _keys.Remove(id);
                    state.Done.TrySetResult();
                }
                else if (retryIn is null)
                {
                    _ready.Writer.TryWrite(id);
                }
            }

            if (failure is null)
            {
                _changed(id.Bucket, id.Key);
            }
            else if (retryIn is not null)
            {
                Interlocked.Increment(ref _retries);

                // Said at a key's 1st, 2nd, 4th, 8th ... failure: a storage outage with thousands of pending keys logged a
                // line per retry of each (1.2 MB in 20 s, an operator's review); Stats counts every retry.
                if (int.IsPow2(failures))
                {
                    Log($"write-back: upload of {id.Bucket}/{id.Key} failed ({failure.GetType().Name}: {failure.Message}); failure {failures} of this write, retrying in {retryIn.Value.TotalSeconds:0.0} s");
                }

                _ = RetryLaterAsync(id, retryIn.Value, ct);
            }
        }
    }

    private async Task RetryLaterAsync((string Bucket, string Key) id, TimeSpan delay, CancellationToken ct)
    {
        try
        {
            await Task.Delay(delay, ct).ConfigureAwait(false);
            _ready.Writer.TryWrite(id);
        }
        catch (OperationCanceledException)
        {
            // Shutting down: the entry stays in the spool.
        }
    }

    private static TimeSpan Backoff(int failures)
    {
        var ms = Math.Min(s_maxBackoff.TotalMilliseconds, 100 * Math.Pow(2, Math.Min(failures - 1, 20)));
        return TimeSpan.FromMilliseconds(ms * (0.75 + (RandomNumberGenerator.GetInt32(500) / 1000.0)));
    }

    private sealed record Entry(JournalEntry Written, bool Recovered)
    {
        public SpoolRecord Record => Written.Record;
    }

    /// <summary>
    /// A line to the node's log that never fails the caller: a log on a full disk threw out of the upload loop once,
    /// and the uploaders stopped for good (an operator's review).
    /// </summary>
    private void Log(string line)
    {
        try
        {
            _log(line);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // The line is lost; the work goes on.
        }
    }

    private sealed class KeyState
    {
        /// <summary>The newest acknowledged write, waiting for its upload.</summary>
        public Entry? Waiting { get; set; }

        /// <summary>The write whose upload runs now.</summary>
        public Entry? Uploading { get; set; }

        public int Failures { get; set; }

        /// <summary>Completes when the key has nothing pending any more.</summary>
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
