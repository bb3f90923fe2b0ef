// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;
using System.Security.Cryptography;
using Amazon.S3;
using Amazon.S3.Model;
using Nexus.Interop;

namespace Nexus.Store.Tests;

/// <summary>
/// S3's FULL_OBJECT multipart checksums through AWSSDK.S3: an upload created with x-amz-checksum-type FULL_OBJECT (CRCs
/// only; CRC-64/NVME always) gives the object the CRC of its whole body, and a completion stating the object's checksum
/// is checked against it (BadDigest, nothing stored, the upload kept).
/// </summary>
public sealed class FullObjectChecksumTests(StoreFixture store) : IClassFixture<StoreFixture>
{
    private const int MiB = 1 << 20;

    [Fact]
    public async Task A_full_object_crc32_upload_gives_the_crc32_of_the_whole_body_and_checks_the_completions()
    {
        using var client = store.ChecksumClient();
        var bucket = await StoreFixture.NewBucketAsync(client, "full-");
        var first = RandomNumberGenerator.GetBytes(5 * MiB);
        var second = RandomNumberGenerator.GetBytes(3000);
        var created = await client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest
        {
            BucketName = bucket,
            Key = "k",
            ChecksumAlgorithm = ChecksumAlgorithm.CRC32,
            ChecksumType = ChecksumType.FULL_OBJECT,
        });
        Assert.Equal(ChecksumType.FULL_OBJECT, created.ChecksumType);

        // The type is in the upload's file: a restarted store still completes it as FULL_OBJECT.
        await store.StopAsync();
        await store.StartAsync();
        using var after = store.ChecksumClient();
        var one = await after.UploadPartAsync(new UploadPartRequest { BucketName = bucket, Key = "k", UploadId = created.UploadId, PartNumber = 1, InputStream = new MemoryStream(first), ChecksumCRC32 = Crc32Of(first) });
        var two = await after.UploadPartAsync(new UploadPartRequest { BucketName = bucket, Key = "k", UploadId = created.UploadId, PartNumber = 2, InputStream = new MemoryStream(second), ChecksumCRC32 = Crc32Of(second) });
        var listed = await after.ListPartsAsync(new ListPartsRequest { BucketName = bucket, Key = "k", UploadId = created.UploadId });
        Assert.Equal(ChecksumType.FULL_OBJECT, listed.ChecksumType);

        var whole = Crc32Of([.. first, .. second]);
        var wrong = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => after.CompleteMultipartUploadAsync(Complete(bucket, created.UploadId, one, two, Crc32Of(first))));
        Assert.Equal("BadDigest", wrong.ErrorCode);
        Assert.Empty((await after.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket })).S3Objects ?? []);

        var done = await after.CompleteMultipartUploadAsync(Complete(bucket, created.UploadId, one, two, whole));
        Assert.Equal((whole, ChecksumType.FULL_OBJECT), (done.ChecksumCRC32, done.ChecksumType));
        var head = await after.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = bucket, Key = "k", ChecksumMode = ChecksumMode.ENABLED });
        Assert.Equal((whole, ChecksumType.FULL_OBJECT), (head.ChecksumCRC32, head.ChecksumType));

        // A full-object upload's parts are counted, not listed, by GetObjectAttributes.
        var attributes = await after.GetObjectAttributesAsync(new GetObjectAttributesRequest { BucketName = bucket, Key = "k", ObjectAttributes = [ObjectAttributes.Checksum, ObjectAttributes.ObjectParts] });
        Assert.Equal(whole, attributes.Checksum.ChecksumCRC32);
        Assert.Equal(2, attributes.ObjectParts.TotalPartsCount);
        Assert.Empty(attributes.ObjectParts.Parts ?? []);
    }

    [Fact]
    public async Task Crc64nvme_uploads_are_full_object_and_the_types_rules_are_s3s()
    {
        using var client = store.ChecksumClient();
        var bucket = await StoreFixture.NewBucketAsync(client, "full-");
        var created = await client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = bucket, Key = "n", ChecksumAlgorithm = ChecksumAlgorithm.CRC64NVME });
        Assert.Equal(ChecksumType.FULL_OBJECT, created.ChecksumType);
        var body = RandomNumberGenerator.GetBytes(1000);
        var part = await client.UploadPartAsync(new UploadPartRequest { BucketName = bucket, Key = "n", UploadId = created.UploadId, PartNumber = 1, InputStream = new MemoryStream(body) });
        var done = await client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest { BucketName = bucket, Key = "n", UploadId = created.UploadId, PartETags = [new PartETag(1, part.ETag)] });
        var crc = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(crc, Crc64Nvme.Append(0, body));
        Assert.Equal(Convert.ToBase64String(crc), done.ChecksumCRC64NVME);

        foreach (var (algorithm, type, message) in new[]
        {
            (ChecksumAlgorithm.SHA256, ChecksumType.FULL_OBJECT, "The FULL_OBJECT checksum type cannot be used with the sha256 checksum algorithm."),
            (ChecksumAlgorithm.CRC64NVME, ChecksumType.COMPOSITE, "The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm."),
            (null, ChecksumType.FULL_OBJECT, "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header."),
        })
        {
            var error = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = bucket, Key = "x", ChecksumAlgorithm = algorithm, ChecksumType = type }));
            Assert.Equal(("InvalidRequest", message), (error.ErrorCode, error.Message));
        }
    }

    [Fact]
    public async Task A_composite_completion_stating_another_objects_checksum_stores_nothing()
    {
        using var client = store.ChecksumClient();
        var bucket = await StoreFixture.NewBucketAsync(client, "full-");
        var body = RandomNumberGenerator.GetBytes(2000);
        var created = await client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = bucket, Key = "c", ChecksumAlgorithm = ChecksumAlgorithm.CRC32 });
        Assert.Equal(ChecksumType.COMPOSITE, created.ChecksumType);
        var part = await client.UploadPartAsync(new UploadPartRequest { BucketName = bucket, Key = "c", UploadId = created.UploadId, PartNumber = 1, InputStream = new MemoryStream(body), ChecksumCRC32 = Crc32Of(body) });
        var request = new CompleteMultipartUploadRequest { BucketName = bucket, Key = "c", UploadId = created.UploadId, PartETags = [new PartETag(1, part.ETag) { ChecksumCRC32 = Crc32Of(body) }], ChecksumCRC32 = Crc32Of(body) };
        Assert.Equal("BadDigest", (await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => client.CompleteMultipartUploadAsync(request))).ErrorCode);

        // The composite (CRC32 of the part's CRC32, "-1") is what the object's checksum is.
        var composite = Crc32Of(Convert.FromBase64String(Crc32Of(body))) + "-1";
        request.ChecksumCRC32 = composite;
        Assert.Equal(composite, (await client.CompleteMultipartUploadAsync(request)).ChecksumCRC32);
    }

    private static CompleteMultipartUploadRequest Complete(string bucket, string upload, UploadPartResponse one, UploadPartResponse two, string wholeCrc32) => new()
    {
        BucketName = bucket,
        Key = "k",
        UploadId = upload,
        PartETags = [new PartETag(1, one.ETag) { ChecksumCRC32 = one.ChecksumCRC32 }, new PartETag(2, two.ETag) { ChecksumCRC32 = two.ChecksumCRC32 }],
        ChecksumType = ChecksumType.FULL_OBJECT,
        ChecksumCRC32 = wholeCrc32,
    };

    private static string Crc32Of(byte[] data)
    {
        var value = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(value, Crc32.Append(0, data));
        return Convert.ToBase64String(value);
    }
}
