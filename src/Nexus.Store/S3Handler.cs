// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Nexus.Store;

/// <summary>
/// The S3 request router: one terminal delegate, no routing middleware or reflection. Every request is
/// SigV4- or SigV2-verified, then dispatched on method, path shape (service / bucket / object) and query subresource.
/// </summary>
internal sealed partial class S3Handler
{
    private const int MaxUserMetadataBytes = 2048;
    private const int MaxXmlBody = 4 * 1024 * 1024;
    private const string XmlContentType = "application/xml";

    private static readonly string[] s_storedHeaders = ["Content-Encoding", "Content-Disposition", "Content-Language", "Cache-Control", "Expires", WebsiteRedirectHeader];

    private readonly ObjectStore _store;
    private readonly StoreCredentials _credentials;
    private readonly SigV4Verifier _verifier;
    private readonly SigV2Verifier _sigV2;
    private readonly StoreOptions _options;
    private readonly ILogger _logger;
    private readonly string _requestIdPrefix = Convert.ToHexString(RandomNumberGenerator.GetBytes(4));
    private long _requestCount;

    public S3Handler(ObjectStore store, StoreCredentials credentials, StoreOptions options, ILogger logger)
    {
        _store = store;
        _credentials = credentials;
        _options = options;
        _logger = logger;
        _verifier = new SigV4Verifier(credentials, options.Region, "s3", options.MaxClockSkew, options.TimeProvider);
        _sigV2 = new SigV2Verifier(credentials, options.MaxClockSkew, options.TimeProvider);
    }

    /// <summary>What one request is about, parsed once from the raw target.</summary>
    private sealed class S3Request(HttpContext context, string bucket, string key, Dictionary<string, string> query, SignatureCheck auth)
    {
        public HttpContext Context { get; } = context;

        public HttpRequest Request => Context.Request;

        public HttpResponse Response => Context.Response;

        public string Bucket { get; } = bucket;

        public string Key { get; } = key;

        public Dictionary<string, string> Query { get; } = query;

        public SignatureCheck Auth { get; } = auth;

        public CancellationToken Aborted => Context.RequestAborted;

        public string? Param(string name) => Query.TryGetValue(name, out var value) ? value : null;
    }

    public async Task HandleAsync(HttpContext context)
    {
        var requestId = _requestIdPrefix + Interlocked.Increment(ref _requestCount).ToString("X8", CultureInfo.InvariantCulture);
        context.Response.Headers["x-amz-request-id"] = requestId;
        if (_options.FirstByteLatency > TimeSpan.Zero && !context.Request.Path.StartsWithSegments(CredentialsPath.TrimEnd('/'), StringComparison.Ordinal))
        {
            // S3's FirstByteLatency: from the complete request received to the response's first byte. OnStarting runs
            // after the handler has read the request and before the status line goes out, whatever the outcome.
            context.Response.OnStarting(() => DelayAtLeastAsync(_options.FirstByteLatency, _options.TimeProvider));
        }

        var resource = "/";
        try
        {
            var rawTarget = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.ToUriComponent();
            var q = rawTarget.IndexOf('?', StringComparison.Ordinal);
            var rawPath = q < 0 ? rawTarget : rawTarget[..q];
            if (!rawPath.StartsWith('/'))
            {
                throw S3Errors.InvalidRequest("Only path-style requests (http://host:port/bucket/key) are supported.");
            }

            resource = SigV4.UriDecode(rawPath);
            if (IsFormUpload(context.Request, rawPath, q))
            {
                await PostObjectAsync(context, resource.Trim('/'));
                return;
            }

            var parameters = QueryParameters(q < 0 ? string.Empty : rawTarget[(q + 1)..]);
            var auth = Authenticate(context, rawTarget, rawPath, parameters);
            if (auth.Error is { } error)
            {
                throw error;
            }

            if (_options.CredentialAdmin && resource.StartsWith(CredentialsPath, StringComparison.Ordinal))
            {
                await CredentialsAsync(context, resource, auth);
                return;
            }

            var query = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (name, value) in parameters)
            {
                query[name] = value;
            }

            var slash = resource.IndexOf('/', 1);
            var bucket = slash < 0 ? resource[1..] : resource[1..slash];
            var key = slash < 0 ? string.Empty : resource[(slash + 1)..];
            var request = new S3Request(context, bucket, key, query, auth);
            if (bucket.Length == 0)
            {
                await ServiceAsync(request);
                return;
            }

            S3Names.CheckBucketName(bucket);
            if (key.Length == 0)
            {
                await BucketAsync(request);
            }
            else
            {
                S3Names.CheckKey(key);
                await ObjectAsync(request);
            }
        }
        catch (S3Exception e)
        {
            await WriteErrorAsync(context, e, resource, requestId);
        }
        catch (Exception e) when (e is BadHttpRequestException or ConnectionResetException or OperationCanceledException && context.RequestAborted.IsCancellationRequested)
        {
            // The client went away or sent a broken body: nothing was committed, nothing to answer.
            context.Abort();
        }
        catch (BadHttpRequestException e)
        {
            await WriteErrorAsync(context, S3Errors.IncompleteBody(e.Message), resource, requestId);
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Store: request {RequestId} {Method} {Resource} failed", requestId, context.Request.Method, resource);
            await WriteErrorAsync(context, new S3Exception(), resource, requestId);
        }
    }

    /// <summary>
    /// Waits at least <paramref name="delay"/>. Task.Delay runs on the runtime's millisecond timer and can end up to a
    /// millisecond early (CI saw a 21 ms profile answer in 20.99 ms); an emulated latency must never be shorter than the
    /// profile says, so a short wait is topped up.
    /// </summary>
    private static async Task DelayAtLeastAsync(TimeSpan delay, TimeProvider time)
    {
        var start = time.GetTimestamp();
        await Task.Delay(delay, time);
        for (var left = delay - time.GetElapsedTime(start); left > TimeSpan.Zero; left = delay - time.GetElapsedTime(start))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling(left.TotalMilliseconds)), time);
        }
    }

    private static async Task WriteErrorAsync(HttpContext context, S3Exception error, string resource, string requestId)
    {
        var response = context.Response;
        if (response.HasStarted)
        {
            context.Abort();
            return;
        }

        response.StatusCode = error.Status;
        if (context.Request.Headers.Expect.ToString().Contains("100-continue", StringComparison.OrdinalIgnoreCase))
        {
            // A client told "no" instead of "100 Continue" may never send the body it announced; were the
            // connection kept, the next request's first bytes would be taken for that body.
            response.Headers.Connection = "close";
        }

        foreach (var (name, value) in error.Details)
        {
            if (name == "Region")
            {
                // As S3: a HEAD's error has no body, and botocore reads the region to redirect to from this header.
                response.Headers["x-amz-bucket-region"] = value;
            }
        }

        if (HttpMethods.IsHead(context.Request.Method))
        {
            response.Headers["x-amz-error-code"] = error.Code;
            return;
        }

        response.ContentType = XmlContentType;
        await response.WriteAsync(S3Xml.ErrorDocument(error.Code, error.Message, resource, requestId, error.Details), context.RequestAborted);
    }

    private static Task WriteXmlAsync(S3Request request, string xml, int status = 200)
    {
        request.Response.StatusCode = status;
        request.Response.ContentType = XmlContentType;
        return request.Response.WriteAsync(xml, request.Aborted);
    }

    private static void Authorize(S3Request request, string? bucket, string? key, bool isWrite)
    {
        var check = request.Auth.Credential.Authorize;
        if (check is not null && !check(new StoreRequestScope(bucket, key, isWrite)))
        {
            throw S3Errors.NotGranted(bucket, key, isWrite);
        }
    }

    internal static Dictionary<string, string> ParseQuery(string rawQuery)
    {
        var query = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in QueryParameters(rawQuery))
        {
            query[name] = value;
        }

        return query;
    }

    /// <summary>The query's parameters in the order sent, repeats kept, names and values decoded (a bare name has value "").</summary>
    internal static List<KeyValuePair<string, string>> QueryParameters(string rawQuery)
    {
        var parameters = new List<KeyValuePair<string, string>>();
        foreach (var range in rawQuery.AsSpan().Split('&'))
        {
            var part = rawQuery.AsSpan(range);
            if (part.IsEmpty)
            {
                continue;
            }

            var eq = part.IndexOf('=');
            var name = SigV4.UriDecode((eq < 0 ? part : part[..eq]).ToString());
            parameters.Add(new(name, eq < 0 ? string.Empty : SigV4.UriDecode(part[(eq + 1)..].ToString())));
        }

        return parameters;
    }

    /// <summary>
    /// Verifies the request's signature: SigV2 (header or presigned URL) or SigV4. A SigV2 presigned URL's own parameters
    /// leave the query, and the headers it carries there (x-amz-*, Content-Type, Content-MD5, signed as headers) become
    /// headers, so the operation sees the request its signer signed.
    /// </summary>
    private SignatureCheck Authenticate(HttpContext context, string rawTarget, string rawPath, List<KeyValuePair<string, string>> parameters)
    {
        var headers = context.Request.Headers;
        if (!SigV2Verifier.IsSigV2(headers.Authorization.ToString(), parameters))
        {
            return _verifier.Verify(context.Request.Method, rawTarget, headers);
        }

        var q = rawTarget.IndexOf('?', StringComparison.Ordinal);
        var auth = _sigV2.Verify(context.Request.Method, rawPath, q < 0 ? string.Empty : rawTarget[(q + 1)..], parameters, headers);
        if (auth.Succeeded && auth.Presigned)
        {
            // A header sent as well wins (Content-Type, Content-MD5: the one signed); x-amz-* in both were refused.
            var sent = headers.Keys.ToHashSet(StringComparer.OrdinalIgnoreCase);
            foreach (var (name, value) in parameters.Where(p => SigV2Verifier.IsQueryHeader(p.Key) && !sent.Contains(p.Key)))
            {
                headers.Append(name, value);
            }

            parameters.RemoveAll(p => SigV2Verifier.IsAuthParameter(p.Key) || SigV2Verifier.IsQueryHeader(p.Key));
        }

        return auth;
    }

    /// <summary>Names the operation a request asks for when it is one this store does not implement.</summary>
    private static S3Exception Unsupported(S3Request request, string scope, IReadOnlySet<string> known)
    {
        foreach (var name in request.Query.Keys)
        {
            if (!known.Contains(name) && !name.StartsWith("X-Amz-", StringComparison.Ordinal) && !name.StartsWith("x-id", StringComparison.Ordinal))
            {
                return S3Errors.NotImplemented($"{request.Request.Method} {scope}?{name}");
            }
        }

        return S3Errors.NotImplemented($"{request.Request.Method} {scope}");
    }

    /// <summary>
    /// Refuses a request with a query parameter its operation does not take, naming it: a subresource this store does
    /// not implement (?acl, ?versions, ...) must not be served as the operation it resembles.
    /// </summary>
    private static void RequireOnly(S3Request request, string scope, IReadOnlySet<string> known)
    {
        if (HasSubresource(request, known))
        {
            throw Unsupported(request, scope, known);
        }
    }

    private static bool HasSubresource(S3Request request, IReadOnlySet<string> allowed)
    {
        foreach (var name in request.Query.Keys)
        {
            if (!allowed.Contains(name) && !name.StartsWith("X-Amz-", StringComparison.Ordinal) && name != "x-id")
            {
                return true;
            }
        }

        return false;
    }

    private static int ParseInt(string? value, string name, int fallback, int min, int max)
    {
        if (value is null)
        {
            return fallback;
        }

        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) || parsed < min)
        {
            throw S3Errors.InvalidArgument($"{name} must be an integer between {min} and {max}; got '{value}'.");
        }

        return Math.Min(parsed, max);
    }

    /// <summary>
    /// Streams the request body (decoding aws-chunked, verifying the declared SHA-256, Content-MD5 and
    /// x-amz-checksum-* headers or trailers) into <paramref name="sink"/>. Throws before returning when any
    /// check fails, so the caller commits only verified bytes. Returns the checksum the writer sent and this verified (an
    /// object keeps it, as in S3), or null.
    /// </summary>
    private async Task<ObjectChecksum?> ReceiveBodyAsync(S3Request request, Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> sink, Func<string>? md5Hex, bool objectChecksumHeaders = false)
    {
        var headers = request.Request.Headers;
        var payloadHash = request.Auth.PayloadHash;
        var streaming = payloadHash.StartsWith("STREAMING-", StringComparison.Ordinal);
        var contentEncoding = headers.ContentEncoding.ToString();
        var chunked = streaming || contentEncoding.Contains("aws-chunked", StringComparison.OrdinalIgnoreCase);

        S3Checksum? checksum = null;
        string? expectedChecksum = null;
        var trailer = headers["x-amz-trailer"].ToString().Trim().ToLowerInvariant();
        foreach (var header in headers)
        {
            if (!objectChecksumHeaders && IsChecksumValueHeader(header.Key))
            {
                checksum?.Dispose();
                checksum = S3Checksum.Create(header.Key["x-amz-checksum-".Length..].ToLowerInvariant());
                expectedChecksum = header.Value.ToString();
            }
        }

        if (trailer.Length > 0)
        {
            if (!chunked)
            {
                throw S3Errors.InvalidRequest("x-amz-trailer needs an aws-chunked body.");
            }

            if (!trailer.StartsWith("x-amz-checksum-", StringComparison.Ordinal) || checksum is not null)
            {
                throw S3Errors.InvalidRequest($"Unsupported or duplicate trailer '{trailer}'; one x-amz-checksum-* header or trailer is allowed.");
            }

            checksum = S3Checksum.Create(trailer["x-amz-checksum-".Length..]);
        }

        using var checksumScope = checksum;
        using var sha256 = SigV4.IsHexSha256(payloadHash) ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
        var maxChunk = _options.MaxObjectSize;
        await using var chunkedStream = chunked
            ? new AwsChunkedStream(request.Request.Body, payloadHash.StartsWith(SigV4.StreamingSigned, StringComparison.Ordinal) ? request.Auth : null, payloadHash.EndsWith("-TRAILER", StringComparison.Ordinal) || trailer.Length > 0, maxChunk)
            : null;
        var body = chunkedStream ?? request.Request.Body;
        var buffer = ArrayPool<byte>.Shared.Rent(128 * 1024);
        long total = 0;
        try
        {
            int n;
            while ((n = await body.ReadAsync(buffer, request.Aborted)) > 0)
            {
                var data = buffer.AsMemory(0, n);
                sha256?.AppendData(data.Span);
                checksum?.Append(data.Span);
                total += n;
                await sink(data, request.Aborted);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        var decodedLength = headers["x-amz-decoded-content-length"].ToString();
        if (chunked && decodedLength.Length > 0 && decodedLength != total.ToString(CultureInfo.InvariantCulture))
        {
            throw S3Errors.IncompleteBody($"x-amz-decoded-content-length is {decodedLength} but the decoded body has {total} bytes.");
        }

        if (sha256 is not null && !Convert.ToHexStringLower(sha256.GetHashAndReset()).Equals(payloadHash, StringComparison.OrdinalIgnoreCase))
        {
            throw new S3Exception(400, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.");
        }

        if (checksum is not null)
        {
            if (trailer.Length > 0)
            {
                expectedChecksum = null;
                foreach (var (name, value) in chunkedStream!.Trailers)
                {
                    if (name == trailer)
                    {
                        expectedChecksum = value;
                    }
                }

                if (expectedChecksum is null)
                {
                    throw S3Errors.InvalidRequest($"The body declared the trailer '{trailer}' but did not send it.");
                }
            }

            if (checksum.ToBase64() != expectedChecksum)
            {
                throw S3Errors.BadDigest(checksum.HeaderName);
            }
        }

        var verified = checksum is null ? null : new ObjectChecksum(checksum.Algorithm, expectedChecksum!);

        var contentMd5 = headers.ContentMD5.ToString();
        if (contentMd5.Length > 0)
        {
            if (md5Hex is null)
            {
                throw S3Errors.InvalidRequest("Content-MD5 is not supported on this operation.");
            }

            var declared = new byte[16];
            if (!Convert.TryFromBase64String(contentMd5, declared, out var length) || length != 16)
            {
                throw new S3Exception(400, "InvalidDigest", $"The Content-MD5 you specified is not valid base64 of 16 bytes: '{contentMd5}'.");
            }

            if (!Convert.ToHexStringLower(declared).Equals(md5Hex(), StringComparison.Ordinal))
            {
                throw S3Errors.BadDigest("Content-MD5");
            }
        }

        return verified;
    }

    /// <summary>x-amz-checksum-ALGO (a checksum value), not x-amz-checksum-type, -algorithm or -mode.</summary>
    private static bool IsChecksumValueHeader(string name) =>
        name.StartsWith("x-amz-checksum-", StringComparison.OrdinalIgnoreCase) && !name.Equals("x-amz-checksum-type", StringComparison.OrdinalIgnoreCase)
        && !name.Equals("x-amz-checksum-algorithm", StringComparison.OrdinalIgnoreCase) && !name.Equals("x-amz-checksum-mode", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Reads a small request body (XML) whole, with the same verification as object bodies (<paramref name="objectChecksumHeaders"/>:
    /// x-amz-checksum-* headers state an object's checksum, not this body's, and are left to the caller).
    /// </summary>
    private async Task<MemoryStream> ReceiveSmallBodyAsync(S3Request request, string operation, bool objectChecksumHeaders = false)
    {
        var memory = new MemoryStream();
        await ReceiveBodyAsync(
            request,
            (data, _) =>
            {
                if (memory.Length + data.Length > MaxXmlBody)
                {
                    throw S3Errors.MalformedXml($"the {operation} body is larger than {MaxXmlBody} bytes.");
                }

                memory.Write(data.Span);
                return ValueTask.CompletedTask;
            },
            () => Convert.ToHexStringLower(MD5.HashData(memory.GetBuffer().AsSpan(0, (int)memory.Length))),
            objectChecksumHeaders);
        memory.Position = 0;
        return memory;
    }

    /// <summary>
    /// Content-Type, standard headers, storage options, x-amz-meta-* and x-amz-tagging from the request, as they will be
    /// stored; an ACL other than the owner's full control is refused first (ACLs are disabled, as S3's default).
    /// </summary>
    private (string ContentType, List<KeyValuePair<string, string>> Headers, List<KeyValuePair<string, string>> Metadata, List<KeyValuePair<string, string>> Tags) ReadObjectHeaders(HttpRequest request)
    {
        CheckAclHeaders(request.Headers);
        RefuseObjectLockHeaders(request.Headers);
        var contentType = request.ContentType;
        var headers = new List<KeyValuePair<string, string>>();
        foreach (var name in s_storedHeaders)
        {
            var value = request.Headers[name].ToString();
            if (name == "Content-Encoding")
            {
                value = string.Join(',', value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Where(v => !v.Equals("aws-chunked", StringComparison.OrdinalIgnoreCase)));
            }

            if (value.Length > 0)
            {
                headers.Add(new(name, value));
            }
        }

        CheckWebsiteRedirect(headers);
        AddStorageOptions(request.Headers, headers);

        var metadata = new List<KeyValuePair<string, string>>();
        var size = 0;
        foreach (var header in request.Headers)
        {
            if (header.Key.StartsWith("x-amz-meta-", StringComparison.OrdinalIgnoreCase))
            {
                var name = header.Key.ToLowerInvariant();
                var value = header.Value.ToString();
                size += Encoding.UTF8.GetByteCount(name) - "x-amz-meta-".Length + Encoding.UTF8.GetByteCount(value);
                metadata.Add(new(name, value));
            }
        }

        if (size > MaxUserMetadataBytes)
        {
            throw new S3Exception(400, "MetadataTooLarge", $"Your metadata headers exceed the maximum allowed metadata size: {size} > {MaxUserMetadataBytes} bytes.");
        }

        metadata.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return (string.IsNullOrEmpty(contentType) ? "binary/octet-stream" : contentType, headers, metadata, RequestedTags(request));
    }

    /// <summary>A website redirect must name a path on the site or an http(s) URL, as S3 requires.</summary>
    private static void CheckWebsiteRedirect(List<KeyValuePair<string, string>> headers)
    {
        foreach (var (name, value) in headers)
        {
            if (name == WebsiteRedirectHeader && !(value.StartsWith('/') || value.StartsWith("http://", StringComparison.Ordinal) || value.StartsWith("https://", StringComparison.Ordinal)))
            {
                throw new S3Exception(400, "InvalidRedirectLocation", $"The website redirect location must have a prefix of 'http://' or 'https://' or '/'; got '{value}'.");
            }
        }
    }

    private static string Quote(string etag) => "\"" + etag + "\"";

    private static string HttpDate(DateTimeOffset value) => value.UtcDateTime.ToString("r", CultureInfo.InvariantCulture);
}
