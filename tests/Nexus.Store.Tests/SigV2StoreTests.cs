// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Net;
using Amazon.S3;
using Amazon.S3.Model;

namespace Nexus.Store.Tests;

/// <summary>
/// SigV2 through the running store: a presigned URL's query headers are applied as signed, the credential's grants hold
/// for SigV2 as for SigV4, and an unsigned operation parameter changes nothing. Real boto3's SigV2 URLs, forms and
/// header-signed calls: <see cref="RealClientTests.Boto3ExercisesTheS3Surface"/>.
/// </summary>
public sealed class SigV2StoreTests : IClassFixture<StoreFixture>
{
    private readonly StoreFixture _store;

    public SigV2StoreTests(StoreFixture store) => _store = store;

    private string Presign(string method, string bucketAndKey, string accessKey, string secret, string queryHeaders = "", string canonicalAmzHeaders = "", string contentType = "", string contentMd5 = "")
    {
        var path = "/" + SigV4.UriEncode(bucketAndKey, keepSlash: true);
        var expires = DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var signature = SigV2Verifier.Sign(secret, SigV2Verifier.StringToSign(method, contentMd5, contentType, expires, canonicalAmzHeaders, path));
        return new Uri(_store.Endpoint, $"{path}?AWSAccessKeyId={accessKey}&Signature={Uri.EscapeDataString(signature)}&Expires={expires}{queryHeaders}").ToString();
    }

    private async Task EnsureScopedBucketAsync()
    {
        using var admin = _store.Client();
        try
        {
            await admin.PutBucketAsync(StoreFixture.ScopedBucket);
        }
        catch (AmazonS3Exception e) when (e.ErrorCode == "BucketAlreadyOwnedByYou")
        {
        }
    }

    [Fact]
    public async Task A_presigned_put_stores_the_headers_its_query_carries_within_the_credentials_grants()
    {
        await EnsureScopedBucketAsync();
        using var http = new HttpClient();
        var key = StoreFixture.ScopedPrefix + "v2-" + Guid.NewGuid().ToString("N")[..8];
        var url = Presign("PUT", $"{StoreFixture.ScopedBucket}/{key}", StoreFixture.ScopedAccessKey, StoreFixture.ScopedSecretKey,
            queryHeaders: "&x-amz-meta-owner=fn&content-type=text%2Fplain&x-amz-storage-class=STANDARD_IA",
            canonicalAmzHeaders: "x-amz-meta-owner:fn\nx-amz-storage-class:STANDARD_IA\n", contentType: "text/plain");
        using (var put = await http.PutAsync(url, new ByteArrayContent("uploaded"u8.ToArray())))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }

        using var admin = _store.Client();
        var head = await admin.GetObjectMetadataAsync(StoreFixture.ScopedBucket, key);
        Assert.Equal(("fn", "text/plain", "STANDARD_IA", 8L), (head.Metadata["owner"], head.Headers.ContentType, head.StorageClass?.Value, head.ContentLength));

        // The same credential's URL for a key outside its grants, and the store's own listing of buckets: refused.
        using (var outside = await http.PutAsync(Presign("PUT", $"{StoreFixture.ScopedBucket}/elsewhere/x", StoreFixture.ScopedAccessKey, StoreFixture.ScopedSecretKey), new ByteArrayContent([1])))
        {
            Assert.Equal(HttpStatusCode.Forbidden, outside.StatusCode);
            Assert.Contains("<Code>AccessDenied</Code>", await outside.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        await Assert.ThrowsAsync<AmazonS3Exception>(() => admin.GetObjectMetadataAsync(StoreFixture.ScopedBucket, "elsewhere/x"));
    }

    /// <summary>
    /// The holder of a presigned PUT adds ?tagging (signed by SigV2: mismatch) or ?retention (not signed: refused), each
    /// of which would have made the request set the object's tags or retention from the body instead of storing it.
    /// </summary>
    [Fact]
    public async Task A_presigned_put_given_another_operation_by_its_holder_does_nothing()
    {
        await EnsureScopedBucketAsync();
        using var http = new HttpClient();
        var key = StoreFixture.ScopedPrefix + "v2-op-" + Guid.NewGuid().ToString("N")[..8];
        using var admin = _store.Client();
        await admin.PutObjectAsync(new PutObjectRequest { BucketName = StoreFixture.ScopedBucket, Key = key, ContentBody = "original" });
        var url = Presign("PUT", $"{StoreFixture.ScopedBucket}/{key}", StoreFixture.ScopedAccessKey, StoreFixture.ScopedSecretKey);
        const string tagging = "<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>";
        foreach (var (added, code) in new[] { ("tagging", "SignatureDoesNotMatch"), ("retention", "InvalidRequest") })
        {
            using var put = await http.PutAsync(url + "&" + added, new StringContent(tagging));
            Assert.Contains($"<Code>{code}</Code>", await put.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using var get = await admin.GetObjectAsync(StoreFixture.ScopedBucket, key);
        Assert.Equal("original", await new StreamReader(get.ResponseStream).ReadToEndAsync());
        var tags = (await admin.GetObjectTaggingAsync(new GetObjectTaggingRequest { BucketName = StoreFixture.ScopedBucket, Key = key })).Tagging;
        Assert.True(tags is null or { Count: 0 });
    }

    /// <summary>
    /// A presigned PUT that binds its body by a Content-MD5 in its query, sent with a different body and an empty
    /// Content-MD5 header (which Kestrel keeps): the empty header won over the signed one, so no MD5 was checked and the
    /// other body was stored. Guards <c>SigV2Verifier.StandardHeader</c> through the running store.
    /// </summary>
    [Fact]
    public async Task A_presigned_put_bound_to_a_body_by_content_md5_takes_no_other_body()
    {
        await EnsureScopedBucketAsync();
        var key = StoreFixture.ScopedPrefix + "v2-md5-" + Guid.NewGuid().ToString("N")[..8];
        var md5 = Convert.ToBase64String(System.Security.Cryptography.MD5.HashData("expected"u8));
        var url = new Uri(Presign("PUT", $"{StoreFixture.ScopedBucket}/{key}", StoreFixture.ScopedAccessKey, StoreFixture.ScopedSecretKey,
            queryHeaders: "&content-md5=" + Uri.EscapeDataString(md5), contentMd5: md5));

        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(url.Host, url.Port);
        var stream = tcp.GetStream();
        var request = $"PUT {url.PathAndQuery} HTTP/1.1\r\nHost: {url.Authority}\r\nContent-MD5:\r\nContent-Length: 8\r\nConnection: close\r\n\r\ntampered";
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(request));
        var answer = await new StreamReader(stream).ReadToEndAsync();
        Assert.StartsWith("HTTP/1.1 403", answer, StringComparison.Ordinal);
        Assert.Contains("<Code>SignatureDoesNotMatch</Code>", answer, StringComparison.Ordinal);

        using var admin = _store.Client();
        var missing = await Assert.ThrowsAsync<AmazonS3Exception>(() => admin.GetObjectMetadataAsync(StoreFixture.ScopedBucket, key));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }
}
