// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Collections.Concurrent;
using Amazon.Runtime.Endpoints;
using Amazon.S3.Endpoints;

namespace Nexus.Backend;

/// <summary>
/// The S3 client's endpoint resolution, remembered. The SDK runs its whole endpoint rule set for every request (URL
/// parsing, partition lookup, JSON templating of the auth scheme): about 6% of the node's CPU per call with a remote
/// store (perf, docs/evaluation.md), for an answer that depends only on the bucket and the client's fixed settings. The
/// object key, prefix and copy source are parameters too, but no rule of the S3 rule set reads them
/// (<c>EndpointCacheTests</c> checks that the SDK's own provider answers the same with and without them), so they are
/// left out of the cache key: one entry per bucket, bounded.
/// </summary>
internal sealed class CachedEndpointProvider(IEndpointProvider inner) : IEndpointProvider
{
    private const int MaxEntries = 4096;
    private readonly ConcurrentDictionary<Key, Endpoint> _cache = new();

    public Endpoint ResolveEndpoint(EndpointParameters parameters)
    {
        if (parameters is not S3EndpointParameters p)
        {
            return inner.ResolveEndpoint(parameters);
        }

        var key = new Key(
            p.Bucket,
            p.Region,
            p.Endpoint,
            Flags(p.UseFIPS, p.UseDualStack, p.ForcePathStyle, p.Accelerate, p.UseGlobalEndpoint, p.UseObjectLambdaEndpoint),
            Flags(p.DisableAccessPoints, p.DisableMultiRegionAccessPoints, p.UseArnRegion, p.UseS3ExpressControlEndpoint, p.DisableS3ExpressSessionAuth));
        if (!_cache.TryGetValue(key, out var endpoint))
        {
            endpoint = inner.ResolveEndpoint(parameters);
            if (_cache.Count < MaxEntries)
            {
                _cache.TryAdd(key, endpoint);
            }
        }

        // A fresh object each time: the request pipeline changes the endpoint it is handed (one shared object broke
        // presigned URLs and CopyObject).
        return new Endpoint(endpoint.URL) { Attributes = endpoint.Attributes, Headers = endpoint.Headers };
    }

    // Each nullable flag as two bits (set, value): null, false and true stay three different keys.
    private static int Flags(params ReadOnlySpan<bool?> flags)
    {
        var packed = 0;
        foreach (var flag in flags)
        {
            packed = (packed << 2) | (flag is null ? 0 : flag.Value ? 3 : 2);
        }

        return packed;
    }

    private readonly record struct Key(string? Bucket, string? Region, string? Endpoint, int Flags, int MoreFlags);
}
