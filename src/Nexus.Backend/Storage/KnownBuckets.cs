// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Collections.Concurrent;
using System.Net;

namespace Nexus.Backend.Storage;

/// <summary>
/// The buckets storage has shown to exist. A spooled put is acknowledged before storage answers, so a put to a bucket
/// that does not exist would be acknowledged and never land: before the first spooled put to a bucket, storage is asked
/// (one HEAD, no retries), and a put to a bucket it says is missing is not spooled. When storage cannot say (down,
/// slow, another answer) the spool takes the write as before and the bucket is asked again next time. A bucket deleted
/// after it was seen is forgotten when an upload to it finds it gone (<see cref="Forget"/>), so the next put to it is
/// asked about again and refused (docs/writeback.md, "Missing buckets").
/// </summary>
internal sealed class KnownBuckets(DirectS3 direct)
{
    // Longer than a store's HEAD takes across a datacenter link; short enough that a put to a hung store is not held.
    private static readonly TimeSpan s_askTimeout = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<string, byte> _existing = new(StringComparer.Ordinal);

    /// <summary>Storage said <paramref name="bucket"/> is gone after all: the next put there asks again.</summary>
    public void Forget(string bucket) => _existing.TryRemove(bucket, out _);

    /// <summary>True only when storage answered that <paramref name="bucket"/> does not exist (404).</summary>
    public async Task<bool> IsMissingAsync(string bucket, CancellationToken ct)
    {
        if (_existing.ContainsKey(bucket))
        {
            return false;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(s_askTimeout);
        HttpStatusCode status;
        try
        {
            status = await direct.HeadBucketAsync(bucket, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException || (e is OperationCanceledException && !ct.IsCancellationRequested))
        {
            return false;
        }

        if (status == HttpStatusCode.OK)
        {
            _existing.TryAdd(bucket, 0);
        }

        return status == HttpStatusCode.NotFound;
    }
}
