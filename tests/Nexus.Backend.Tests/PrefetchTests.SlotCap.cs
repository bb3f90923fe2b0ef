// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Amazon.S3.Model;
using Nexus.Backend.Prefetch;

namespace Nexus.Backend.Tests;

public sealed partial class PrefetchTests
{
    /// <summary>
    /// Defence: prefetches hold at most half of an instance's response slots (<c>PrefetchSet</c>), so an event that names
    /// more inputs than the region holds (the caller controls the event) cannot take every slot from the function's own
    /// reads. Here the event names one single-slot object per slot: half are fetched, the rest skipped, half the slots
    /// stay free, and every input still reads whole. With the cap removed once, the prefetches took
    /// every slot and this failed.
    /// </summary>
    [Fact]
    public async Task Prefetches_hold_at_most_half_of_the_instances_slots_and_the_inputs_skipped_are_read_from_storage()
    {
        var backend = await StartAsync();
        var session = Attach(backend);
        var slotCount = session.Channel.Layout.SlotCount;
        var objects = Enumerable.Range(0, slotCount).Select(i => ($"fn/many/{i}", RandomNumberGenerator.GetBytes(64 << 10))).ToArray();
        using (var admin = Admin())
        {
            foreach (var (key, data) in objects)
            {
                await admin.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = key, InputStream = new MemoryStream(data) });
            }
        }

        var free = session.Session.FreeSlots;
        var payload = new JsonObject { ["Records"] = new JsonArray([.. objects.Select(o => (JsonNode)Record(Bucket, o.Item1))]) };
        session.Storage.BeginPrefetch(PrefetchHints.Start(session.Storage.Manifest, Encoding.UTF8.GetBytes(payload.ToJsonString())));
        await WaitForAsync(() => backend.PrefetchStats.Snapshot() is { } s && s.Fetched + s.Skipped == slotCount);

        var stats = backend.PrefetchStats.Snapshot();
        Assert.Equal(slotCount / 2, stats.Fetched);
        Assert.Equal(slotCount - (slotCount / 2), stats.Skipped);
        Assert.Equal(free - (slotCount / 2), session.Session.FreeSlots);

        // Every input still reads whole: the prefetched from the slots, the skipped through storage.
        var result = await RunAsync(session, $$"""
            sizes = []
            for i in range({{slotCount}}):
                s, m, body = call("GetObject", {"Bucket": "{{Bucket}}", "Key": "fn/many/%d" % i})
                sizes.append(len(body))
            emit(sizes)
            """);
        Assert.All(result.Json.EnumerateArray(), size => Assert.Equal(64 << 10, size.GetInt32()));
        Assert.Equal((slotCount / 2, slotCount - (slotCount / 2)), (backend.PrefetchStats.Snapshot().Hits, backend.PrefetchStats.Snapshot().Misses));
    }
}
