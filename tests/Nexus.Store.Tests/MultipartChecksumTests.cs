// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Security.Cryptography;
using Amazon.S3;
using Amazon.S3.Model;

namespace Nexus.Store.Tests;

/// <summary>
/// S3's multipart checksums in the store: an upload created with a ChecksumAlgorithm keeps every part's checksum, refuses
/// a part that does not match its checksum, and completes only with the parts' checksums, into a COMPOSITE object checksum.
/// </summary>
public sealed class MultipartChecksumTests : IClassFixture<StoreFixture>
{
    private const int MiB = 1 << 20;
    private readonly StoreFixture _store;

    public MultipartChecksumTests(StoreFixture store)
    {
        _store = store;
    }

    [Fact]
    public async Task An_upload_with_sha256_keeps_its_part_checksums_and_the_object_their_composite()
    {
        using var client = _store.ChecksumClient();
        var bucket = await StoreFixture.NewBucketAsync(client, "mpck-");
        var first = RandomNumberGenerator.GetBytes(5 * MiB);
        var second = RandomNumberGenerator.GetBytes(1000);
        var created = await client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = bucket, Key = "k", ChecksumAlgorithm = ChecksumAlgorithm.SHA256 });
        Assert.Equal(ChecksumAlgorithm.SHA256, created.ChecksumAlgorithm);

        // The algorithm is in the upload's file: a restarted store still keeps the parts' checksums.
        await _store.StopAsync();
        await _store.StartAsync();
        using var after = _store.ChecksumClient();
        var one = await UploadAsync(after, bucket, created.UploadId, 1, first, Sha256(first));
        var two = await UploadAsync(after, bucket, created.UploadId, 2, second, Sha256(second));
        Assert.Equal(Sha256(first), one.ChecksumSHA256);

        var listed = await after.ListPartsAsync(new ListPartsRequest { BucketName = bucket, Key = "k", UploadId = created.UploadId });
        Assert.Equal(ChecksumAlgorithm.SHA256, listed.ChecksumAlgorithm);
        Assert.Equal([Sha256(first), Sha256(second)], listed.Parts.Select(p => p.ChecksumSHA256));

        var done = await after.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
        {
            BucketName = bucket,
            Key = "k",
            UploadId = created.UploadId,
            PartETags = [Part(1, one.ETag, Sha256(first)), Part(2, two.ETag, Sha256(second))],
        });

        // S3's composite: SHA-256 of the parts' raw SHA-256 digests, then "-" and the part count.
        var composite = Convert.ToBase64String(SHA256.HashData([.. SHA256.HashData(first), .. SHA256.HashData(second)])) + "-2";
        Assert.Equal(composite, done.ChecksumSHA256);
        Assert.Equal(ChecksumType.COMPOSITE, done.ChecksumType);
        var head = await after.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = bucket, Key = "k", ChecksumMode = ChecksumMode.ENABLED });
        Assert.Equal(composite, head.ChecksumSHA256);
        Assert.Equal(ChecksumType.COMPOSITE, head.ChecksumType);
        Assert.Null(head.ChecksumCRC64NVME);
    }

    [Fact]
    public async Task A_part_whose_body_does_not_match_its_checksum_is_refused_and_not_kept()
    {
        using var client = _store.ChecksumClient();
        var bucket = await StoreFixture.NewBucketAsync(client, "mpck-");
        var upload = (await client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = bucket, Key = "k", ChecksumAlgorithm = ChecksumAlgorithm.SHA256 })).UploadId;
        var error = await Assert.ThrowsAsync<AmazonS3Exception>(() => UploadAsync(client, bucket, upload, 1, "these bytes"u8.ToArray(), Sha256("other bytes"u8.ToArray())));
        Assert.Equal("BadDigest", error.ErrorCode);
        var listed = await client.ListPartsAsync(new ListPartsRequest { BucketName = bucket, Key = "k", UploadId = upload });
        Assert.Empty(listed.Parts ?? []);
    }

    [Fact]
    public async Task A_part_checksum_of_another_algorithm_than_the_uploads_is_refused()
    {
        using var client = _store.ChecksumClient();
        var bucket = await StoreFixture.NewBucketAsync(client, "mpck-");
        var body = "part"u8.ToArray();
        var sha1 = (await client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = bucket, Key = "k", ChecksumAlgorithm = ChecksumAlgorithm.SHA1 })).UploadId;
        var error = await Assert.ThrowsAsync<AmazonS3Exception>(() => UploadAsync(client, bucket, sha1, 1, body, Sha256(body)));
        Assert.Equal("InvalidRequest", error.ErrorCode);
        Assert.Contains("expected checksum Type: sha1, actual checksum Type: sha256", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task On_an_upload_without_an_algorithm_a_part_checksum_is_checked_but_not_kept()
    {
        // As S3 since SDKs send a default checksum with every part: checked, answered, not a composite's part.
        using var client = _store.ChecksumClient();
        var bucket = await StoreFixture.NewBucketAsync(client, "mpck-");
        var plain = (await client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = bucket, Key = "k" })).UploadId;
        var body = "part"u8.ToArray();
        var bad = await Assert.ThrowsAsync<AmazonS3Exception>(() => UploadAsync(client, bucket, plain, 1, body, Sha256("not the part"u8.ToArray())));
        Assert.Equal("BadDigest", bad.ErrorCode);
        var part = await UploadAsync(client, bucket, plain, 1, body, Sha256(body));
        Assert.Equal(Sha256(body), part.ChecksumSHA256);
        var listed = await client.ListPartsAsync(new ListPartsRequest { BucketName = bucket, Key = "k", UploadId = plain });
        Assert.Null(Assert.Single(listed.Parts).ChecksumSHA256);

        var done = await CompleteAsync(client, bucket, plain, new PartETag(1, part.ETag));
        Assert.Null(done.ChecksumSHA256);
        var head = await client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = bucket, Key = "k", ChecksumMode = ChecksumMode.ENABLED });
        Assert.NotNull(head.ChecksumCRC64NVME);
        Assert.Equal(ChecksumType.FULL_OBJECT, head.ChecksumType);
    }

    [Fact]
    public async Task Completing_needs_every_parts_own_checksum()
    {
        using var client = _store.ChecksumClient();
        var bucket = await StoreFixture.NewBucketAsync(client, "mpck-");
        var upload = (await client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = bucket, Key = "k", ChecksumAlgorithm = ChecksumAlgorithm.SHA256 })).UploadId;
        var body = "the only part"u8.ToArray();
        var part = await UploadAsync(client, bucket, upload, 1, body, Sha256(body));

        var missing = await Assert.ThrowsAsync<AmazonS3Exception>(() => CompleteAsync(client, bucket, upload, new PartETag(1, part.ETag)));
        Assert.Equal("InvalidRequest", missing.ErrorCode);
        Assert.Contains("It was missing for part 1", missing.Message, StringComparison.Ordinal);

        // A checksum that is not the part's: the composite would not be the object's.
        var wrong = await Assert.ThrowsAsync<AmazonS3Exception>(() => CompleteAsync(client, bucket, upload, Part(1, part.ETag, Sha256("not it"u8.ToArray()))));
        Assert.Equal("InvalidPart", wrong.ErrorCode);

        var done = await CompleteAsync(client, bucket, upload, Part(1, part.ETag, Sha256(body)));
        Assert.Equal(Convert.ToBase64String(SHA256.HashData(SHA256.HashData(body))) + "-1", done.ChecksumSHA256);
    }

    private static Task<UploadPartResponse> UploadAsync(AmazonS3Client client, string bucket, string upload, int number, byte[] body, string sha256) =>
        client.UploadPartAsync(new UploadPartRequest { BucketName = bucket, Key = "k", UploadId = upload, PartNumber = number, InputStream = new MemoryStream(body), ChecksumSHA256 = sha256 });

    private static Task<CompleteMultipartUploadResponse> CompleteAsync(AmazonS3Client client, string bucket, string upload, PartETag part) =>
        client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest { BucketName = bucket, Key = "k", UploadId = upload, PartETags = [part] });

    private static PartETag Part(int number, string etag, string sha256) => new(number, etag) { ChecksumSHA256 = sha256 };

    private static string Sha256(byte[] data) => Convert.ToBase64String(SHA256.HashData(data));
}
