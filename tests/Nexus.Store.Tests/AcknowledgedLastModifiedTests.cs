// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Amazon.S3.Model;

namespace Nexus.Store.Tests;

/// <summary>
/// <c>x-nexus-last-modified</c>: a node's write-back upload names the time the node acknowledged the write, which the
/// function already read as the object's LastModified; the store keeps it, but only from a full-access key.
/// </summary>
public sealed class AcknowledgedLastModifiedTests(StoreFixture store) : IClassFixture<StoreFixture>
{
    private static readonly DateTime s_acknowledged = new(2026, 1, 2, 3, 4, 5, 678, DateTimeKind.Utc);

    [Fact]
    public async Task The_full_access_key_sets_the_last_modified_of_its_put()
    {
        using var client = store.Client();
        await client.PutBucketAsync("acked");
        await client.PutObjectAsync(Put("acked", "k"));
        var listed = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "acked" });
        Assert.Equal(s_acknowledged, listed.S3Objects.Single().LastModified!.Value.ToUniversalTime());
        Assert.Equal(s_acknowledged.AddMilliseconds(-678), (await client.GetObjectMetadataAsync("acked", "k")).LastModified!.Value.ToUniversalTime());
    }

    /// <summary>
    /// Guards "a scoped key cannot date its objects" (a baseline function's key could otherwise make its output look
    /// older or newer than it is). Checked by removing the full-access condition once: the object kept the named time (failed).
    /// </summary>
    [Fact]
    public async Task A_scoped_key_cannot_set_the_last_modified_of_its_put()
    {
        using (var admin = store.Client())
        {
            await admin.PutBucketAsync(StoreFixture.ScopedBucket);
        }

        using var scoped = store.Client(StoreFixture.ScopedAccessKey, StoreFixture.ScopedSecretKey);
        var before = DateTime.UtcNow.AddSeconds(-1);
        await scoped.PutObjectAsync(Put(StoreFixture.ScopedBucket, StoreFixture.ScopedPrefix + "dated"));
        var modified = (await scoped.GetObjectMetadataAsync(StoreFixture.ScopedBucket, StoreFixture.ScopedPrefix + "dated")).LastModified!.Value.ToUniversalTime();
        Assert.True(modified >= before.AddSeconds(-1), $"LastModified {modified:O} is not the store's time (after {before:O})");
    }

    /// <summary>
    /// Guards "the holder of a presigned URL cannot date the object" (AcknowledgedAt asks for a header-signed request
    /// whose signature covers the header): a presigned PUT signed with the full-access key, the node's, sent with
    /// x-nexus-last-modified: 0 was stored as of 1970 (found 2026-12-06). Failed with those two conditions removed, once.
    /// </summary>
    [Fact]
    public async Task The_holder_of_a_presigned_url_cannot_set_the_last_modified_of_its_put()
    {
        using var client = store.Client();
        await client.PutBucketAsync("acked-presigned");
        var url = await client.GetPreSignedURLAsync(new GetPreSignedUrlRequest { BucketName = "acked-presigned", Key = "k", Verb = Amazon.S3.HttpVerb.PUT, Expires = DateTime.UtcNow.AddMinutes(5), Protocol = Amazon.S3.Protocol.HTTP });
        using var http = new HttpClient();
        using var put = new HttpRequestMessage(HttpMethod.Put, url) { Content = new StringContent("dated by the holder") };
        put.Headers.TryAddWithoutValidation("x-nexus-last-modified", "0");
        var before = DateTime.UtcNow.AddSeconds(-1);
        using (var response = await http.SendAsync(put))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        }

        var modified = (await client.GetObjectMetadataAsync("acked-presigned", "k")).LastModified!.Value.ToUniversalTime();
        Assert.True(modified >= before.AddSeconds(-1), $"LastModified {modified:O} is not the store's time (after {before:O})");
    }

    private static PutObjectRequest Put(string bucket, string key)
    {
        var put = new PutObjectRequest { BucketName = bucket, Key = key, ContentBody = "acknowledged" };
        put.Headers["x-nexus-last-modified"] = new DateTimeOffset(s_acknowledged).ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        return put;
    }
}
