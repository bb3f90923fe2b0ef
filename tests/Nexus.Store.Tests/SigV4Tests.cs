// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text;
using Microsoft.AspNetCore.Http;
using Nexus.Interop;

namespace Nexus.Store.Tests;

/// <summary>SigV4 against the worked examples of AWS's S3 SigV4 documentation (sig-v4-header-based-auth, query-string auth, streaming).</summary>
public sealed class SigV4Tests
{
    private const string ExampleKeyId = "AKIAIOSFODNN7EXAMPLE";
    private const string ExampleSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    internal sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    internal static SigV4Verifier ExampleVerifier(DateTimeOffset? now = null)
    {
        var credentials = new StoreCredentials();
        credentials.Add(new StoreCredential(ExampleKeyId, ExampleSecret));
        return new SigV4Verifier(credentials, "us-east-1", "s3", TimeSpan.FromMinutes(15), new FixedTime(now ?? new DateTimeOffset(2013, 5, 24, 0, 5, 0, TimeSpan.Zero)));
    }

    private static string Authorization(string signedHeaders, string signature) =>
        $"AWS4-HMAC-SHA256 Credential={ExampleKeyId}/20130524/us-east-1/s3/aws4_request,SignedHeaders={signedHeaders},Signature={signature}";

    [Fact]
    public void DerivesTheDocumentedSigningKeyAndCanonicalRequest()
    {
        var canonical = "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\nx-amz-content-sha256:" + SigV4.EmptyHash +
            "\nx-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n" + SigV4.EmptyHash;
        var stringToSign = SigV4.StringToSign("20130524T000000Z", "20130524/us-east-1/s3/aws4_request", canonical);
        Assert.Equal("AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972", stringToSign);
        var key = SigV4.DeriveSigningKey(ExampleSecret, "20130524", "us-east-1", "s3");
        Assert.Equal("f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41", SigV4.Sign(key, stringToSign));
    }

    /// <summary>The headers of the documentation's signed GET Object example (a range of /test.txt).</summary>
    private static HeaderDictionary DocumentedGetObjectHeaders() => new()
    {
        ["Host"] = "examplebucket.s3.amazonaws.com",
        ["Range"] = "bytes=0-9",
        ["x-amz-content-sha256"] = SigV4.EmptyHash,
        ["x-amz-date"] = "20130524T000000Z",
        ["Authorization"] = Authorization("host;range;x-amz-content-sha256;x-amz-date", "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"),
    };

    [Fact]
    public void VerifiesDocumentedGetObjectWithRange()
    {
        var headers = DocumentedGetObjectHeaders();
        var result = ExampleVerifier().Verify("GET", "/test.txt", headers);
        Assert.Null(result.Error);
        Assert.Equal(ExampleKeyId, result.Credential.AccessKeyId);

        headers["Range"] = "bytes=0-10";
        Assert.Equal("SignatureDoesNotMatch", ExampleVerifier().Verify("GET", "/test.txt", headers).Error?.Code);
    }

    /// <summary>A header-signed request replayed with an x-amz-* header added outside its signature is refused (HeadersNotSigned).</summary>
    [Fact]
    public void RefusesXAmzHeadersOutsideTheSignature()
    {
        var headers = DocumentedGetObjectHeaders();
        headers["X-Amz-Copy-Source"] = "examplebucket/secret";
        var error = ExampleVerifier().Verify("GET", "/test.txt", headers).Error;
        Assert.Equal(("AccessDenied", 403), (error?.Code, error?.Status));
        Assert.Equal([new("HeadersNotSigned", "x-amz-copy-source")], error!.Details);

        // Other headers outside the signature (User-Agent, ...) are not S3's concern.
        headers.Remove("X-Amz-Copy-Source");
        headers["User-Agent"] = "any";
        Assert.Null(ExampleVerifier().Verify("GET", "/test.txt", headers).Error);
    }

    [Fact]
    public void VerifiesDocumentedPutObjectWithEncodedPath()
    {
        var headers = new HeaderDictionary
        {
            ["Host"] = "examplebucket.s3.amazonaws.com",
            ["Date"] = "Fri, 24 May 2013 00:00:00 GMT",
            ["x-amz-date"] = "20130524T000000Z",
            ["x-amz-storage-class"] = "REDUCED_REDUNDANCY",
            ["x-amz-content-sha256"] = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
            ["Authorization"] = Authorization("date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class", "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"),
        };

        // The client may send '$' raw or encoded: the canonical URI is the same (%24).
        Assert.Null(ExampleVerifier().Verify("PUT", "/test$file.text", headers).Error);
        Assert.Null(ExampleVerifier().Verify("PUT", "/test%24file.text", headers).Error);
    }

    [Theory]
    [InlineData("/?lifecycle", "host;x-amz-content-sha256;x-amz-date", "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")]
    [InlineData("/?max-keys=2&prefix=J", "host;x-amz-content-sha256;x-amz-date", "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")]
    [InlineData("/?prefix=J&max-keys=2", "host;x-amz-content-sha256;x-amz-date", "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")]
    public void VerifiesDocumentedBucketRequestsWithCanonicalQuery(string target, string signedHeaders, string signature)
    {
        var headers = new HeaderDictionary
        {
            ["Host"] = "examplebucket.s3.amazonaws.com",
            ["x-amz-content-sha256"] = SigV4.EmptyHash,
            ["x-amz-date"] = "20130524T000000Z",
            ["Authorization"] = Authorization(signedHeaders, signature),
        };
        Assert.Null(ExampleVerifier().Verify("GET", target, headers).Error);
    }

    [Fact]
    public void VerifiesDocumentedPresignedUrlAndItsExpiry()
    {
        const string target = "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request" +
            "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
        var headers = new HeaderDictionary { ["Host"] = "examplebucket.s3.amazonaws.com" };
        var ok = ExampleVerifier(new DateTimeOffset(2013, 5, 24, 12, 0, 0, TimeSpan.Zero)).Verify("GET", target, headers);
        Assert.Null(ok.Error);
        Assert.True(ok.Presigned);
        Assert.Equal(SigV4.UnsignedPayload, ok.PayloadHash);

        var expired = ExampleVerifier(new DateTimeOffset(2013, 5, 25, 0, 0, 1, TimeSpan.Zero)).Verify("GET", target, headers);
        Assert.Equal("AccessDenied", expired.Error?.Code);
        Assert.Contains("expired", expired.Error!.Message, StringComparison.Ordinal);

        var tampered = ExampleVerifier(new DateTimeOffset(2013, 5, 24, 12, 0, 0, TimeSpan.Zero)).Verify("GET", target.Replace("test.txt", "test2.txt", StringComparison.Ordinal), headers);
        Assert.Equal("SignatureDoesNotMatch", tampered.Error?.Code);
    }

    [Fact]
    public void RejectsSkewedClockUnknownKeyAndWrongRegion()
    {
        var headers = new HeaderDictionary
        {
            ["Host"] = "examplebucket.s3.amazonaws.com",
            ["Range"] = "bytes=0-9",
            ["x-amz-content-sha256"] = SigV4.EmptyHash,
            ["x-amz-date"] = "20130524T000000Z",
            ["Authorization"] = Authorization("host;range;x-amz-content-sha256;x-amz-date", "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"),
        };
        Assert.Equal("RequestTimeTooSkewed", ExampleVerifier(new DateTimeOffset(2013, 5, 24, 0, 16, 0, TimeSpan.Zero)).Verify("GET", "/test.txt", headers).Error?.Code);

        headers["Authorization"] = headers["Authorization"].ToString().Replace(ExampleKeyId, "AKIDNOBODY", StringComparison.Ordinal);
        Assert.Equal("InvalidAccessKeyId", ExampleVerifier().Verify("GET", "/test.txt", headers).Error?.Code);

        headers["Authorization"] = Authorization("host;range;x-amz-content-sha256;x-amz-date", "f0e8").Replace("us-east-1", "eu-west-1", StringComparison.Ordinal);
        var wrongRegion = ExampleVerifier().Verify("GET", "/test.txt", headers).Error;
        Assert.Equal("AuthorizationHeaderMalformed", wrongRegion?.Code);
        Assert.Contains("eu-west-1", wrongRegion!.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")]
    [InlineData("/?Param2=value2&Param1=value1", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")]
    public void VerifiesAwsTestSuiteVectorsForOtherServices(string target, string signature)
    {
        // aws-sig-v4-test-suite get-vanilla and get-vanilla-query-order-key-case: the shape the node's
        // Lambda Invoke API uses (service other than s3, body hash passed by the caller).
        var credentials = new StoreCredentials();
        credentials.Add(new StoreCredential("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"));
        var verifier = new SigV4Verifier(credentials, "us-east-1", "service", TimeSpan.FromMinutes(15), new FixedTime(new DateTimeOffset(2015, 8, 30, 12, 36, 0, TimeSpan.Zero)));
        var headers = new HeaderDictionary
        {
            ["Host"] = "example.amazonaws.com",
            ["X-Amz-Date"] = "20150830T123600Z",
            ["Authorization"] = $"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature={signature}",
        };
        Assert.Null(verifier.Verify("GET", target, headers, SigV4.EmptyHash).Error);
        Assert.Equal("SignatureDoesNotMatch", verifier.Verify("GET", target, headers, SigV4.HexSha256("x")).Error?.Code);
    }

    [Theory]
    [InlineData("a b", "a%20b")]
    [InlineData("a+b=c&d", "a%2Bb%3Dc%26d")]
    [InlineData("ü/~x", "%C3%BC%2F~x")]
    [InlineData("😀", "%F0%9F%98%80")]
    public void UriEncodesAsSigV4Requires(string raw, string encoded)
    {
        Assert.Equal(encoded, SigV4.UriEncode(raw, keepSlash: false));
    }

    [Fact]
    public void CanonicalQuerySortsAndGivesEmptyValues()
    {
        Assert.Equal("a=&b=2&prefix=x%20y&uploads=", SigV4.CanonicalQuery("uploads&prefix=x%20y&b=2&a="));
        Assert.Equal("X-Amz-Date=1", SigV4.CanonicalQuery("X-Amz-Signature=abc&X-Amz-Date=1", skip: "X-Amz-Signature"));
    }

    [Fact]
    public void ChunkedUploadExampleVerifiesEveryChunkAndRejectsATamperedOne()
    {
        var (seed, body) = StreamingExample();
        using var decoder = new AwsChunkedStream(new MemoryStream(body), seed, expectTrailer: false, maxChunk: 1 << 20);
        using var decoded = new MemoryStream();
        decoder.CopyTo(decoded);
        Assert.Equal(66560, decoded.Length);
        Assert.All(decoded.ToArray(), b => Assert.Equal((byte)'a', b));

        var tampered = (byte[])body.Clone();
        tampered[200] = (byte)'b';
        using var bad = new AwsChunkedStream(new MemoryStream(tampered), seed, expectTrailer: false, maxChunk: 1 << 20);
        var error = Assert.Throws<S3Exception>(() => bad.CopyTo(Stream.Null));
        Assert.Equal("SignatureDoesNotMatch", error.Code);

        var truncated = body.AsSpan(0, body.Length - 90).ToArray();
        using var cut = new AwsChunkedStream(new MemoryStream(truncated), seed, expectTrailer: false, maxChunk: 1 << 20);
        Assert.Equal("IncompleteBody", Assert.Throws<S3Exception>(() => cut.CopyTo(Stream.Null)).Code);
    }

    /// <summary>The "Example: PUT Object" of AWS's SigV4 streaming (aws-chunked) documentation: 65 KiB of 'a' in 64 KiB chunks.</summary>
    internal static (SignatureCheck Seed, byte[] Body) StreamingExample()
    {
        var headers = new HeaderDictionary
        {
            ["Host"] = "s3.amazonaws.com",
            ["x-amz-date"] = "20130524T000000Z",
            ["x-amz-storage-class"] = "REDUCED_REDUNDANCY",
            ["x-amz-content-sha256"] = SigV4.StreamingSigned,
            ["Content-Encoding"] = "aws-chunked",
            ["x-amz-decoded-content-length"] = "66560",
            ["Content-Length"] = "66824",
            ["Authorization"] = Authorization(
                "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class",
                "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"),
        };
        var seed = ExampleVerifier().Verify("PUT", "/examplebucket/chunkObject.txt", headers);
        Assert.Null(seed.Error);

        var body = new MemoryStream();
        void Chunk(int size, string signature)
        {
            body.Write(Encoding.ASCII.GetBytes($"{size:x};chunk-signature={signature}\r\n"));
            body.Write(Enumerable.Repeat((byte)'a', size).ToArray());
            body.Write("\r\n"u8);
        }

        Chunk(65536, "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648");
        Chunk(1024, "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497");
        Chunk(0, "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9");
        Assert.Equal(66824, body.Length);
        return (seed, body.ToArray());
    }

    [Fact]
    public void UnsignedTrailerChunksDecodeAndExposeTheChecksum()
    {
        var body = "5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n"u8.ToArray();
        using var decoder = new AwsChunkedStream(new MemoryStream(body), signature: null, expectTrailer: true, maxChunk: 1024);
        using var decoded = new MemoryStream();
        decoder.CopyTo(decoded);
        Assert.Equal("hello world", Encoding.ASCII.GetString(decoded.ToArray()));
        Assert.Equal([new KeyValuePair<string, string>("x-amz-checksum-crc32", "DUoRhQ==")], decoder.Trailers);

        using var oversized = new AwsChunkedStream(new MemoryStream("fffffff\r\n"u8.ToArray()), signature: null, expectTrailer: true, maxChunk: 1024);
        Assert.Equal("InvalidChunkSizeError", Assert.Throws<S3Exception>(() => oversized.CopyTo(Stream.Null)).Code);
    }

    [Fact]
    public void ChecksumsMatchTheirCheckValues()
    {
        var check = "123456789"u8;
        Assert.Equal(0xCBF43926u, Crc32.Append(0, check));
        Assert.Equal(0xE3069283u, Crc32C.Append(0, check));
        Assert.Equal(0xAE8B14860A799888ul, Crc64Nvme.Append(0, check));
        Assert.Equal(Crc32.Append(0, check), Crc32.Append(Crc32.Append(0, check[..4]), check[4..]));
        using var crc = S3Checksum.Create("crc32");
        crc.Append("hello world"u8);
        Assert.Equal("DUoRhQ==", crc.ToBase64());
    }
}
