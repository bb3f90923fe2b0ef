// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Amazon.S3;
using Nexus.Backend.WriteBack;
using Nexus.Testing.Channel;

namespace Nexus.Backend.Tests;

/// <summary>A spooled put whose metadata storage refuses for good, which would be acknowledged and never land.</summary>
public sealed partial class WriteBackTests
{
    /// <summary>
    /// Guards "nothing acknowledged is ever lost" for metadata storage refuses (ObjectOptions.Metadata): more than S3's
    /// 2 KB of names and values (MetadataTooLarge) and two names that are one header name (they differ in case) are
    /// refused before the put is spooled, so nothing is acknowledged that storage answers 400 / 403 to on every upload
    /// (it was acknowledged and retried for good before); metadata of exactly 2 KB is acknowledged and lands. Checked by
    /// removing the size check and the case check once each: the put was acknowledged (failed).
    /// </summary>
    [Fact]
    public async Task A_put_whose_metadata_storage_would_refuse_is_refused_before_it_is_acknowledged()
    {
        await StartStoreAsync();
        var backend = NewBackend();
        var result = await RunAsync(backend, NodeUnderTest.Manifest(), $$$"""
            def code(r): return [r[0], r[1].get("Error", {}).get("Code")]
            out = {}
            out["too_large"] = code(call("PutObject", {"Bucket": "{{{Bucket}}}", "Key": "fn/too-large", "Metadata": {"m1": "v" * 1000, "m2": "v" * 1000, "m3": "v" * 43}}, b"1"))
            out["case"] = code(call("PutObject", {"Bucket": "{{{Bucket}}}", "Key": "fn/case", "Metadata": {"a": "1", "A": "2"}}, b"2"))
            out["at_limit"] = code(call("PutObject", {"Bucket": "{{{Bucket}}}", "Key": "fn/at-limit", "Metadata": {"m1": "v" * 1000, "m2": "v" * 1000, "m3": "v" * 42}}, b"3"))
            emit(out)
            """);

        Assert.Equal("[400, \"MetadataTooLarge\"]", result.Json.GetProperty("too_large").GetRawText());
        Assert.Equal("[400, \"InvalidRequest\"]", result.Json.GetProperty("case").GetRawText());
        Assert.Equal("[200, null]", result.Json.GetProperty("at_limit").GetRawText());
        Assert.Equal(0, await backend.WriteBack!.DrainAsync(TimeSpan.FromMinutes(1)));
        Assert.Equal(0, backend.WriteBack.Stats.Retries);
        Assert.Empty(SpoolJournal.Scan(Spool));

        using var admin = Admin();
        var stored = await admin.GetObjectMetadataAsync(Bucket, "fn/at-limit");
        Assert.Equal(42, stored.Metadata["m3"].Length);
        foreach (var refused in new[] { "fn/too-large", "fn/case" })
        {
            var missing = await Assert.ThrowsAsync<AmazonS3Exception>(() => admin.GetObjectMetadataAsync(Bucket, refused));
            Assert.Equal(System.Net.HttpStatusCode.NotFound, missing.StatusCode);
        }
    }
}
