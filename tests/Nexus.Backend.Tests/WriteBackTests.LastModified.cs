// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Amazon.S3.Model;
using Nexus.Testing.Channel;

namespace Nexus.Backend.Tests;

/// <summary>The LastModified of a spooled write: the same before and after its upload, as one S3 object version has one.</summary>
public sealed partial class WriteBackTests
{
    /// <summary>
    /// A function reads a pending write's LastModified from the spool (the acknowledgement time); storage, reached well
    /// after (it is started late), must keep that same time for the uploaded object, to the millisecond, for a small
    /// body (the backend's direct upload) and a large one (the SDK's): a listing and a HEAD after the upload agree with
    /// what the function saw. Checked by removing the LastModified header from the uploads once: storage kept its own
    /// upload time (failed).
    /// </summary>
    [Fact]
    public async Task A_spooled_write_keeps_the_last_modified_it_was_acknowledged_with_after_its_upload()
    {
        var backend = NewBackend();
        var seen = await RunAsync(backend, NodeUnderTest.Manifest(), $$"""
            out = {}
            for key, size in [("fn/small", 100), ("fn/large", 200_000)]:
                s, _, _ = call("PutObject", {"Bucket": "{{Bucket}}", "Key": key}, b"m" * size)
                h, hm, _ = call("HeadObject", {"Bucket": "{{Bucket}}", "Key": key})
                out[key] = [s, h, hm["LastModified"]]
            emit(out)
            """);
        Assert.Equal(2, backend.WriteBack!.Stats.Pending);

        await Task.Delay(1100);
        await StartStoreAsync();
        Assert.Equal(0, await backend.WriteBack.DrainAsync(TimeSpan.FromMinutes(1)));
        using var admin = Admin();
        var listed = (await admin.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Bucket, Prefix = "fn/" })).S3Objects.ToDictionary(o => o.Key);
        foreach (var key in new[] { "fn/small", "fn/large" })
        {
            var answer = seen.Json.GetProperty(key);
            Assert.Equal((200, 200), (answer[0].GetInt32(), answer[1].GetInt32()));
            var fromSpool = DateTime.Parse(answer[2].GetString()!, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AdjustToUniversal);
            Assert.Equal(fromSpool, listed[key].LastModified!.Value.ToUniversalTime());
            var head = await admin.GetObjectMetadataAsync(Bucket, key);
            Assert.Equal(fromSpool.AddTicks(-(fromSpool.Ticks % TimeSpan.TicksPerSecond)), head.LastModified!.Value.ToUniversalTime());
        }
    }
}
