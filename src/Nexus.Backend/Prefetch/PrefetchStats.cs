// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Backend.Prefetch;

/// <summary>Node-wide prefetch counters (monotonic; read with <see cref="Snapshot"/>).</summary>
public sealed class PrefetchStats
{
    internal long _hints;
    internal long _denied;
    internal long _skipped;
    internal long _fetched;
    internal long _fetchedBytes;
    internal long _fromCache;
    internal long _hits;
    internal long _hitsAtOnce;
    internal long _misses;
    internal long _stale;
    internal long _wastedBytes;

    /// <summary>A consistent-enough copy of the counters.</summary>
    public PrefetchSnapshot Snapshot() => new(
        Interlocked.Read(ref _hints),
        Interlocked.Read(ref _denied),
        Interlocked.Read(ref _skipped),
        Interlocked.Read(ref _fetched),
        Interlocked.Read(ref _fetchedBytes),
        Interlocked.Read(ref _fromCache),
        Interlocked.Read(ref _hits),
        Interlocked.Read(ref _misses),
        Interlocked.Read(ref _stale),
        Interlocked.Read(ref _wastedBytes),
        Interlocked.Read(ref _hitsAtOnce));
}

/// <summary>
/// Prefetch figures: hints found (allowed), hints denied by the function's grants, objects skipped (over the size cap, no
/// free slots, fetch failed), objects fetched and their bytes, copies laid out from the node's cache of recent inputs
/// instead of fetched (each still revalidated before it answers), GetObjects served from a prefetch (hits) or from storage
/// (misses, in functions with prefetch on), prefetches dropped because the object changed (stale), and bytes fetched
/// but never read (wasted), and of the hits those answered on the doorbell thread itself, without a thread-pool hop (at once).
/// </summary>
public sealed record PrefetchSnapshot(long Hints, long Denied, long Skipped, long Fetched, long FetchedBytes, long FromCache, long Hits, long Misses, long Stale, long WastedBytes, long HitsAtOnce = 0);
