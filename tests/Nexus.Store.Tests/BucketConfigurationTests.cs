// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net;
using Amazon.S3;
using Amazon.S3.Model;

namespace Nexus.Store.Tests;

/// <summary>
/// The bucket configurations and object lock the store cannot hold, through AWSSDK.S3: a function's key learns what it
/// may not read before what is not configured, and a write asking for object lock is refused, not stored unlocked.
/// (Each configuration's answer with boto3: clients/boto3_check.py.)
/// </summary>
public sealed class BucketConfigurationTests(StoreFixture store) : IClassFixture<StoreFixture>
{
    [Fact]
    public async Task A_function_key_without_a_bucket_grant_is_denied_a_configuration_before_it_is_told_there_is_none()
    {
        using var admin = store.Client();
        await StoreFixture.EnsureBucketAsync(admin, StoreFixture.ScopedBucket);
        using var scoped = store.Client(StoreFixture.ScopedAccessKey, StoreFixture.ScopedSecretKey);
        foreach (var read in new Func<Task>[]
        {
            () => scoped.GetPublicAccessBlockAsync(new GetPublicAccessBlockRequest { BucketName = StoreFixture.ScopedBucket }),
            () => scoped.GetBucketPolicyStatusAsync(new GetBucketPolicyStatusRequest { BucketName = StoreFixture.ScopedBucket }),
            () => scoped.ListBucketMetricsConfigurationsAsync(new ListBucketMetricsConfigurationsRequest { BucketName = StoreFixture.ScopedBucket }),
            () => scoped.GetObjectLockConfigurationAsync(new GetObjectLockConfigurationRequest { BucketName = StoreFixture.ScopedBucket }),
        })
        {
            var error = await Assert.ThrowsAnyAsync<AmazonS3Exception>(read);
            Assert.Equal(("AccessDenied", HttpStatusCode.Forbidden), (error.ErrorCode, error.StatusCode));
        }

        // The node's key reads them: the defaults S3 applies, or S3's "not configured" error.
        var block = await admin.GetPublicAccessBlockAsync(new GetPublicAccessBlockRequest { BucketName = StoreFixture.ScopedBucket });
        Assert.True(block.PublicAccessBlockConfiguration.BlockPublicAcls);
        Assert.True(block.PublicAccessBlockConfiguration.RestrictPublicBuckets);
        var lockConfiguration = await Assert.ThrowsAnyAsync<AmazonS3Exception>(
            () => admin.GetObjectLockConfigurationAsync(new GetObjectLockConfigurationRequest { BucketName = StoreFixture.ScopedBucket }));
        Assert.Equal(("ObjectLockConfigurationNotFoundError", HttpStatusCode.NotFound), (lockConfiguration.ErrorCode, lockConfiguration.StatusCode));
    }

    [Fact]
    public async Task An_objects_retention_is_read_within_the_grant_and_answered_as_for_a_bucket_without_object_lock()
    {
        using var admin = store.Client();
        await StoreFixture.EnsureBucketAsync(admin, StoreFixture.ScopedBucket);
        await admin.PutObjectAsync(new PutObjectRequest { BucketName = StoreFixture.ScopedBucket, Key = "secret-retention", ContentBody = "x" });
        await admin.PutObjectAsync(new PutObjectRequest { BucketName = StoreFixture.ScopedBucket, Key = StoreFixture.ScopedPrefix + "retention", ContentBody = "x" });
        using var scoped = store.Client(StoreFixture.ScopedAccessKey, StoreFixture.ScopedSecretKey);

        var denied = await Assert.ThrowsAnyAsync<AmazonS3Exception>(
            () => scoped.GetObjectRetentionAsync(new GetObjectRetentionRequest { BucketName = StoreFixture.ScopedBucket, Key = "secret-retention" }));
        Assert.Equal("AccessDenied", denied.ErrorCode);
        var unlocked = await Assert.ThrowsAnyAsync<AmazonS3Exception>(
            () => scoped.GetObjectRetentionAsync(new GetObjectRetentionRequest { BucketName = StoreFixture.ScopedBucket, Key = StoreFixture.ScopedPrefix + "retention" }));
        Assert.Equal(("InvalidRequest", HttpStatusCode.BadRequest, "Bucket is missing Object Lock Configuration"), (unlocked.ErrorCode, unlocked.StatusCode, unlocked.Message));
    }

    [Fact]
    public async Task A_write_asking_for_object_lock_is_refused_and_stores_nothing()
    {
        using var client = store.Client();
        var bucket = await StoreFixture.NewBucketAsync(client, "lock-");
        await client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "source", ContentBody = "source" });
        var until = DateTime.UtcNow.AddDays(1);
        foreach (var (key, write) in new (string, Func<Task>)[]
        {
            ("put", () => client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "put", ContentBody = "x", ObjectLockMode = ObjectLockMode.Governance, ObjectLockRetainUntilDate = until })),
            ("held", () => client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "held", ContentBody = "x", ObjectLockLegalHoldStatus = ObjectLockLegalHoldStatus.On })),
            ("copy", () => client.CopyObjectAsync(new CopyObjectRequest { SourceBucket = bucket, SourceKey = "source", DestinationBucket = bucket, DestinationKey = "copy", ObjectLockMode = ObjectLockMode.Compliance, ObjectLockRetainUntilDate = until })),
            ("upload", () => client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = bucket, Key = "upload", ObjectLockMode = ObjectLockMode.Governance, ObjectLockRetainUntilDate = until })),
        })
        {
            var error = await Assert.ThrowsAnyAsync<AmazonS3Exception>(write);
            Assert.Equal(("InvalidRequest", HttpStatusCode.BadRequest, "Bucket is missing Object Lock Configuration"), (error.ErrorCode, error.StatusCode, error.Message));
            var missing = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => client.GetObjectMetadataAsync(bucket, key));
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }

        Assert.Empty((await client.ListMultipartUploadsAsync(bucket)).MultipartUploads ?? []);
    }
}
