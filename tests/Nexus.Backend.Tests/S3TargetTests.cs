// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text;
using System.Text.Json;
using Nexus.Backend.Services;
using Nexus.Channel.Services;
using Nexus.Functions;

namespace Nexus.Backend.Tests;

/// <summary>
/// The generic S3 path's grant check attacked directly: what a botocore-serialized S3 request reads and writes is
/// worked out from its method, path, query and copy-source header (never from the operation name the sandbox claims),
/// and must fall within the function's bucket/prefix grants.
/// </summary>
public sealed class S3TargetTests
{
    private static readonly FunctionManifest s_manifest = new()
    {
        Name = "f",
        Handler = "h.main",
        Storage =
        [
            new StorageGrant("data", "in/", StorageAccess.Read),
            new StorageGrant("data", "out/", StorageAccess.ReadWrite),
        ],
    };

    [Theory]
    [InlineData("GET", "/data/in/a", "GetObjectAcl")]
    [InlineData("HEAD", "/data/out/a?versionId=null", "HeadObject")]
    [InlineData("PUT", "/data/out/a?partNumber=1&uploadId=u", "UploadPart")]
    [InlineData("GET", "/data?uploads&prefix=in%2F", "ListMultipartUploads")]
    [InlineData("GET", "/data?versions&prefix=out%2Fx", "ListObjectVersions")]
    [InlineData("GET", "/data?location", "GetBucketLocation")]
    [InlineData("HEAD", "/data", "HeadBucket")]
    [InlineData("GET", "/data/in/a?attributes", "GetObjectAttributes")]
    [InlineData("GET", "/data/in/a?partNumber=1", "GetObject")]
    [InlineData("PUT", "/data/out/a?acl", "PutObjectAcl")]
    [InlineData("GET", "/data?acl", "GetBucketAcl")]
    public void CallsWithinTheGrantsPass(string method, string path, string operation) =>
        S3Target.Authorize(s_manifest, Request(method, path, operation), []);

    [Theory]
    [InlineData("PUT", "/data/in/a", "PutObject", "writing 'data/in/a'")]
    [InlineData("DELETE", "/data/in/a?versionId=null", "DeleteObject", "writing 'data/in/a'")]
    [InlineData("POST", "/data/in/a?uploads", "CreateMultipartUpload", "writing 'data/in/a'")]
    [InlineData("GET", "/data/secret", "GetObject", "reading 'data/secret'")]
    [InlineData("GET", "/data?uploads", "ListMultipartUploads", "reading 'data/'")]
    [InlineData("GET", "/data?versions&prefix=secret%2F", "ListObjectVersions", "reading 'data/secret/'")]
    [InlineData("GET", "/other?location", "GetBucketLocation", "reading bucket 'other'")]
    [InlineData("HEAD", "/other", "HeadBucket", "reading bucket 'other'")]
    [InlineData("PUT", "/data?cors", "PutBucketCors", "writing bucket 'data'")]
    [InlineData("DELETE", "/data", "DeleteBucket", "writing bucket 'data'")]
    [InlineData("PUT", "/data", "CreateBucket", "writing bucket 'data'")]
    [InlineData("GET", "/", "ListBuckets", "reading the bucket list")]
    [InlineData("GET", "/data/secret?attributes", "GetObjectAttributes", "reading 'data/secret'")]
    [InlineData("GET", "/data/secret?partNumber=2", "GetObject", "reading 'data/secret'")]
    [InlineData("HEAD", "/data/secret?partNumber=1", "HeadObject", "reading 'data/secret'")]
    [InlineData("PUT", "/data/in/a?acl", "PutObjectAcl", "writing 'data/in/a'")]
    [InlineData("GET", "/data/secret?acl", "GetObjectAcl", "reading 'data/secret'")]
    [InlineData("GET", "/other?acl", "GetBucketAcl", "reading bucket 'other'")]
    [InlineData("PUT", "/data?acl", "PutBucketAcl", "writing bucket 'data'")]
    public void CallsOutsideTheGrantsAreDenied(string method, string path, string operation, string why)
    {
        var e = Assert.Throws<ChannelRequestException>(() => S3Target.Authorize(s_manifest, Request(method, path, operation), []));
        Assert.Equal((403, "AccessDenied"), (e.Status, e.Code));
        Assert.Contains(why, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheClaimedOperationDecidesNothing()
    {
        // Says GetBucketLocation (a bucket-level read any grant naming the bucket allows), but lists the whole bucket:
        // S3 ignores parameters it does not know, so anything not purely configuration is checked as a listing.
        Assert.Throws<ChannelRequestException>(() => S3Target.Authorize(s_manifest, Request("GET", "/data?location&list-type=2", "GetBucketLocation"), []));
        Assert.Throws<ChannelRequestException>(() => S3Target.Authorize(s_manifest, Request("GET", "/data?unknown-thing", "GetBucketLocation"), []));
    }

    [Theory]
    [InlineData("data/secret")]
    [InlineData("/data/secret")]
    [InlineData("data%2Fsecret")]
    [InlineData("other/in/a?versionId=3")]
    public void ACopyReadsItsSourceUnderTheGrants(string source)
    {
        var request = Request("PUT", "/data/out/copy?partNumber=1&uploadId=u", "UploadPartCopy", ("x-amz-copy-source", source));
        var e = Assert.Throws<ChannelRequestException>(() => S3Target.Authorize(s_manifest, request, []));
        Assert.Equal(403, e.Status);
    }

    [Fact]
    public void ACopyFromAGrantedSourcePassesAndNamesBothObjects()
    {
        var request = Request("PUT", "/data/out/copy", "CopyObject", ("x-amz-copy-source", "data/in/a%20b"));
        var target = S3Target.Authorize(s_manifest, request, []);
        Assert.Equal(["data/out/copy:Write", "data/in/a b:Read"], target.Objects.Select(o => $"{o.Bucket}/{o.Key}:{o.Access}"));
    }

    [Theory]
    [InlineData("<Delete><Object><Key>out/a</Key></Object><Object><Key>in/b</Key></Object></Delete>")]
    [InlineData("<Delete><Object><Key>out/a</Key><Key>in/b</Key></Object></Delete>")]
    [InlineData("<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Object><Key>out/a</Key></Object><Quiet>true</Quiet><Object><VersionId>x</VersionId><Key>in/b</Key></Object></Delete>")]
    public void EveryKeyADeleteObjectsBodyNamesIsChecked(string xml)
    {
        var e = Assert.Throws<ChannelRequestException>(() => S3Target.Authorize(s_manifest, Request("POST", "/data?delete", "DeleteObjects"), Encoding.UTF8.GetBytes(xml)));
        Assert.Contains("writing 'data/in/b'", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GET", "/data/out/a?X-Amz-Credential=k", "an S3 request from the sandbox carries no X-Amz-*")]
    [InlineData("GET", "/data/out/%2E%2E/in", "'..' path segment")]
    [InlineData("GET", "/data?list-type=2&prefix=out%2F&prefix=in%2F", "names \"prefix\" twice")]
    [InlineData("POST", "/data?delete", "not valid XML")]
    public void MalformedS3RequestsAreRefused(string method, string path, string why)
    {
        var e = Assert.Throws<ChannelRequestException>(() => S3Target.Authorize(s_manifest, Request(method, path, "X"), "<Delete><!DOCTYPE"u8));
        Assert.Contains(why, e.Message, StringComparison.Ordinal);
    }

    private static ServiceRequest Request(string method, string path, string operation, params (string Name, string Value)[] headers)
    {
        var json = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["Service"] = "s3",
            ["Operation"] = operation,
            ["Method"] = method,
            ["Path"] = path,
            ["Headers"] = headers.ToDictionary(h => h.Name, h => h.Value),
        });
        using var document = JsonDocument.Parse(json);
        return ServiceRequest.Parse(document.RootElement);
    }
}
