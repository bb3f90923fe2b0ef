// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Security.Cryptography;
using Amazon.S3;
using Amazon.S3.Model;

namespace Nexus.Store.Tests;

/// <summary>
/// GetObjectAttributes and GET/HEAD ?partNumber through AWSSDK.S3: both need a multipart object's part boundaries, which
/// the object file's trailer keeps (v4), so they survive a restart.
/// </summary>
public sealed class ObjectAttributesTests(StoreFixture store) : IClassFixture<StoreFixture>
{
    private const int MiB = 1 << 20;

    private static readonly List<ObjectAttributes> s_all = [ObjectAttributes.ETag, ObjectAttributes.Checksum, ObjectAttributes.ObjectParts, ObjectAttributes.StorageClass, ObjectAttributes.ObjectSize];

    [Fact]
    public async Task A_composite_objects_attributes_list_its_parts_with_their_checksums_and_page_them()
    {
        using var client = store.ChecksumClient();
        var bucket = await StoreFixture.NewBucketAsync(client, "attr-");
        var parts = new[] { RandomNumberGenerator.GetBytes(5 * MiB), RandomNumberGenerator.GetBytes(5 * MiB), RandomNumberGenerator.GetBytes(1000) };
        var etag = await MultipartAsync(client, bucket, "k", parts, ChecksumAlgorithm.SHA256);

        // The parts are in the object file: a restarted store still knows them.
        await store.StopAsync();
        await store.StartAsync();
        using var after = store.ChecksumClient();
        var attributes = await after.GetObjectAttributesAsync(new GetObjectAttributesRequest { BucketName = bucket, Key = "k", ObjectAttributes = s_all });
        Assert.Equal(etag.Trim('"'), attributes.ETag);
        Assert.Equal(parts.Sum(p => (long)p.Length), attributes.ObjectSize);
        Assert.Equal(S3StorageClass.Standard, attributes.StorageClass);

        // As S3: the composite value without its "-N" (the part count is in ObjectParts).
        var composite = Convert.ToBase64String(SHA256.HashData([.. parts.SelectMany(SHA256.HashData)]));
        Assert.Equal(composite, attributes.Checksum.ChecksumSHA256);
        Assert.Equal(3, attributes.ObjectParts.TotalPartsCount);
        Assert.Equal([1, 2, 3], attributes.ObjectParts.Parts.Select(p => p.PartNumber));
        Assert.Equal(parts.Select(p => (long?)p.Length), attributes.ObjectParts.Parts.Select(p => p.Size));
        Assert.Equal(parts.Select(Sha256), attributes.ObjectParts.Parts.Select(p => p.ChecksumSHA256));
        Assert.False(attributes.ObjectParts.IsTruncated);

        var page = await after.GetObjectAttributesAsync(new GetObjectAttributesRequest { BucketName = bucket, Key = "k", ObjectAttributes = [ObjectAttributes.ObjectParts], MaxParts = 1, PartNumberMarker = 1 });
        Assert.True(page.ObjectParts.IsTruncated);
        Assert.Equal(2, page.ObjectParts.NextPartNumberMarker);
        Assert.Equal([2], page.ObjectParts.Parts.Select(p => p.PartNumber));
        Assert.Null(page.ETag);
        Assert.Null(page.Checksum);
    }

    [Fact]
    public async Task A_single_request_object_has_no_parts_and_a_multipart_one_without_checksums_only_a_count()
    {
        using var client = store.ChecksumClient();
        var bucket = await StoreFixture.NewBucketAsync(client, "attr-");
        await client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "one", ContentBody = "hello", StorageClass = S3StorageClass.StandardInfrequentAccess });
        var one = await client.GetObjectAttributesAsync(new GetObjectAttributesRequest { BucketName = bucket, Key = "one", ObjectAttributes = s_all });
        Assert.Null(one.ObjectParts);
        Assert.Equal(5, one.ObjectSize);
        Assert.Equal(S3StorageClass.StandardInfrequentAccess, one.StorageClass);
        Assert.Equal(Convert.ToHexStringLower(MD5.HashData("hello"u8)), one.ETag);
        Assert.NotNull(one.Checksum.ChecksumCRC64NVME);

        await MultipartAsync(client, bucket, "plain", [RandomNumberGenerator.GetBytes(5 * MiB), [1, 2, 3]], null);
        var plain = await client.GetObjectAttributesAsync(new GetObjectAttributesRequest { BucketName = bucket, Key = "plain", ObjectAttributes = s_all });
        Assert.Equal(2, plain.ObjectParts.TotalPartsCount);
        Assert.Empty(plain.ObjectParts.Parts ?? []);

        var missing = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => client.GetObjectAttributesAsync(new GetObjectAttributesRequest { BucketName = bucket, Key = "none", ObjectAttributes = s_all }));
        Assert.Equal("NoSuchKey", missing.ErrorCode);
    }

    [Fact]
    public async Task A_part_number_reads_that_part_with_its_range_and_the_part_count()
    {
        using var client = store.ChecksumClient();
        var bucket = await StoreFixture.NewBucketAsync(client, "attr-");
        var parts = new[] { RandomNumberGenerator.GetBytes(5 * MiB), RandomNumberGenerator.GetBytes(5 * MiB), RandomNumberGenerator.GetBytes(1000) };
        await MultipartAsync(client, bucket, "k", parts, ChecksumAlgorithm.SHA256);
        using (var second = await client.GetObjectAsync(new GetObjectRequest { BucketName = bucket, Key = "k", PartNumber = 2, ChecksumMode = ChecksumMode.ENABLED }))
        {
            Assert.Equal(System.Net.HttpStatusCode.PartialContent, second.HttpStatusCode);
            Assert.Equal(3, second.PartsCount);
            Assert.Equal($"bytes {5 * MiB}-{(10 * MiB) - 1}/{(10 * MiB) + 1000}", second.ContentRange);
            using var read = new MemoryStream();
            await second.ResponseStream.CopyToAsync(read);
            Assert.Equal(parts[1], read.ToArray());

            // A composite object's part answers with that part's own checksum, which its bytes match.
            Assert.Equal(Sha256(parts[1]), second.ChecksumSHA256);
        }

        var head = await client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = bucket, Key = "k", PartNumber = 3 });
        Assert.Equal(1000, head.ContentLength);
        Assert.Equal(3, head.PartsCount);

        var past = await Assert.ThrowsAsync<AmazonS3Exception>(() => client.GetObjectAsync(new GetObjectRequest { BucketName = bucket, Key = "k", PartNumber = 4 }));
        Assert.Equal(("InvalidPartNumber", 416), (past.ErrorCode, (int)past.StatusCode));
        var both = await Assert.ThrowsAsync<AmazonS3Exception>(() => client.GetObjectAsync(new GetObjectRequest { BucketName = bucket, Key = "k", PartNumber = 1, ByteRange = new ByteRange(0, 9) }));
        Assert.Equal("InvalidRequest", both.ErrorCode);

        // An object written by one request is its own part 1, and has no part 2.
        await client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "one", ContentBody = "whole object" });
        using (var whole = await client.GetObjectAsync(new GetObjectRequest { BucketName = bucket, Key = "one", PartNumber = 1 }))
        {
            Assert.Equal(System.Net.HttpStatusCode.PartialContent, whole.HttpStatusCode);
            Assert.Equal("bytes 0-11/12", whole.ContentRange);
            Assert.Null(whole.PartsCount);
            using var reader = new StreamReader(whole.ResponseStream);
            Assert.Equal("whole object", await reader.ReadToEndAsync());
        }

        var second1 = await Assert.ThrowsAsync<AmazonS3Exception>(() => client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = bucket, Key = "one", PartNumber = 2 }));
        Assert.Equal(416, (int)second1.StatusCode);
    }

    /// <summary>Uploads <paramref name="parts"/> as parts 1..N and completes; returns the ETag.</summary>
    private static async Task<string> MultipartAsync(AmazonS3Client client, string bucket, string key, byte[][] parts, ChecksumAlgorithm? algorithm)
    {
        var upload = (await client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = bucket, Key = key, ChecksumAlgorithm = algorithm })).UploadId;
        var etags = new List<PartETag>();
        for (var i = 0; i < parts.Length; i++)
        {
            var sha = algorithm is null ? null : Sha256(parts[i]);
            var part = await client.UploadPartAsync(new UploadPartRequest { BucketName = bucket, Key = key, UploadId = upload, PartNumber = i + 1, InputStream = new MemoryStream(parts[i]), ChecksumSHA256 = sha });
            etags.Add(new PartETag(i + 1, part.ETag) { ChecksumSHA256 = sha });
        }

        return (await client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest { BucketName = bucket, Key = key, UploadId = upload, PartETags = etags })).ETag;
    }

    private static string Sha256(byte[] data) => Convert.ToBase64String(SHA256.HashData(data));
}
