// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Amazon.S3.Model;

namespace Nexus.Store.Tests;

/// <summary>
/// Bad input on every operation of the store, table-driven: a bad signature, a query parameter the operation does not
/// take, malformed XML on every operation that reads an XML body, a body cut short. Each gets an error naming what
/// is wrong (never a 500, never the operation done anyway), the object the operation would touch is unchanged, and the
/// store keeps serving.
/// </summary>
public sealed class BadInputTests(StoreFixture store) : IClassFixture<StoreFixture>, IAsyncLifetime
{
    private const string Original = "original bytes";
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(60) };
    private readonly string _bucket = "bad-" + Guid.NewGuid().ToString("N")[..12];
    private string _uploadId = null!;

    /// <summary>Every operation: name, method, path below the bucket ("" = the bucket, null = the service), query, body.</summary>
    public static TheoryData<string> Operations => new(s_operations.Keys);

    /// <summary>The operations that read an XML body.</summary>
    public static TheoryData<string, string> XmlOperations
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var op in new[] { "DeleteObjects", "CompleteMultipartUpload", "PutObjectTagging" })
            {
                foreach (var document in s_badXml.Keys)
                {
                    data.Add(op, document);
                }
            }

            return data;
        }
    }

    /// <summary>The operations that read a body.</summary>
    public static TheoryData<string> BodyOperations => new(s_operations.Where(o => o.Value.Body is not null).Select(o => o.Key));

    private static readonly Dictionary<string, Operation> s_operations = new()
    {
        ["ListBuckets"] = new("GET", null, ""),
        ["CreateBucket"] = new("PUT", "", "", "<CreateBucketConfiguration/>", NewBucket: true),
        ["HeadBucket"] = new("HEAD", "", ""),
        ["DeleteBucket"] = new("DELETE", "", "", NewBucket: true),
        ["ListObjectsV2"] = new("GET", "", "list-type=2"),
        ["GetBucketLocation"] = new("GET", "", "location="),
        ["GetBucketVersioning"] = new("GET", "", "versioning="),
        ["GetBucketPolicy"] = new("GET", "", "policy="),
        ["GetPublicAccessBlock"] = new("GET", "", "publicAccessBlock="),
        ["ListBucketMetricsConfigurations"] = new("GET", "", "metrics="),
        ["ListMultipartUploads"] = new("GET", "", "uploads="),
        ["DeleteObjects"] = new("POST", "", "delete=", "<Delete><Object><Key>k</Key></Object></Delete>"),
        ["PutObject"] = new("PUT", "k", "", "replaced"),
        ["GetObject"] = new("GET", "k", ""),
        ["HeadObject"] = new("HEAD", "k", ""),
        ["DeleteObject"] = new("DELETE", "k", ""),
        ["CopyObject"] = new("PUT", "k", "", CopySource: "other"),
        ["CreateMultipartUpload"] = new("POST", "k", "uploads="),
        ["UploadPart"] = new("PUT", "k", "partNumber=1&uploadId={upload}", "part"),
        ["ListParts"] = new("GET", "k", "uploadId={upload}"),
        ["CompleteMultipartUpload"] = new("POST", "k", "uploadId={upload}", "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>"),
        ["AbortMultipartUpload"] = new("DELETE", "k", "uploadId={upload}"),
        ["GetObjectTagging"] = new("GET", "k", "tagging="),
        ["PutObjectTagging"] = new("PUT", "k", "tagging=", "<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>"),
        ["DeleteObjectTagging"] = new("DELETE", "k", "tagging="),
        ["GetObjectRetention"] = new("GET", "k", "retention="),
        ["RestoreObject"] = new("POST", "k", "restore=", "<RestoreRequest><Days>1</Days></RestoreRequest>"),
        ["PutObjectLegalHold"] = new("PUT", "k", "legal-hold=", "<LegalHold><Status>ON</Status></LegalHold>"),
    };

    private static readonly Dictionary<string, string> s_badXml = new()
    {
        ["unclosed"] = "<Delete><Object><Key>k</Key></Object>",
        ["external entity"] = "<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><Delete><Object><Key>&x;</Key></Object></Delete>",
        ["not xml"] = "{\"Objects\": [\"k\"]}",
        ["past the 4 MiB limit"] = "<Tagging>" + new string(' ', 4 << 20) + "</Tagging>",
    };

    public async Task InitializeAsync()
    {
        using var client = store.Client();
        await client.PutBucketAsync(_bucket);
        await client.PutObjectAsync(new PutObjectRequest { BucketName = _bucket, Key = "k", ContentBody = Original });
        await client.PutObjectAsync(new PutObjectRequest { BucketName = _bucket, Key = "other", ContentBody = "other bytes" });
        _uploadId = (await client.InitiateMultipartUploadAsync(_bucket, "k")).UploadId;
    }

    public Task DisposeAsync()
    {
        _http.Dispose();
        return Task.CompletedTask;
    }

    [Theory]
    [MemberData(nameof(Operations))]
    public async Task A_bad_signature_is_refused_with_403_SignatureDoesNotMatch(string operation)
    {
        using var response = await _http.SendAsync(Request(operation, secret: "not-the-secret"));
        await AssertErrorAsync(response, 403, "SignatureDoesNotMatch", "Canonical request");
        await AssertUnchangedAsync();
    }

    [Theory]
    [MemberData(nameof(Operations))]
    public async Task An_unknown_query_parameter_is_refused_naming_it(string operation)
    {
        // 501 NotImplemented is S3's own answer to a request for something it does not implement; what matters is
        // that ?bogus (or ?acl, ?versions) is never served as the operation it resembles.
        using var response = await _http.SendAsync(Request(operation, extraQuery: "bogus=1"));
        await AssertErrorAsync(response, 501, "NotImplemented", "?bogus");
        await AssertUnchangedAsync();
    }

    [Theory]
    [MemberData(nameof(XmlOperations))]
    public async Task Malformed_xml_is_refused_with_400_MalformedXML_naming_the_operation(string operation, string document)
    {
        using var response = await _http.SendAsync(Request(operation, body: s_badXml[document]));
        var text = await AssertErrorAsync(response, 400, "MalformedXML", operation);
        Assert.DoesNotContain("root:", text, StringComparison.Ordinal);
        await AssertUnchangedAsync();
    }

    /// <summary>A body promising more bytes than it sends: the connection ends without a success, nothing is stored.</summary>
    [Theory]
    [MemberData(nameof(BodyOperations))]
    public async Task A_truncated_body_is_not_taken_for_a_whole_one(string operation)
    {
        using var request = Request(operation);
        var body = await request.Content!.ReadAsByteArrayAsync();
        var head = new StringBuilder($"{request.Method} {request.RequestUri!.PathAndQuery} HTTP/1.1\r\nHost: {request.RequestUri.Authority}\r\n");
        foreach (var header in request.Headers.Concat(request.Content.Headers).Where(h => h.Key != "Content-Length"))
        {
            head.Append(CultureInfo.InvariantCulture, $"{header.Key}: {string.Join(",", header.Value)}\r\n");
        }

        head.Append(CultureInfo.InvariantCulture, $"Content-Length: {body.Length + 1000}\r\n\r\n");
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(request.RequestUri.Host, request.RequestUri.Port);
        await socket.SendAsync(Encoding.ASCII.GetBytes(head.ToString()).Concat(body).ToArray());
        socket.Shutdown(SocketShutdown.Send);
        var answer = new StringBuilder();
        var buffer = new byte[4096];
        try
        {
            int n;
            while ((n = await socket.ReceiveAsync(buffer).WaitAsync(TimeSpan.FromSeconds(30))) > 0)
            {
                answer.Append(Encoding.ASCII.GetString(buffer, 0, n));
            }
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            // Kestrel may answer an incomplete body with a reset: the connection ended either way.
        }

        var status = answer.Length == 0 ? "(none)" : answer.ToString().Split("\r\n")[0];
        Assert.True(answer.Length == 0 || status.Contains(" 400 ", StringComparison.Ordinal), $"{operation}: answered {status}");
        await AssertUnchangedAsync();
    }

    [Fact]
    public async Task Huge_headers_are_refused_with_431_and_the_store_keeps_serving()
    {
        using var request = Request("GetObject");
        request.Headers.TryAddWithoutValidation("X-Padding", new string('h', 64 << 10));
        using var response = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, response.StatusCode);
        await AssertUnchangedAsync();
    }

    private static async Task<string> AssertErrorAsync(HttpResponseMessage response, int status, string code, string messagePart)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"expected {status} {code}, got {(int)response.StatusCode}: {text}");
        if (response.RequestMessage!.Method == HttpMethod.Head)
        {
            Assert.Equal(code, response.Headers.GetValues("x-amz-error-code").Single());
            return text;
        }

        Assert.Contains($"<Code>{code}</Code>", text, StringComparison.Ordinal);
        Assert.Contains(messagePart, text, StringComparison.Ordinal);
        return text;
    }

    // The object every operation would touch, the bucket, and the upload are as they were; the store still answers.
    private async Task AssertUnchangedAsync()
    {
        using var client = store.Client();
        using var k = await client.GetObjectAsync(_bucket, "k");
        using var reader = new StreamReader(k.ResponseStream);
        Assert.Equal(Original, await reader.ReadToEndAsync());
        Assert.Empty((await client.GetObjectTaggingAsync(new GetObjectTaggingRequest { BucketName = _bucket, Key = "k" })).Tagging ?? []);
        Assert.Empty((await client.ListPartsAsync(_bucket, "k", _uploadId)).Parts ?? []);
        Assert.False((await client.ListBucketsAsync()).Buckets?.Any(b => b.BucketName == _bucket + "-new") ?? false);
    }

    /// <summary>A path-style request for <paramref name="operation"/>, SigV4-signed (with <paramref name="secret"/>).</summary>
    private HttpRequestMessage Request(string operation, string secret = StoreFixture.SecretKey, string? extraQuery = null, string? body = null)
    {
        var op = s_operations[operation];
        var bucket = op.NewBucket ? _bucket + "-new" : _bucket;
        var path = op.Path is null ? "/" : op.Path.Length == 0 ? "/" + bucket : $"/{bucket}/{op.Path}";
        var pairs = op.Query.Replace("{upload}", Uri.EscapeDataString(_uploadId), StringComparison.Ordinal).Split('&', StringSplitOptions.RemoveEmptyEntries).ToList();
        if (extraQuery is not null)
        {
            pairs.Add(extraQuery);
        }

        var query = string.Join('&', pairs.Select(p => p.Contains('=', StringComparison.Ordinal) ? p : p + "=").Order(StringComparer.Ordinal));
        var payload = Encoding.UTF8.GetBytes(body ?? op.Body ?? "");
        var payloadHash = Convert.ToHexStringLower(SHA256.HashData(payload));
        var now = DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var headers = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["host"] = store.Endpoint.Authority,
            ["x-amz-content-sha256"] = payloadHash,
            ["x-amz-date"] = now,
        };
        if (op.CopySource is not null)
        {
            headers["x-amz-copy-source"] = $"/{_bucket}/{op.CopySource}";
        }

        var signedHeaders = string.Join(';', headers.Keys);
        var canonical = $"{op.Method}\n{path}\n{query}\n{string.Concat(headers.Select(h => h.Key + ":" + h.Value + "\n"))}\n{signedHeaders}\n{payloadHash}";
        var scope = now[..8] + "/us-east-1/s3/aws4_request";
        var signature = SigV4.Sign(SigV4.DeriveSigningKey(secret, now[..8], "us-east-1", "s3"), SigV4.StringToSign(now, scope, canonical));
        var request = new HttpRequestMessage(new HttpMethod(op.Method), new Uri(store.Endpoint, query.Length == 0 ? path : path + "?" + query));
        if (op.Body is not null || body is not null)
        {
            request.Content = new ByteArrayContent(payload);
        }

        request.Headers.TryAddWithoutValidation("Authorization", $"AWS4-HMAC-SHA256 Credential={StoreFixture.AccessKey}/{scope}, SignedHeaders={signedHeaders}, Signature={signature}");
        foreach (var (name, value) in headers.Where(h => h.Key != "host"))
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return request;
    }

    private sealed record Operation(string Method, string? Path, string Query, string? Body = null, bool NewBucket = false, string? CopySource = null);
}
