// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Collections.Concurrent;
using Nexus.Backend.WriteBack;
using Nexus.Functions;
using Nexus.Testing.Channel;

namespace Nexus.Backend.Tests;

/// <summary>An acknowledged write whose bucket is deleted behind the node's back (it can never land as it was).</summary>
public sealed partial class WriteBackTests
{
    /// <summary>
    /// Guards "nothing acknowledged is silently lost, and no retry storm": a write acknowledged for a bucket the node had
    /// seen, which another client then deleted, fails its upload with NoSuchBucket once, becomes a dead letter (kept in
    /// the journal, counted, logged with bucket, key and size; no retries), the bucket is forgotten so the next put there
    /// is refused as S3 refuses it, the dead letter survives a restart without being uploaded and counts toward the
    /// spool's cap, and the operator re-drives one bucket's (its bytes land once the bucket exists again) and discards
    /// another's (its place is freed).
    /// Checked once each by removing a defence: without the dead-lettering the write was retried (no dead letter, failed);
    /// without <c>KnownBuckets.Forget</c> the later put was acknowledged (failed); without the journal mark the restart
    /// found the write pending again (failed); without counting dead letters toward the cap the capped put was spooled (failed).
    /// </summary>
    [Fact]
    public async Task A_write_whose_bucket_was_deleted_behind_the_nodes_back_becomes_a_dead_letter_kept_across_a_restart()
    {
        var manifest = NodeUnderTest.Manifest() with
        {
            Storage = [.. NodeUnderTest.Manifest().Storage, new StorageGrant("gone", "fn/", StorageAccess.ReadWrite), new StorageGrant("gone2", "fn/", StorageAccess.ReadWrite)],
        };
        await StartStoreAsync();
        var log = new ConcurrentQueue<string>();
        var backend = NewBackend(log: log.Enqueue);
        using var admin = Admin();
        foreach (var bucket in new[] { "gone", "gone2" })
        {
            // The node sees the bucket exist (its first put there lands), then another client deletes it.
            await admin.PutBucketAsync(bucket);
            var seen = await RunAsync(backend, manifest, $$"""
                s, m, _ = call("PutObject", {"Bucket": "{{bucket}}", "Key": "fn/seen"}, b"x")
                emit([s])
                """);
            Assert.Equal(200, seen.Json[0].GetInt32());
            Assert.Equal(0, await backend.WriteBack!.DrainAsync(TimeSpan.FromMinutes(1)));
            await admin.DeleteObjectAsync(bucket, "fn/seen");
            await admin.DeleteBucketAsync(bucket);
        }

        var acknowledged = await RunAsync(backend, manifest, """
            s1, _, _ = call("PutObject", {"Bucket": "gone", "Key": "fn/a.txt"}, b"acknowledged for gone")
            s2, _, _ = call("PutObject", {"Bucket": "gone2", "Key": "fn/b.txt"}, b"acknowledged for gone2")
            emit([s1, s2])
            """);
        Assert.Equal("[200, 200]", acknowledged.Json.GetRawText());
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (backend.WriteBack!.Stats.DeadLetters < 2)
        {
            Assert.True(DateTime.UtcNow < deadline, $"no dead letters after 30 s: {backend.WriteBack.Stats}; log: {string.Join(" | ", log)}");
            await Task.Delay(50);
        }

        var stats = backend.WriteBack.Stats;
        Assert.Equal((0, 0L, 0L), (stats.Pending, stats.PendingBytes, stats.Retries));
        Assert.Equal("acknowledged for gone".Length + "acknowledged for gone2".Length, stats.DeadLetterBytes);
        Assert.Contains(log, line => line.Contains("dead letter gone/fn/a.txt (21 bytes", StringComparison.Ordinal));
        Assert.Equal(["gone/fn/a.txt", "gone2/fn/b.txt"], SpoolJournal.Scan(Spool, deadLetters: true).Select(r => r.Bucket + "/" + r.Key).Order());
        Assert.Empty(SpoolJournal.Scan(Spool));

        // Storage refused for good, so the node now asks before spooling: the next put is refused as S3 refuses it.
        var refused = await RunAsync(backend, manifest, """
            s, m, _ = call("PutObject", {"Bucket": "gone", "Key": "fn/c.txt"}, b"refused")
            emit([s, m.get("Error", {}).get("Code")])
            """);
        Assert.Equal("[404, \"NoSuchBucket\"]", refused.Json.GetRawText());

        // No retry storm: nothing is attempted again while the dead letters wait for the operator.
        await Task.Delay(500);
        Assert.Equal(0, backend.WriteBack.Stats.Retries);

        // A restart finds them dead letters again, not pending; they count toward the spool's cap (here 50 bytes, 42
        // of them dead letters), so a 10-byte put goes to storage synchronously.
        await DisposeBackendAsync(backend);
        var restarted = NewBackend(maxSpoolBytes: 50, log: log.Enqueue);
        Assert.Equal((0, 2), (restarted.WriteBack!.Stats.Pending, restarted.WriteBack.Stats.DeadLetters));
        var capped = await RunAsync(restarted, manifest, $$"""
            s, _, _ = call("PutObject", {"Bucket": "{{Bucket}}", "Key": "fn/capped"}, b"0123456789")
            emit([s])
            """);
        Assert.Equal(200, capped.Json[0].GetInt32());
        Assert.Equal(1, restarted.WriteBack.Stats.SyncFallbacks);

        await admin.PutBucketAsync("gone");
        await admin.PutBucketAsync("gone2");
        Assert.Equal(1, restarted.WriteBack.Discard("gone2"));
        // Two operators at once: the dead letter is re-driven once.
        var redriven = await Task.WhenAll(Task.Run(() => restarted.WriteBack.Redrive(null)), Task.Run(() => restarted.WriteBack.Redrive(null)));
        Assert.Equal(1, redriven.Sum());
        Assert.Equal(0, await restarted.WriteBack.DrainAsync(TimeSpan.FromMinutes(1)));
        Assert.Equal("acknowledged for gone", System.Text.Encoding.UTF8.GetString(await ReadAllAsync((await admin.GetObjectAsync("gone", "fn/a.txt")).ResponseStream)));
        Assert.Empty((await admin.ListObjectsV2Async(new Amazon.S3.Model.ListObjectsV2Request { BucketName = "gone2" })).S3Objects ?? []);
        Assert.Equal(0, restarted.WriteBack.Stats.DeadLetters);
        Assert.Empty(SpoolJournal.Scan(Spool, deadLetters: true));
        Assert.Empty(SpoolJournal.Scan(Spool));
    }
}
