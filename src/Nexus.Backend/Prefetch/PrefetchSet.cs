// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Collections.Concurrent;
using Nexus.Backend.Storage;
using Nexus.Channel.Services;
using Nexus.Functions;

namespace Nexus.Backend.Prefetch;

/// <summary>
/// The objects prefetched for one instance's current invocation. Each lands in the instance's own response slots, laid
/// out exactly as the GetObject response the function will ask for (header, then body, slot by slot), so a hit only
/// lends those slots: no copy and no storage round trip. Unused prefetches are dropped when the invocation ends.
/// Slots are held by at most one owner at a time: the fetch, then either the sandbox (served) or the pool (dropped).
/// </summary>
internal sealed class PrefetchSet(StorageService service)
{
    private readonly ConcurrentDictionary<(string Bucket, string Key), Entry> _entries = new();
    private readonly NexusBackend _backend = service.Backend;
    private readonly ChannelSession _session = service.Session;
    private readonly Lock _generationLock = new();
    private int _heldSlots;

    // Advanced by every Begin and DropAll: hints found for an invocation that is over start nothing.
    private int _generation;

    private PrefetchStats Stats => _backend.PrefetchStats;

    /// <summary>
    /// Drops what an earlier invocation left and starts fetching what this one's event names: at once when its hints
    /// are already found, else on the thread that finds them (unless the invocation has ended by then).
    /// </summary>
    public void Begin(FunctionManifest manifest, PrefetchHints hints)
    {
        DropAll();
        if (!manifest.Prefetch)
        {
            return;
        }

        var generation = Volatile.Read(ref _generation);
        if (hints.Found.IsCompleted)
        {
            StartFetches(hints.Found, generation);
            return;
        }

        _ = hints.Found.ContinueWith(t => StartFetches(t, generation), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private void StartFetches(Task<(IReadOnlyList<(string Bucket, string Key)> Allowed, int Denied)> found, int generation)
    {
        if (!found.IsCompletedSuccessfully)
        {
            return;
        }

        var (allowed, denied) = found.Result;
        Interlocked.Add(ref Stats._hints, allowed.Count);
        Interlocked.Add(ref Stats._denied, denied);
        lock (_generationLock)
        {
            // The invocation ended (or the next began) before its hints were found, or the channel closed (its close
            // drops every prefetch under this lock): nothing to fetch for it now.
            if (generation != _generation || _session.CloseReason is not null)
            {
                return;
            }

            foreach (var (bucket, key) in allowed)
            {
                var entry = new Entry(bucket, key);
                entry.Ready = FetchAsync(entry);

                // The fetch writes into the instance's slots: the session's disposal waits for it before the region goes.
                _session.Hold(entry.Ready);
                _entries[(bucket, key)] = entry;
            }
        }
    }

    /// <summary>The object changed in storage: a prefetched copy (also one still arriving) must not be served.</summary>
    public void MarkStale(string bucket, string key)
    {
        if (_entries.TryGetValue((bucket, key), out var entry))
        {
            entry.Stale = true;
        }
    }

    /// <summary>Serves a plain GetObject from its prefetch; false when there is none usable (the caller asks storage).</summary>
    public async Task<bool> TryServeAsync(ChannelRequest request, string bucket, string key, bool conditional, CancellationToken ct)
    {
        if (!_entries.TryRemove((bucket, key), out var entry))
        {
            if (service.Manifest.Prefetch)
            {
                Interlocked.Increment(ref Stats._misses);
            }

            return false;
        }

        var filled = await entry.Ready.WaitAsync(ct).ConfigureAwait(false);
        if (filled is null || !entry.TryClaim())
        {
            Interlocked.Increment(ref Stats._misses);
            return false;
        }

        var usable = !entry.Stale && !conditional && (!_backend.Options.RevalidatePrefetches || await RevalidateAsync(bucket, key, filled, ct).ConfigureAwait(false));
        return await AnswerAsync(request, entry, filled, usable, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Whether a GetObject could be answered at once from a copy already in the slots: something is prefetched and no
    /// copy needs a store round trip before it answers (revalidation off).
    /// </summary>
    public bool MayAnswerAtOnce => !_backend.Options.RevalidatePrefetches && !_entries.IsEmpty;

    /// <summary>
    /// Serves a plain GetObject (no range, no condition) from a copy that is complete and not stale, on the calling
    /// thread; false, having changed nothing, when there is no such copy (the caller goes the usual way).
    /// </summary>
    public Task<bool> TryAnswerAtOnceAsync(ChannelRequest request, string bucket, string key, CancellationToken ct)
    {
        if (!MayAnswerAtOnce
            || !_entries.TryGetValue((bucket, key), out var entry)
            || entry.Stale
            || !entry.Ready.IsCompletedSuccessfully
            || entry.Ready.Result is not { } filled
            || !_entries.TryRemove(new KeyValuePair<(string, string), Entry>((bucket, key), entry)))
        {
            return Task.FromResult(false);
        }

        if (!entry.TryClaim())
        {
            Interlocked.Increment(ref Stats._misses);
            return Task.FromResult(false);
        }

        Interlocked.Increment(ref Stats._hitsAtOnce);
        return AnswerAsync(request, entry, filled, usable: true, ct);
    }

    /// <summary>Answers the read with the copy when <paramref name="usable"/>; else counts the miss and gives its slots back.</summary>
    private async Task<bool> AnswerAsync(ChannelRequest request, Entry entry, Filled filled, bool usable, CancellationToken ct)
    {
        if (!usable)
        {
            if (entry.Stale)
            {
                Interlocked.Increment(ref Stats._stale);
            }

            _backend.InputCache?.Remove(entry.Bucket, entry.Key);
            Interlocked.Increment(ref Stats._misses);
            Release(filled);
            return false;
        }

        Interlocked.Add(ref _heldSlots, -filled.Chunks.Length);
        Interlocked.Increment(ref Stats._hits);
        await _session.SendPrefilledAsync(request, filled.Status, filled.HeaderLength, filled.BodyLength, filled.Chunks, ct).ConfigureAwait(false);
        return true;
    }

    /// <summary>Returns the slots of every prefetch not served (in-flight ones when their fetch ends).</summary>
    public void DropAll()
    {
        lock (_generationLock)
        {
            _generation++;
        }

        foreach (var id in _entries.Keys)
        {
            if (_entries.TryRemove(id, out var entry))
            {
                entry.Cancel.Cancel();
                _ = entry.Ready.ContinueWith(
                    t =>
                    {
                        if (t.IsCompletedSuccessfully && t.Result is { } filled && entry.TryClaim())
                        {
                            Release(filled);
                        }

                        entry.Cancel.Dispose();
                    },
                    CancellationToken.None,
                    TaskContinuationOptions.ExecuteSynchronously,
                    TaskScheduler.Default);
            }
        }
    }

    private void Release(Filled filled)
    {
        Interlocked.Add(ref Stats._wastedBytes, filled.BodyLength);
        Interlocked.Add(ref _heldSlots, -filled.Chunks.Length);
        _session.ReturnSlots(filled.Chunks.Select(c => c.Slot));
    }

    /// <summary>
    /// True when storage still has the body the copy holds (a HEAD conditional on its ETag answered 200): the copy then
    /// answers with that HEAD's headers, the object's as they are now (metadata replaced in place keeps the ETag), written
    /// over the copy's header when they take the same bytes; otherwise the read goes to storage.
    /// </summary>
    private async Task<bool> RevalidateAsync(string bucket, string key, Filled filled, CancellationToken ct)
    {
        if (filled.ETag is null)
        {
            return false;
        }

        try
        {
            using var response = await _backend.Direct.HeadIfMatchAsync(bucket, key, filled.ETag, ct).ConfigureAwait(false);
            if (response.StatusCode != System.Net.HttpStatusCode.OK || response.Content.Headers.ContentLength != filled.BodyLength)
            {
                return false;
            }

            var header = ObjectReads.ObjectMetaJson(response);
            if (header.Length != filled.HeaderLength)
            {
                return false;
            }

            CopyInto(filled.Chunks, header, []);
            return true;
        }
        catch (HttpRequestException)
        {
            // Not known to be current: the function's read goes to the store (through the SDK, with its retries).
            return false;
        }
    }

    private async Task<Filled?> FetchAsync(Entry entry)
    {
        await Task.Yield();
        if (_backend.InputCache?.TryGet(entry.Bucket, entry.Key) is { } cached)
        {
            return FromCache(cached);
        }

        var ct = entry.Cancel.Token;
        var options = _backend.Options;
        var layout = _session.Channel.Layout;
        int[]? slots = null;
        try
        {
            await _backend.PrefetchBudget.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                // Always with the object's checksums (the store keeps them): they check the body, and the copy may answer
                // a GetObject with ChecksumMode.
                using var response = await _backend.Direct.GetAsync(entry.Bucket, entry.Key, ct).ConfigureAwait(false);
                if (response.StatusCode != System.Net.HttpStatusCode.OK || response.Content.Headers.ContentLength is not { } bodyLength)
                {
                    Interlocked.Increment(ref Stats._skipped);
                    return null;
                }

                var header = ObjectReads.ObjectMetaJson(response);
                var total = header.Length + bodyLength;
                if ((slots = TryRent(total, bodyLength)) is null)
                {
                    return null;
                }

                var count = slots.Length;

                await using var body = VerifiedBody.Of(response, await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false), options.VerifyBodies);
                var chunks = new (int Slot, int Length)[count];
                long written = 0;
                for (var i = 0; i < count; i++)
                {
                    var memory = _session.Channel.SlotMemory(slots[i]);
                    var want = (int)Math.Min(layout.SlotSize, total - written);
                    var pos = 0;
                    if (written < header.Length)
                    {
                        var h = (int)Math.Min(want, header.Length - written);
                        header.AsSpan((int)written, h).CopyTo(memory.Span);
                        pos = h;
                    }

                    while (pos < want)
                    {
                        var n = await body.ReadAsync(memory[pos..want], ct).ConfigureAwait(false);
                        if (n == 0)
                        {
                            throw new IOException($"the store's response ended after {written + pos - header.Length} of {bodyLength} bytes");
                        }

                        pos += n;
                    }

                    chunks[i] = (slots[i], want);
                    written += want;
                }

                Interlocked.Increment(ref Stats._fetched);
                Interlocked.Add(ref Stats._fetchedBytes, bodyLength);
                var filled = new Filled((int)response.StatusCode, header.Length, bodyLength, DirectS3.Header(response, "ETag"), chunks);
                slots = null;
                Remember(entry, filled, header);
                return filled;
            }
            finally
            {
                _backend.PrefetchBudget.Release();
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or HttpRequestException)
        {
            // A prefetch is a guess: when it fails, the function's own GetObject asks storage and sees the real error.
            Interlocked.Increment(ref Stats._skipped);
            return null;
        }
        finally
        {
            if (slots is not null)
            {
                Interlocked.Add(ref _heldSlots, -slots.Length);
                _session.ReturnSlots(slots);
            }
        }
    }

    /// <summary>Slots for a copy of <paramref name="total"/> bytes, or null (counted as skipped) when the caps say no.</summary>
    private int[]? TryRent(long total, long bodyLength)
    {
        var layout = _session.Channel.Layout;
        var count = (int)((total + layout.SlotSize - 1) / layout.SlotSize);
        if (bodyLength > _backend.Options.MaxPrefetchObjectBytes
            || Interlocked.Add(ref _heldSlots, count) > layout.SlotCount / 2
            || _session.TryRentSlots(count) is not { } slots)
        {
            Interlocked.Add(ref _heldSlots, -count);
            Interlocked.Increment(ref Stats._skipped);
            return null;
        }

        return slots;
    }

    /// <summary>A copy laid out from the node's cache: no storage request now; the HEAD before it answers checks it.</summary>
    private Filled? FromCache(ObjectCache.Cached cached)
    {
        var total = cached.Header.Length + cached.Body.Length;
        if (TryRent(total, cached.Body.Length) is not { } slots)
        {
            return null;
        }

        var layout = _session.Channel.Layout;
        var chunks = new (int Slot, int Length)[slots.Length];
        long placed = 0;
        for (var i = 0; i < slots.Length; i++)
        {
            var length = (int)Math.Min(layout.SlotSize, total - placed);
            chunks[i] = (slots[i], length);
            placed += length;
        }

        CopyInto(chunks, cached.Header, cached.Body);
        Interlocked.Increment(ref Stats._fromCache);
        return new Filled(200, cached.Header.Length, cached.Body.Length, cached.ETag, chunks);
    }

    /// <summary>Keeps a fetched body in the node's cache when a revalidation can vouch for it later (it has an ETag).</summary>
    private void Remember(Entry entry, Filled filled, byte[] header)
    {
        if (_backend.InputCache is not { } cache || filled.ETag is null || !cache.Admits(filled.BodyLength))
        {
            return;
        }

        var body = new byte[filled.BodyLength];
        long at = -filled.HeaderLength;
        foreach (var (slot, length) in filled.Chunks)
        {
            var span = _session.Channel.SlotMemory(slot).Span[..length];
            var skip = (int)Math.Max(0, -at);
            if (skip < length)
            {
                span[skip..].CopyTo(body.AsSpan((int)(at + skip)));
            }

            at += length;
        }

        cache.Add(entry.Bucket, entry.Key, filled.ETag, header, body);
    }

    /// <summary>Writes <paramref name="header"/> then <paramref name="body"/> across the chunks' slots, in order (stopping where they end).</summary>
    private void CopyInto((int Slot, int Length)[] chunks, ReadOnlySpan<byte> header, ReadOnlySpan<byte> body)
    {
        // Offsets fit an int: a prefetched object is at most MaxPrefetchObjectBytes.
        var at = 0;
        foreach (var (slot, length) in chunks)
        {
            if (at >= header.Length + body.Length)
            {
                return;
            }

            var span = _session.Channel.SlotMemory(slot).Span[..length];
            var inSlot = 0;
            if (at < header.Length)
            {
                inSlot = Math.Min(length, header.Length - at);
                header.Slice(at, inSlot).CopyTo(span);
            }

            var fromBody = Math.Max(0, at - header.Length);
            if (inSlot < length && fromBody < body.Length)
            {
                body.Slice(fromBody, Math.Min(length - inSlot, body.Length - fromBody)).CopyTo(span[inSlot..]);
            }

            at += length;
        }
    }

    private sealed record Filled(int Status, int HeaderLength, long BodyLength, string? ETag, (int Slot, int Length)[] Chunks);

    private sealed class Entry(string bucket, string key)
    {
        private int _claimed;
        private volatile bool _stale;

        public string Bucket { get; } = bucket;

        public string Key { get; } = key;

        public bool Stale
        {
            get => _stale;
            set => _stale = value;
        }

        public CancellationTokenSource Cancel { get; } = new();

        public Task<Filled?> Ready { get; set; } = Task.FromResult<Filled?>(null);

        /// <summary>True for exactly one caller: whoever takes the slots (the sandbox by a hit, or the pool by a drop).</summary>
        public bool TryClaim() => Interlocked.Exchange(ref _claimed, 1) == 0;
    }
}
