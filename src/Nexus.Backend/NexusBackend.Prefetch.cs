// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Backend.Prefetch;

namespace Nexus.Backend;

/// <summary>The backend's part in prefetching inputs: keeping prefetched copies current.</summary>
public sealed partial class NexusBackend
{
    /// <summary>
    /// Told of every write or delete of <paramref name="bucket"/>/<paramref name="key"/> (by the embedded store, and by
    /// the backend's own write path); prefetched copies of that object are dropped so none is served stale.
    /// </summary>
    public void ObjectChanged(string bucket, string key)
    {
        ArgumentNullException.ThrowIfNull(bucket);
        ArgumentNullException.ThrowIfNull(key);
        InputCache?.Remove(bucket, key);
        foreach (var service in _services.Keys)
        {
            service.MarkPrefetchStale(bucket, key);
        }
    }

    /// <summary>Bodies of recent prefetches, kept only while every prefetched copy is revalidated before it answers.</summary>
    internal ObjectCache? InputCache { get; }

    /// <summary>Node-wide prefetch counters.</summary>
    public PrefetchStats PrefetchStats { get; } = new();

    /// <summary>Prefetch fetches running at once, apart from the functions' own requests so that guesses never starve them.</summary>
    internal SemaphoreSlim PrefetchBudget { get; } = new(8);
}
