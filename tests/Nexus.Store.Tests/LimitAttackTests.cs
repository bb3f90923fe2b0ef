// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Amazon.S3;
using Amazon.S3.Model;

namespace Nexus.Store.Tests;

/// <summary>Attacks on the store's own request limits, through the AWS SDK (docs/threat-model.md, "Oversized input").</summary>
public sealed class LimitAttackTests : IClassFixture<StoreFixture>
{
    private readonly StoreFixture _store;

    public LimitAttackTests(StoreFixture store)
    {
        _store = store;
    }

    /// <summary>
    /// Guards the store's 1000-key cap of DeleteObjects (S3Handler.DeleteObjectsAsync): 1001 keys are refused whole
    /// with MalformedXML and nothing is deleted. With the cap removed the store deleted all 1001 and this test failed.
    /// </summary>
    [Fact]
    public async Task DeleteObjectsWithMoreThan1000KeysIsRefusedWhole()
    {
        using var client = _store.Client();
        var bucket = "limit-" + Guid.NewGuid().ToString("N")[..12];
        await client.PutBucketAsync(bucket);
        await client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "keep", ContentBody = "kept" });
        var keys = new List<KeyVersion> { new() { Key = "keep" } };
        keys.AddRange(Enumerable.Range(0, 1000).Select(i => new KeyVersion { Key = $"k{i}" }));

        var refused = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => client.DeleteObjectsAsync(new DeleteObjectsRequest { BucketName = bucket, Objects = keys }));
        Assert.Equal("MalformedXML", refused.ErrorCode);
        using var kept = await client.GetObjectAsync(bucket, "keep");
        Assert.Equal("kept", await new StreamReader(kept.ResponseStream).ReadToEndAsync());

        // Control: exactly 1000 keys is allowed.
        var deleted = await client.DeleteObjectsAsync(new DeleteObjectsRequest { BucketName = bucket, Objects = keys[..1000] });
        Assert.Equal(1000, deleted.DeletedObjects.Count);
    }
}
