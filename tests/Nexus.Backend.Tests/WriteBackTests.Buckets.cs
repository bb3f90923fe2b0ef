// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Backend.WriteBack;
using Nexus.Functions;
using Nexus.Testing.Channel;

namespace Nexus.Backend.Tests;

/// <summary>A spooled put to a bucket storage does not have, which would be acknowledged and never land.</summary>
public sealed partial class WriteBackTests
{
    /// <summary>
    /// Guards "nothing acknowledged is ever lost" for a put that could never land: with storage up, a spooled put to a
    /// bucket that does not exist goes to storage, which answers NoSuchBucket, nothing pending and nothing in the journal, while a
    /// put to a bucket that exists is still acknowledged from the spool (with storage down, puts are spooled as before:
    /// the other tests here). Checked by removing the bucket check once: the put was acknowledged (failed).
    /// </summary>
    [Fact]
    public async Task A_spooled_put_to_a_missing_bucket_is_refused_as_s3_refuses_it_and_never_acknowledged()
    {
        var manifest = NodeUnderTest.Manifest() with
        {
            Storage = [.. NodeUnderTest.Manifest().Storage, new StorageGrant("no-such-bucket", "fn/", StorageAccess.ReadWrite)],
        };
        const string Puts = """
            s1, m1, _ = call("PutObject", {"Bucket": "no-such-bucket", "Key": "fn/a.txt"}, b"lost?")
            s2, m2, _ = call("PutObject", {"Bucket": "BUCKET", "Key": "fn/b.txt"}, b"kept")
            emit([s1, m1.get("Error", {}).get("Code"), s2])
            """;

        await StartStoreAsync();
        var up = NewBackend();
        var result = await RunAsync(up, manifest, Puts.Replace("BUCKET", Bucket, StringComparison.Ordinal));
        Assert.Equal("[404, \"NoSuchBucket\", 200]", result.Json.GetRawText());
        Assert.Equal(0, await up.WriteBack!.DrainAsync(TimeSpan.FromMinutes(1)));
        Assert.DoesNotContain(SpoolJournal.Scan(Spool), r => r.Bucket == "no-such-bucket");
    }
}
