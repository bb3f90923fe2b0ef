// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Amazon.S3;
using Amazon.S3.Model;
using Nexus.Backend.WriteBack;
using Nexus.Functions;
using Nexus.Testing.Channel;

namespace Nexus.Backend.Tests;

/// <summary>A function's own put checksums (boto3's ChecksumSHA256, ChecksumCRC32, ...) through the spool and the sync path.</summary>
public sealed partial class WriteBackTests
{
    // Two puts with their writers' checksums, computed by the script as boto3 computes them: a small body (read whole
    // from the spool) with a SHA-256 and one over 64 KiB (streamed from it) with a CRC32.
    private const string ChecksumPuts = """
        import base64, random, zlib
        small = random.Random(1).randbytes(1000)
        large = random.Random(2).randbytes(300_000)
        sha = base64.b64encode(hashlib.sha256(small).digest()).decode()
        crc = base64.b64encode(zlib.crc32(large).to_bytes(4, "big")).decode()
        s1, m1, _ = call("PutObject", {"Bucket": "BUCKET", "Key": "fn/sha.bin", "ChecksumSHA256": sha}, small)
        s2, m2, _ = call("PutObject", {"Bucket": "BUCKET", "Key": "fn/crc.bin", "ChecksumCRC32": crc}, large)
        """;

    // Reads of both in checksum mode (as the stand-in sends a boto3 call with ChecksumMode="ENABLED").
    private const string ChecksumReads = """
        g, gm, body = call("GetObject", {"Bucket": "BUCKET", "Key": "fn/sha.bin", "ChecksumMode": "ENABLED"})
        h, hm, _ = call("HeadObject", {"Bucket": "BUCKET", "Key": "fn/crc.bin", "ChecksumMode": "ENABLED"})
        reads = [g, gm.get("ChecksumSHA256"), len(body), h, hm.get("ChecksumCRC32")]
        """;

    /// <summary>
    /// Parity with S3 for a pending write: the put's answer, and a GetObject or HeadObject in checksum mode answered from
    /// the spool (storage is down), carry the writer's checksum as the store's would; a restarted backend still knows it
    /// (journal meta); and the upload gives it to the store, which keeps it rather than its own CRC-64/NVME. Checked by
    /// removing the spool read's checksum field once (the reads lost it: failed) and the upload's checksum header
    /// once (the store kept its CRC-64/NVME: failed).
    /// </summary>
    [Fact]
    public async Task A_writers_checksum_is_answered_from_the_spool_survives_a_restart_and_reaches_the_store()
    {
        var backend = NewBackend(drainTimeout: TimeSpan.Zero);
        var result = await RunAsync(backend, NodeUnderTest.Manifest(), (ChecksumPuts + "\n" + ChecksumReads + "\n" + """
            emit({"sha": sha, "crc": crc, "puts": [s1, m1.get("ChecksumSHA256"), s2, m2.get("ChecksumCRC32")], "reads": reads})
            """).Replace("BUCKET", Bucket, StringComparison.Ordinal));
        var json = result.Json;
        var sha = json.GetProperty("sha").GetString();
        var crc = json.GetProperty("crc").GetString();
        Assert.Equal($"[200, \"{sha}\", 200, \"{crc}\"]", json.GetProperty("puts").GetRawText());
        Assert.Equal($"[200, \"{sha}\", 1000, 200, \"{crc}\"]", json.GetProperty("reads").GetRawText());
        Assert.Equal(2, backend.WriteBack!.Stats.Pending);
        await DisposeBackendAsync(backend);

        var restarted = NewBackend();
        var again = await RunAsync(restarted, NodeUnderTest.Manifest(), (ChecksumReads + "\nemit(reads)").Replace("BUCKET", Bucket, StringComparison.Ordinal));
        Assert.Equal($"[200, \"{sha}\", 1000, 200, \"{crc}\"]", again.Json.GetRawText());

        await StartStoreAsync();
        Assert.Equal(0, await restarted.WriteBack!.DrainAsync(TimeSpan.FromMinutes(1)));
        using var admin = Admin();
        var small = await admin.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = Bucket, Key = "fn/sha.bin", ChecksumMode = ChecksumMode.ENABLED });
        var large = await admin.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = Bucket, Key = "fn/crc.bin", ChecksumMode = ChecksumMode.ENABLED });
        Assert.Equal(sha, small.ChecksumSHA256);
        Assert.Equal(crc, large.ChecksumCRC32);
    }

    /// <summary>
    /// Guards "the write-back never acknowledges a put whose body does not match the checksum its writer sent": with
    /// storage down the spool is the only judge, and each wrong checksum (a small body's SHA-256, a large body's CRC32)
    /// is BadDigest as S3 answers it, with nothing pending and nothing in the journal. Checked by removing the journal's
    /// comparison once: both puts were acknowledged (failed).
    /// </summary>
    [Fact]
    public async Task A_put_whose_body_does_not_match_its_checksum_is_refused_and_never_acknowledged()
    {
        var backend = NewBackend(drainTimeout: TimeSpan.Zero);
        var result = await RunAsync(backend, NodeUnderTest.Manifest(), $$"""
            import base64, random
            wrong = base64.b64encode(hashlib.sha256(b"other bytes").digest()).decode()
            s1, m1, _ = call("PutObject", {"Bucket": "{{Bucket}}", "Key": "fn/bad-sha.bin", "ChecksumSHA256": wrong}, random.Random(3).randbytes(1000))
            s2, m2, _ = call("PutObject", {"Bucket": "{{Bucket}}", "Key": "fn/bad-crc.bin", "ChecksumCRC32": "AAAAAA=="}, random.Random(4).randbytes(300_000))
            emit([s1, m1["Error"]["Code"], m1["Error"]["Message"], s2, m2["Error"]["Code"]])
            """);
        Assert.Equal(
            "[400, \"BadDigest\", \"The x-amz-checksum-sha256 you specified did not match the calculated checksum.\", 400, \"BadDigest\"]",
            result.Json.GetRawText());
        Assert.Equal(0, backend.WriteBack!.Stats.Pending);
        Assert.Empty(SpoolJournal.Scan(Spool));
    }

    /// <summary>A sync function's put sends the writer's checksum to the store: kept when it matches, BadDigest when not.</summary>
    [Fact]
    public async Task A_sync_put_gives_the_writers_checksum_to_the_store()
    {
        await StartStoreAsync();
        var backend = NewBackend();
        var manifest = NodeUnderTest.Manifest() with { WriteBack = WriteBackMode.Sync };
        var result = await RunAsync(backend, manifest, $$"""
            s1, m1, _ = call("PutObject", {"Bucket": "{{Bucket}}", "Key": "fn/c.bin", "ChecksumCRC32C": "4waSgw=="}, b"123456789")
            s2, m2, _ = call("PutObject", {"Bucket": "{{Bucket}}", "Key": "fn/d.bin", "ChecksumCRC32C": "AAAAAA=="}, b"123456789")
            emit([s1, m1.get("ChecksumCRC32C"), s2, m2["Error"]["Code"]])
            """);

        // 0xE3069283 is CRC-32C's check value (of "123456789").
        Assert.Equal("[200, \"4waSgw==\", 400, \"BadDigest\"]", result.Json.GetRawText());
        Assert.Equal(0, backend.WriteBack!.Stats.Pending);
        using var admin = Admin();
        var head = await admin.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = Bucket, Key = "fn/c.bin", ChecksumMode = ChecksumMode.ENABLED });
        Assert.Equal("4waSgw==", head.ChecksumCRC32C);
        await Assert.ThrowsAsync<AmazonS3Exception>(() => admin.GetObjectMetadataAsync(Bucket, "fn/d.bin"));
    }
}
