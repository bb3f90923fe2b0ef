// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Backend.Prefetch;

/// <summary>
/// Bodies of objects the node prefetched lately, by bucket and key, with the ETag they were read under: a prefetch of an
/// object held here lays out these bytes instead of fetching them again. Nothing is ever served from here on trust: the
/// backend keeps it only when every prefetched copy is revalidated before it answers (a HEAD conditional on this ETag,
/// <see cref="NexusBackendOptions.RevalidatePrefetches"/>), and a strong ETag names exactly one body. Least recently used
/// objects go first past <see cref="Capacity"/>; an object over half of it is not kept, so one large read does not empty
/// the rest (half, not less: with the default 32 MiB a 10 MiB input is kept, whose GET, receive and checksum were most of
/// the node's CPU for each warm call that read it, docs/evaluation.md). Bodies are never written after they are added,
/// so a copy out of one needs no lock.
/// </summary>
internal sealed class ObjectCache(long capacity)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Bucket, string Key), LinkedListNode<Cached>> _entries = [];
    private readonly LinkedList<Cached> _recency = [];
    private long _bytes;

    public long Capacity { get; } = capacity;

    /// <summary>Bytes of bodies held now.</summary>
    public long Bytes
    {
        get
        {
            lock (_lock)
            {
                return _bytes;
            }
        }
    }

    /// <summary>The body held for the object and the ETag it was read under, or null.</summary>
    public Cached? TryGet(string bucket, string key)
    {
        lock (_lock)
        {
            if (!_entries.TryGetValue((bucket, key), out var node))
            {
                return null;
            }

            _recency.Remove(node);
            _recency.AddFirst(node);
            return node.Value;
        }
    }

    /// <summary>Whether a body of <paramref name="length"/> bytes would be kept.</summary>
    public bool Admits(long length) => length <= Capacity / 2;

    /// <summary>
    /// Keeps <paramref name="body"/> as the object's body under <paramref name="etag"/> (replacing what was held), with the
    /// response header it came with, which lays out a copy until the copy's revalidation writes the current one over it.
    /// </summary>
    public void Add(string bucket, string key, string etag, byte[] header, byte[] body)
    {
        if (!Admits(body.Length))
        {
            return;
        }

        lock (_lock)
        {
            RemoveLocked((bucket, key));
            _entries[(bucket, key)] = _recency.AddFirst(new Cached(bucket, key, etag, header, body));
            _bytes += body.Length;
            while (_bytes > Capacity && _recency.Last is { } oldest)
            {
                RemoveLocked((oldest.Value.Bucket, oldest.Value.Key));
            }
        }
    }

    /// <summary>Forgets the object (it changed, or its held ETag no longer matches storage).</summary>
    public void Remove(string bucket, string key)
    {
        lock (_lock)
        {
            RemoveLocked((bucket, key));
        }
    }

    private void RemoveLocked((string Bucket, string Key) id)
    {
        if (_entries.Remove(id, out var node))
        {
            _recency.Remove(node);
            _bytes -= node.Value.Body.Length;
        }
    }

    internal sealed record Cached(string Bucket, string Key, string ETag, byte[] Header, byte[] Body);
}
