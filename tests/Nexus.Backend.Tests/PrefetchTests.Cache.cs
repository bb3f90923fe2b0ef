// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Nexus.Backend.Prefetch;
using Nexus.Testing.Channel;

namespace Nexus.Backend.Tests;

/// <summary>The node's cache of recent inputs: a prefetch laid out from it, never answering without its revalidation.</summary>
public sealed partial class PrefetchTests
{
    [Fact]
    public async Task An_input_read_again_is_laid_out_from_the_cache_and_an_overwrite_by_another_client_is_still_read()
    {
        var backend = await StartAsync(Revalidating(), changeFeed: false, ("fn/doc", "version 1"u8.ToArray()));
        var session = Attach(backend);
        Assert.Equal("version 1", await PrefetchAndReadAsync(session, backend, "fn/doc"));
        Assert.Equal("version 1", await PrefetchAndReadAsync(session, backend, "fn/doc"));
        var stats = backend.PrefetchStats.Snapshot();
        Assert.Equal((1, 1, 2), (stats.Fetched, stats.FromCache, stats.Hits));

        // Another client overwrites it (the backend is told nothing): the copy laid out from the cache must not answer.
        using (var admin = Admin())
        {
            await admin.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = "fn/doc", ContentBody = "version 2" });
        }

        Assert.Equal("version 2", await PrefetchAndReadAsync(session, backend, "fn/doc"));
        stats = backend.PrefetchStats.Snapshot();
        Assert.Equal((1, 2, 2, 1), (stats.Fetched, stats.FromCache, stats.Hits, stats.Misses));

        // The stale body was dropped: the next prefetch fetches the new one.
        Assert.Equal("version 2", await PrefetchAndReadAsync(session, backend, "fn/doc"));
        stats = backend.PrefetchStats.Snapshot();
        Assert.Equal((2, 2, 3), (stats.Fetched, stats.FromCache, stats.Hits));

        // Every copy waited for its HEAD: none answered at once on the doorbell thread.
        Assert.Equal(0, stats.HitsAtOnce);
    }

    [Theory]
    [InlineData("pink", 3)]
    [InlineData("crimson", 2)]
    public async Task Metadata_replaced_in_place_keeps_the_etag_and_a_cached_copy_answers_the_current_headers(string color, int hits)
    {
        // A copy onto itself with new metadata keeps the ETag (the body is the same): the revalidating HEAD passes, so the
        // copy must answer with that HEAD's headers, not the ones it was cached with; when they do not fit its header's
        // bytes the read goes to storage.
        var backend = await StartAsync(Revalidating(), changeFeed: false);
        using var admin = Admin(RequestChecksumCalculation.WHEN_REQUIRED);
        var put = new PutObjectRequest { BucketName = Bucket, Key = "fn/doc", ContentBody = "same bytes", ContentType = "text/plain" };
        put.Metadata.Add("color", "blue");
        var etag = (await admin.PutObjectAsync(put)).ETag;
        var session = Attach(backend);
        Assert.Equal("blue", (await PrefetchAndReadMetaAsync(session, backend, "fn/doc"))["color"]);
        Assert.Equal("blue", (await PrefetchAndReadMetaAsync(session, backend, "fn/doc"))["color"]);
        var copy = new CopyObjectRequest { SourceBucket = Bucket, SourceKey = "fn/doc", DestinationBucket = Bucket, DestinationKey = "fn/doc", MetadataDirective = S3MetadataDirective.REPLACE, ContentType = "text/plain" };
        copy.Metadata.Add("color", color);
        await admin.CopyObjectAsync(copy);
        Assert.Equal(etag, (await admin.GetObjectMetadataAsync(Bucket, "fn/doc")).ETag);

        Assert.Equal(color, (await PrefetchAndReadMetaAsync(session, backend, "fn/doc"))["color"]);
        var stats = backend.PrefetchStats.Snapshot();
        Assert.Equal((1, 2, hits), (stats.Fetched, stats.FromCache, stats.Hits));
    }

    [Fact]
    public void The_cache_keeps_the_most_recently_used_bodies_within_its_capacity_and_none_over_half_of_it()
    {
        var cache = new ObjectCache(400);
        cache.Add("b", "one", "\"1\"", [], new byte[100]);
        cache.Add("b", "two", "\"2\"", [], new byte[100]);
        cache.Add("b", "three", "\"3\"", [], new byte[100]);
        cache.Add("b", "four", "\"4\"", [], new byte[100]);
        Assert.NotNull(cache.TryGet("b", "one"));
        cache.Add("b", "five", "\"5\"", [], new byte[100]);
        Assert.Null(cache.TryGet("b", "two"));
        Assert.Equal(["one", "three", "four", "five"], new[] { "one", "three", "four", "five" }.Where(k => cache.TryGet("b", k) is not null));
        Assert.Equal(400, cache.Bytes);

        cache.Add("b", "big", "\"6\"", [], new byte[201]);
        Assert.Null(cache.TryGet("b", "big"));
        cache.Remove("b", "one");
        Assert.Equal(300, cache.Bytes);

        // Half the capacity is kept (a 10 MiB input in the default 32 MiB), and makes room by the least recently used.
        cache.Add("b", "half", "\"7\"", [], new byte[200]);
        Assert.NotNull(cache.TryGet("b", "half"));
        Assert.Equal(["four", "five", "half"], new[] { "three", "four", "five", "half" }.Where(k => cache.TryGet("b", k) is not null));
        Assert.Equal(400, cache.Bytes);
    }

    [Fact]
    public async Task A_write_the_node_acknowledges_drops_the_cached_body()
    {
        var backend = await StartAsync(Revalidating(), changeFeed: false, ("fn/doc", "version 1"u8.ToArray()));
        var session = Attach(backend);
        await PrefetchAndReadAsync(session, backend, "fn/doc");
        Assert.NotNull(backend.InputCache!.TryGet(Bucket, "fn/doc"));
        backend.ObjectChanged(Bucket, "fn/doc");
        Assert.Null(backend.InputCache.TryGet(Bucket, "fn/doc"));
    }

    private NexusBackendOptions Revalidating() =>
        new() { ServiceUrl = StoreUrl, AccessKey = NodeUnderTest.AccessKey, SecretKey = NodeUnderTest.SecretKey, RevalidatePrefetches = true };

    private static async Task<string?> PrefetchAndReadAsync(ServedChannel session, NexusBackend backend, string key)
    {
        var result = await RunPrefetchedAsync(session, backend, key, "emit([s, body.decode()])");
        return result.Json[1].GetString();
    }

    private static async Task<Dictionary<string, string>> PrefetchAndReadMetaAsync(ServedChannel session, NexusBackend backend, string key)
    {
        var result = await RunPrefetchedAsync(session, backend, key, "emit(m[\"Metadata\"])");
        return result.Json.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
    }

    /// <summary>One invocation: its prefetch begun and laid out (fetched or from the cache), then the function's read.</summary>
    private static async Task<PythonSandbox.Result> RunPrefetchedAsync(ServedChannel session, NexusBackend backend, string key, string emit)
    {
        var before = backend.PrefetchStats.Snapshot();
        session.Storage.BeginPrefetch(PrefetchHints.Start(session.Storage.Manifest, S3Event(Bucket, key)));
        await WaitForAsync(() => backend.PrefetchStats.Snapshot() is var now && now.Fetched + now.FromCache + now.Skipped > before.Fetched + before.FromCache + before.Skipped);
        return await RunAsync(session, $$"""
            s, m, body = call("GetObject", {"Bucket": "{{Bucket}}", "Key": "{{key}}"})
            {{emit}}
            """);
    }
}
