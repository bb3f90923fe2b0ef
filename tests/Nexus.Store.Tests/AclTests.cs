// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Amazon.S3;
using Amazon.S3.Model;

namespace Nexus.Store.Tests;

/// <summary>
/// ACLs as S3 answers them with its default Object Ownership (BucketOwnerEnforced, ACLs disabled), through AWSSDK.S3:
/// reads show the owner's FULL_CONTROL; only the bucket-owner-full-control ACL may be stated; every other ACL, on any
/// write, is 400 AccessControlListNotSupported and changes nothing.
/// </summary>
public sealed class AclTests(StoreFixture store) : IClassFixture<StoreFixture>
{
    [Fact]
    public async Task Acl_reads_show_the_owner_with_full_control()
    {
        using var client = store.Client();
        var bucket = await NewBucketAsync(client);
        await client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "k", ContentBody = "x" });
        var objectAcl = await client.GetObjectAclAsync(new GetObjectAclRequest { BucketName = bucket, Key = "k" });
        var bucketAcl = await client.GetBucketAclAsync(new GetBucketAclRequest { BucketName = bucket });
        foreach (var (owner, grants) in new[] { (objectAcl.Owner, objectAcl.Grants), (bucketAcl.Owner, bucketAcl.Grants) })
        {
            Assert.Equal("nexus", owner.Id);
            var grant = Assert.Single(grants);
            Assert.Equal(S3Permission.FULL_CONTROL, grant.Permission);
            Assert.Equal(GranteeType.CanonicalUser, grant.Grantee.Type);
            Assert.Equal("nexus", grant.Grantee.CanonicalUser);
        }

        var missing = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => client.GetObjectAclAsync(new GetObjectAclRequest { BucketName = bucket, Key = "none" }));
        Assert.Equal("NoSuchKey", missing.ErrorCode);
    }

    [Fact]
    public async Task Only_the_owners_full_control_may_be_stated_on_a_write()
    {
        using var client = store.Client();
        var bucket = await NewBucketAsync(client);
        await client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "owner", ContentBody = "x", CannedACL = S3CannedACL.BucketOwnerFullControl });
        await client.PutObjectAclAsync(new PutObjectAclRequest { BucketName = bucket, Key = "owner", ACL = S3CannedACL.BucketOwnerFullControl });

        // S3's documented rule: "private" too is an ACL other than bucket-owner-full-control.
        foreach (var refused in new Func<Task>[]
        {
            () => client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "public", ContentBody = "x", CannedACL = S3CannedACL.PublicRead }),
            () => client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "private", ContentBody = "x", CannedACL = S3CannedACL.Private }),
            () => client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "granted", ContentBody = "x", Grants = [new S3Grant { Grantee = new S3Grantee { CanonicalUser = "someone-else" }, Permission = S3Permission.READ }] }),
            () => client.CopyObjectAsync(new CopyObjectRequest { SourceBucket = bucket, SourceKey = "owner", DestinationBucket = bucket, DestinationKey = "copy", CannedACL = S3CannedACL.PublicRead }),
            () => client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = bucket, Key = "upload", CannedACL = S3CannedACL.AuthenticatedRead }),
            () => client.PutObjectAclAsync(new PutObjectAclRequest { BucketName = bucket, Key = "owner", ACL = S3CannedACL.PublicReadWrite }),
            () => client.PutBucketAclAsync(new PutBucketAclRequest { BucketName = bucket, ACL = S3CannedACL.PublicRead }),
        })
        {
            var error = await Assert.ThrowsAnyAsync<AmazonS3Exception>(refused);
            Assert.Equal(("AccessControlListNotSupported", 400, "The bucket does not allow ACLs"), (error.ErrorCode, (int)error.StatusCode, error.Message));
        }

        var listed = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket });
        Assert.Equal(["owner"], listed.S3Objects.Select(o => o.Key));
        Assert.Empty((await client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = bucket })).MultipartUploads ?? []);
    }

    [Fact]
    public async Task An_acl_policy_is_accepted_only_when_it_grants_the_owner_full_control_alone()
    {
        using var client = store.Client();
        var bucket = await NewBucketAsync(client);
        await client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "k", ContentBody = "x" });
        var owner = new Owner { Id = "nexus" };
        await client.PutObjectAclAsync(new PutObjectAclRequest
        {
            BucketName = bucket,
            Key = "k",
            AccessControlPolicy = new S3AccessControlList { Owner = owner, Grants = [new S3Grant { Grantee = new S3Grantee { CanonicalUser = "nexus" }, Permission = S3Permission.FULL_CONTROL }] },
        });
        var error = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => client.PutObjectAclAsync(new PutObjectAclRequest
        {
            BucketName = bucket,
            Key = "k",
            AccessControlPolicy = new S3AccessControlList
            {
                Owner = owner,
                Grants =
                [
                    new S3Grant { Grantee = new S3Grantee { CanonicalUser = "nexus" }, Permission = S3Permission.FULL_CONTROL },
                    new S3Grant { Grantee = new S3Grantee { URI = "http://acs.amazonaws.com/groups/global/AllUsers" }, Permission = S3Permission.READ },
                ],
            },
        }));
        Assert.Equal("AccessControlListNotSupported", error.ErrorCode);
    }

    [Fact]
    public async Task A_scoped_key_reads_and_writes_acls_only_within_its_grant()
    {
        using var admin = store.Client();
        await StoreFixture.EnsureBucketAsync(admin, StoreFixture.ScopedBucket);
        await admin.PutObjectAsync(new PutObjectRequest { BucketName = StoreFixture.ScopedBucket, Key = "secret-acl", ContentBody = "x" });
        await admin.PutObjectAsync(new PutObjectRequest { BucketName = StoreFixture.ScopedBucket, Key = StoreFixture.ScopedPrefix + "acl", ContentBody = "x" });
        using var scoped = store.Client(StoreFixture.ScopedAccessKey, StoreFixture.ScopedSecretKey);
        await scoped.GetObjectAclAsync(new GetObjectAclRequest { BucketName = StoreFixture.ScopedBucket, Key = StoreFixture.ScopedPrefix + "acl" });
        foreach (var denied in new Func<Task>[]
        {
            () => scoped.GetObjectAclAsync(new GetObjectAclRequest { BucketName = StoreFixture.ScopedBucket, Key = "secret-acl" }),
            () => scoped.PutObjectAclAsync(new PutObjectAclRequest { BucketName = StoreFixture.ScopedBucket, Key = "secret-acl", ACL = S3CannedACL.BucketOwnerFullControl }),
            () => scoped.PutBucketAclAsync(new PutBucketAclRequest { BucketName = StoreFixture.ScopedBucket, ACL = S3CannedACL.BucketOwnerFullControl }),
        })
        {
            Assert.Equal("AccessDenied", (await Assert.ThrowsAnyAsync<AmazonS3Exception>(denied)).ErrorCode);
        }
    }

    private static async Task<string> NewBucketAsync(AmazonS3Client client)
    {
        var name = "acl-" + Guid.NewGuid().ToString("N")[..12];
        await client.PutBucketAsync(name);
        return name;
    }
}
