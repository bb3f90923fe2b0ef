// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Amazon.S3.Model;
using Nexus.Functions;
using Nexus.Store;
using Nexus.Testing.Channel;

namespace Nexus.Backend.Tests;

/// <summary>Synchronous writes while storage restarts or stays down: retried as botocore would, then ServiceUnavailable.</summary>
public sealed partial class WriteBackTests
{
    /// <summary>
    /// A synchronous put while storage restarts (refusing connections for a moment) is retried, as botocore's own would
    /// be, and lands: it failed at once with an internal-error incident (an operator's review).
    /// </summary>
    [Fact]
    public async Task A_sync_put_rides_out_storage_refusing_connections_for_a_moment()
    {
        var backend = NewBackend();
        var manifest = NodeUnderTest.Manifest() with { WriteBack = WriteBackMode.Sync };
        var started = System.Diagnostics.Stopwatch.StartNew();
        var storeUp = Task.Run(async () =>
        {
            await Task.Delay(700);
            await StartStoreAsync();
        });
        var result = await RunAsync(backend, manifest, $$"""
            try:
                emit(call("PutObject", {"Bucket": "{{Bucket}}", "Key": "fn/blip.txt"}, b"rode it out")[0])
            except Exception as e:
                emit(str(e))
            """);
        await storeUp;
        Assert.True(result.Json.ValueKind == System.Text.Json.JsonValueKind.Number && result.Json.GetInt32() == 200, $"{result.Json} after {started.Elapsed.TotalSeconds:0.0} s");
        using var admin = Admin();
        Assert.Equal("rode it out", System.Text.Encoding.UTF8.GetString(await GetAsync(admin, "fn/blip.txt")));
    }

    /// <summary>
    /// A multipart part sent while storage restarts lands and the upload completes, as with baseline's botocore: its body
    /// lets the SDK seek back to where nothing was read (<c>InPlaceSeekableBody</c>), so the SDK's own retry resends it.
    /// </summary>
    [Fact]
    public async Task A_part_rides_out_storage_refusing_connections_for_a_moment()
    {
        await StartStoreAsync();
        using var admin = Admin();
        var upload = await admin.InitiateMultipartUploadAsync(Bucket, "fn/parts.bin");
        await _store!.DisposeAsync();
        _store = null;

        var backend = NewBackend();
        var storeUp = Task.Run(async () =>
        {
            await Task.Delay(700);
            _store = await S3StoreServer.StartAsync(new StoreOptions { DataDirectory = Path.Combine(_root, "store"), Urls = [StoreUrl] }, _credentials);
        });
        var result = await RunAsync(backend, NodeUnderTest.Manifest(), $$"""
            s, m, _ = call("UploadPart", {"Bucket": "{{Bucket}}", "Key": "fn/parts.bin", "UploadId": "{{upload.UploadId}}", "PartNumber": 1}, b"one part")
            emit({"status": s, "ETag": m.get("ETag"), "error": m.get("Error")})
            """);
        await storeUp;
        Assert.True(result.Json.GetProperty("status").GetInt32() == 200, result.Json.ToString());
        await admin.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
        {
            BucketName = Bucket,
            Key = "fn/parts.bin",
            UploadId = upload.UploadId,
            PartETags = [new PartETag(1, result.Json.GetProperty("ETag").GetString())],
        });
        Assert.Equal("one part", System.Text.Encoding.UTF8.GetString(await GetAsync(admin, "fn/parts.bin")));
    }

    /// <summary>Storage that stays unreachable: the retries end in ServiceUnavailable, without the store's address.</summary>
    [Fact]
    public async Task A_sync_put_to_storage_that_stays_down_is_service_unavailable()
    {
        var backend = NewBackend();
        var manifest = NodeUnderTest.Manifest() with { WriteBack = WriteBackMode.Sync };
        var result = await RunAsync(backend, manifest, $$"""
            s, m, body = call("PutObject", {"Bucket": "{{Bucket}}", "Key": "fn/down.txt"}, b"lost")
            emit({"status": s, "meta": m})
            """);
        Assert.Equal(503, result.Json.GetProperty("status").GetInt32());
        var meta = result.Json.GetProperty("meta").ToString();
        Assert.Contains("ServiceUnavailable", meta, StringComparison.Ordinal);
        Assert.DoesNotContain("127.0.0.1", meta, StringComparison.Ordinal);
    }
}
