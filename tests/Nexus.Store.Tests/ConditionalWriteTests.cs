// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net;
using Amazon.S3;
using Amazon.S3.Model;

namespace Nexus.Store.Tests;

/// <summary>
/// S3's conditional deletes and writes through AWSSDK.S3, which sends them (DeleteObject If-Match, x-amz-if-match-size,
/// x-amz-if-match-last-modified-time; DeleteObjects entries' ETag; If-Match / If-None-Match on PutObject, CopyObject and
/// CompleteMultipartUpload). Guards the conditions in S3Handler.Deletes.cs: each was ignored before (a delete stating
/// another ETag deleted the object, a copy or multipart completion with If-None-Match: * overwrote one) and each test
/// failed with its condition dropped, once.
/// </summary>
public sealed class ConditionalWriteTests(StoreFixture store) : IClassFixture<StoreFixture>
{
    private async Task<(AmazonS3Client Client, string Bucket)> BucketAsync()
    {
        var client = store.Client();
        var bucket = "cond-" + Guid.NewGuid().ToString("N")[..12];
        await client.PutBucketAsync(bucket);
        return (client, bucket);
    }

    private static async Task<string> PutAsync(AmazonS3Client client, string bucket, string key, string body) =>
        (await client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = key, ContentBody = body })).ETag;

    private static async Task<bool> ExistsAsync(AmazonS3Client client, string bucket, string key)
    {
        try
        {
            await client.GetObjectMetadataAsync(bucket, key);
            return true;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    private static async Task AssertRefusedAsync(HttpStatusCode status, string code, Func<Task> act)
    {
        var e = await Assert.ThrowsAnyAsync<AmazonS3Exception>(act);
        Assert.Equal((status, code), (e.StatusCode, e.ErrorCode));
    }

    [Fact]
    public async Task A_delete_stating_a_condition_deletes_only_while_it_holds()
    {
        var (client, bucket) = await BucketAsync();
        using var _ = client;
        var etag = await PutAsync(client, bucket, "k", "first");
        var modified = (await client.GetObjectMetadataAsync(bucket, "k")).LastModified!.Value;

        await AssertRefusedAsync(HttpStatusCode.PreconditionFailed, "PreconditionFailed", () => client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = bucket, Key = "k", IfMatch = "\"0123456789abcdef0123456789abcdef\"" }));
        await AssertRefusedAsync(HttpStatusCode.PreconditionFailed, "PreconditionFailed", () => client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = bucket, Key = "k", IfMatchSize = 4 }));
        await AssertRefusedAsync(HttpStatusCode.PreconditionFailed, "PreconditionFailed", () => client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = bucket, Key = "k", IfMatchLastModifiedTime = modified.AddHours(-1) }));
        Assert.True(await ExistsAsync(client, bucket, "k"));

        await client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = bucket, Key = "k", IfMatch = etag, IfMatchSize = 5, IfMatchLastModifiedTime = modified });
        Assert.False(await ExistsAsync(client, bucket, "k"));

        // If-Match asks that an object be there (S3: 404 NoSuchKey); a size or time alone does not.
        await AssertRefusedAsync(HttpStatusCode.NotFound, "NoSuchKey", () => client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = bucket, Key = "k", IfMatch = "*" }));
        await client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = bucket, Key = "k", IfMatchSize = 5 });
        await PutAsync(client, bucket, "k", "again");
        await client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = bucket, Key = "k", IfMatch = "*" });
        Assert.False(await ExistsAsync(client, bucket, "k"));
    }

    [Fact]
    public async Task A_batch_delete_entry_stating_another_etag_fails_alone()
    {
        var (client, bucket) = await BucketAsync();
        using var _ = client;
        var etag = await PutAsync(client, bucket, "a", "a");
        await PutAsync(client, bucket, "b", "b");
        var result = await Assert.ThrowsAsync<DeleteObjectsException>(() => client.DeleteObjectsAsync(new DeleteObjectsRequest
        {
            BucketName = bucket,
            Objects = [new KeyVersion { Key = "a", ETag = etag }, new KeyVersion { Key = "b", ETag = "\"0123456789abcdef0123456789abcdef\"" }, new KeyVersion { Key = "c", ETag = etag }],
        }));
        Assert.Equal(["a"], result.Response.DeletedObjects.Select(d => d.Key));
        Assert.Equal([("b", "PreconditionFailed"), ("c", "NoSuchKey")], result.Response.DeleteErrors.Select(e => (e.Key, e.Code)).OrderBy(e => e.Key));
        Assert.False(await ExistsAsync(client, bucket, "a"));
        Assert.True(await ExistsAsync(client, bucket, "b"));
    }

    [Fact]
    public async Task A_write_stating_a_condition_on_the_object_it_replaces_writes_only_while_it_holds()
    {
        var (client, bucket) = await BucketAsync();
        using var _ = client;
        await AssertRefusedAsync(HttpStatusCode.NotFound, "NoSuchKey", () => client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "new", ContentBody = "x", IfMatch = "*" }));
        Assert.False(await ExistsAsync(client, bucket, "new"));

        await PutAsync(client, bucket, "source", "source");
        await PutAsync(client, bucket, "target", "kept");
        await AssertRefusedAsync(HttpStatusCode.PreconditionFailed, "PreconditionFailed", () => client.CopyObjectAsync(new CopyObjectRequest { SourceBucket = bucket, SourceKey = "source", DestinationBucket = bucket, DestinationKey = "target", IfNoneMatch = "*" }));

        var upload = await client.InitiateMultipartUploadAsync(bucket, "target");
        var part = await client.UploadPartAsync(new UploadPartRequest { BucketName = bucket, Key = "target", UploadId = upload.UploadId, PartNumber = 1, InputStream = new MemoryStream("assembled"u8.ToArray()) });
        var complete = new CompleteMultipartUploadRequest { BucketName = bucket, Key = "target", UploadId = upload.UploadId, PartETags = [new PartETag(1, part.ETag)], IfNoneMatch = "*" };
        await AssertRefusedAsync(HttpStatusCode.PreconditionFailed, "PreconditionFailed", () => client.CompleteMultipartUploadAsync(complete));
        using (var kept = await client.GetObjectAsync(bucket, "target"))
        {
            Assert.Equal("kept", await new StreamReader(kept.ResponseStream).ReadToEndAsync());
        }

        // The refused completion kept its upload: completed without the condition, it replaces the object.
        complete.IfNoneMatch = null;
        await client.CompleteMultipartUploadAsync(complete);
        using var assembled = await client.GetObjectAsync(bucket, "target");
        Assert.Equal("assembled", await new StreamReader(assembled.ResponseStream).ReadToEndAsync());
    }
}
