// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Amazon.S3;

namespace Nexus.Store.Tests;

/// <summary>
/// Hand-signed requests for what the SDKs never send wrong: bad chunk signatures, bad checksums and
/// payload hashes. Each must be refused and must leave nothing stored. Also crash leftovers and restart.
/// </summary>
public sealed class RawProtocolTests : IClassFixture<StoreFixture>
{
    private readonly StoreFixture _store;

    public RawProtocolTests(StoreFixture store)
    {
        _store = store;
    }

    /// <summary>Signs a path-style request with the fixture's root key (host, x-amz-date, x-amz-content-sha256 and <paramref name="extra"/> signed).</summary>
    private HttpRequestMessage Signed(HttpMethod method, string path, string payloadHash, HttpContent? content, params (string Name, string Value)[] extra)
    {
        var now = DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var host = _store.Endpoint.Authority;
        var headers = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["host"] = host,
            ["x-amz-content-sha256"] = payloadHash,
            ["x-amz-date"] = now,
        };
        foreach (var (name, value) in extra)
        {
            headers[name.ToLowerInvariant()] = value;
        }

        var signedHeaders = string.Join(';', headers.Keys);
        var canonical = $"{method.Method}\n{path}\n\n{string.Concat(headers.Select(h => h.Key + ":" + h.Value + "\n"))}\n{signedHeaders}\n{payloadHash}";
        var scope = now[..8] + "/us-east-1/s3/aws4_request";
        var key = SigV4.DeriveSigningKey(StoreFixture.SecretKey, now[..8], "us-east-1", "s3");
        var signature = SigV4.Sign(key, SigV4.StringToSign(now, scope, canonical));
        var request = new HttpRequestMessage(method, new Uri(_store.Endpoint, path)) { Content = content };
        request.Headers.TryAddWithoutValidation("Authorization", $"AWS4-HMAC-SHA256 Credential={StoreFixture.AccessKey}/{scope}, SignedHeaders={signedHeaders}, Signature={signature}");
        request.Headers.TryAddWithoutValidation("x-amz-date", now);
        request.Headers.TryAddWithoutValidation("x-amz-content-sha256", payloadHash);
        foreach (var (name, value) in extra)
        {
            if (!(content?.Headers.TryAddWithoutValidation(name, value) ?? false))
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }
        }

        // SigningKey/seed for signed chunks are recomputed by the caller when needed.
        return request;
    }

    private async Task<string> NewBucketAsync()
    {
        using var client = _store.Client();
        var name = "raw-" + Guid.NewGuid().ToString("N")[..12];
        await client.PutBucketAsync(name);
        return name;
    }

    private async Task AssertAbsentAsync(string bucket, string key)
    {
        using var client = _store.Client();
        var missing = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => client.GetObjectMetadataAsync(bucket, key));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    private static ByteArrayContent Body(string text) => new(Encoding.ASCII.GetBytes(text));

    [Fact]
    public async Task UnsignedTrailerWithGoodCrc32IsStoredAndBadOneIsRefused()
    {
        var bucket = await NewBucketAsync();
        using var http = new HttpClient();
        const string good = "5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
        using var ok = await http.SendAsync(Signed(HttpMethod.Put, $"/{bucket}/good", SigV4.StreamingUnsignedTrailer, Body(good),
            ("Content-Encoding", "aws-chunked"), ("x-amz-trailer", "x-amz-checksum-crc32"), ("x-amz-decoded-content-length", "11")));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal("\"" + Convert.ToHexStringLower(MD5.HashData("hello world"u8)) + "\"", ok.Headers.ETag?.Tag);

        var bad = good.Replace("DUoRhQ==", "AAAAAA==", StringComparison.Ordinal);
        using var refused = await http.SendAsync(Signed(HttpMethod.Put, $"/{bucket}/bad", SigV4.StreamingUnsignedTrailer, Body(bad),
            ("Content-Encoding", "aws-chunked"), ("x-amz-trailer", "x-amz-checksum-crc32"), ("x-amz-decoded-content-length", "11")));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("<Code>BadDigest</Code>", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await AssertAbsentAsync(bucket, "bad");
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(_store.DataDirectory, "tmp")));
    }

    [Fact]
    public async Task PayloadHashAndChecksumHeadersAreVerified()
    {
        var bucket = await NewBucketAsync();
        using var http = new HttpClient();
        var rightHash = Convert.ToHexStringLower(SHA256.HashData("abc"u8));
        using var ok = await http.SendAsync(Signed(HttpMethod.Put, $"/{bucket}/hashed", rightHash, Body("abc")));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);

        var wrongHash = Convert.ToHexStringLower(SHA256.HashData("abd"u8));
        using var mismatch = await http.SendAsync(Signed(HttpMethod.Put, $"/{bucket}/mismatch", wrongHash, Body("abc")));
        Assert.Equal(HttpStatusCode.BadRequest, mismatch.StatusCode);
        Assert.Contains("<Code>XAmzContentSHA256Mismatch</Code>", await mismatch.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await AssertAbsentAsync(bucket, "mismatch");

        using var badCrc = await http.SendAsync(Signed(HttpMethod.Put, $"/{bucket}/crc", SigV4.UnsignedPayload, Body("abc"), ("x-amz-checksum-crc32c", "AAAAAA==")));
        Assert.Equal(HttpStatusCode.BadRequest, badCrc.StatusCode);
        await AssertAbsentAsync(bucket, "crc");

        using var badMd5 = await http.SendAsync(Signed(HttpMethod.Put, $"/{bucket}/md5", SigV4.UnsignedPayload, Body("abc"), ("Content-MD5", Convert.ToBase64String(MD5.HashData("abd"u8)))));
        Assert.Equal(HttpStatusCode.BadRequest, badMd5.StatusCode);
        Assert.Contains("<Code>BadDigest</Code>", await badMd5.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await AssertAbsentAsync(bucket, "md5");
    }

    [Fact]
    public async Task SignedChunksAreVerifiedEndToEnd()
    {
        var bucket = await NewBucketAsync();
        using var http = new HttpClient();

        async Task<HttpResponseMessage> SendChunked(string key, bool tamper)
        {
            var data = Encoding.ASCII.GetBytes(new string('z', 70_000));
            var request = Signed(HttpMethod.Put, $"/{bucket}/{key}", SigV4.StreamingSigned, null, ("Content-Encoding", "aws-chunked"), ("x-amz-decoded-content-length", data.Length.ToString(CultureInfo.InvariantCulture)));
            var authorization = request.Headers.GetValues("Authorization").Single();
            var seed = authorization[(authorization.IndexOf("Signature=", StringComparison.Ordinal) + 10)..];
            var date = request.Headers.GetValues("x-amz-date").Single();
            var scope = date[..8] + "/us-east-1/s3/aws4_request";
            var signingKey = SigV4.DeriveSigningKey(StoreFixture.SecretKey, date[..8], "us-east-1", "s3");
            var body = new MemoryStream();
            var previous = seed;
            foreach (var chunk in new[] { data[..65536], data[65536..], [] })
            {
                var signature = SigV4.Sign(signingKey, SigV4.ChunkStringToSign(date, scope, previous, Convert.ToHexStringLower(SHA256.HashData(chunk))));
                previous = signature;
                body.Write(Encoding.ASCII.GetBytes($"{chunk.Length:x};chunk-signature={signature}\r\n"));
                body.Write(chunk);
                body.Write("\r\n"u8);
            }

            var bytes = body.ToArray();
            if (tamper)
            {
                bytes[1000] ^= 1;
            }

            request.Content = new ByteArrayContent(bytes);
            request.Content.Headers.TryAddWithoutValidation("Content-Encoding", "aws-chunked");
            return await http.SendAsync(request);
        }

        using var ok = await SendChunked("signed", tamper: false);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        using var bad = await SendChunked("tampered", tamper: true);
        Assert.Equal(HttpStatusCode.Forbidden, bad.StatusCode);
        Assert.Contains("<Code>SignatureDoesNotMatch</Code>", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await AssertAbsentAsync(bucket, "tampered");
    }

    [Theory]
    [InlineData("<Delete><Object><Key>a</Key></Object>")]
    [InlineData("<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><Delete><Object><Key>&x;</Key></Object></Delete>")]
    [InlineData("<Delete><Quiet>true</Quiet></Delete>")]
    [InlineData("<Other/>")]
    public async Task BadDeleteDocumentsAreMalformedXml(string document)
    {
        var bucket = await NewBucketAsync();
        using var http = new HttpClient();
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(document)));
        using var response = await http.SendAsync(SignedPost($"/{bucket}", "delete=", hash, document));
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("<Code>MalformedXML</Code>", text, StringComparison.Ordinal);
        Assert.DoesNotContain("root:", text, StringComparison.Ordinal);
    }

    /// <summary>Signs a request with a query string (the helper above signs query-less paths).</summary>
    private HttpRequestMessage SignedPost(string path, string canonicalQuery, string payloadHash, string body)
    {
        var now = DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var canonical = $"POST\n{path}\n{canonicalQuery}\nhost:{_store.Endpoint.Authority}\nx-amz-content-sha256:{payloadHash}\nx-amz-date:{now}\n\nhost;x-amz-content-sha256;x-amz-date\n{payloadHash}";
        var scope = now[..8] + "/us-east-1/s3/aws4_request";
        var signature = SigV4.Sign(SigV4.DeriveSigningKey(StoreFixture.SecretKey, now[..8], "us-east-1", "s3"), SigV4.StringToSign(now, scope, canonical));
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_store.Endpoint, path + "?" + canonicalQuery.TrimEnd('='))) { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)) };
        request.Headers.TryAddWithoutValidation("Authorization", $"AWS4-HMAC-SHA256 Credential={StoreFixture.AccessKey}/{scope}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={signature}");
        request.Headers.TryAddWithoutValidation("x-amz-date", now);
        request.Headers.TryAddWithoutValidation("x-amz-content-sha256", payloadHash);
        return request;
    }
}
