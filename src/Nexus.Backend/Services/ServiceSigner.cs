// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Amazon.Runtime.Internal.Auth;

namespace Nexus.Backend.Services;

/// <summary>
/// Builds the signed HTTP request for a checked <see cref="ServiceRequest"/>: SigV4 with the node's key for the
/// endpoint's service and region. The canonical request is built here (the SDK's own builder needs an SDK request
/// object); the key derivation and signature are the SDK's (<see cref="AWS4Signer.ComputeSignature(string, string, string, DateTime, string, string, string)"/>).
/// </summary>
internal static class ServiceSigner
{
    private static readonly UriCreationOptions s_verbatim = new() { DangerousDisablePathAndQueryCanonicalization = true };

    /// <summary>S3's x-amz-content-sha256 for a body whose hash is not signed (SigV4's <c>UNSIGNED-PAYLOAD</c>).</summary>
    public const string UnsignedPayload = "UNSIGNED-PAYLOAD";

    /// <summary>SHA-256 of no bytes: the payload hash of a presigned request of a service other than S3.</summary>
    private const string EmptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    public static HttpRequestMessage Sign(ServiceRequest request, byte[] body, ServiceEndpoint endpoint, string service, string accessKey, string secretKey, string region, DateTime now) =>
        Sign(request, new ByteArrayContent(body), Convert.ToHexStringLower(SHA256.HashData(body)), endpoint, service, accessKey, secretKey, region, now);

    /// <summary>
    /// An S3 request whose body streams from <paramref name="content"/> unhashed (<see cref="UnsignedPayload"/>): for a
    /// body whose integrity a signed header already carries (a Content-MD5 the store checks), hashing it again for the
    /// signature would only read every byte once more.
    /// </summary>
    public static HttpRequestMessage SignUnsignedPayload(ServiceRequest request, HttpContent content, ServiceEndpoint endpoint, string accessKey, string secretKey, string region, DateTime now) =>
        Sign(request, content, UnsignedPayload, endpoint, "s3", accessKey, secretKey, region, now);

    private static HttpRequestMessage Sign(ServiceRequest request, HttpContent content, string payloadHash, ServiceEndpoint endpoint, string service, string accessKey, string secretKey, string region, DateTime now)
    {
        var baseUri = new Uri(endpoint.Url);
        var host = baseUri.IsDefaultPort ? baseUri.Host : baseUri.Host + ":" + baseUri.Port.ToString(CultureInfo.InvariantCulture);
        var amzDate = now.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);

        // S3's SigV4 differs from the other services': the payload hash travels (and is signed) as
        // x-amz-content-sha256, and the path is encoded once, so it is sent exactly as it is signed. Glacier takes the
        // payload hash as x-amz-content-sha256 too (botocore's add_glacier_checksums adds it to uploads before signing;
        // the sandbox's value is dropped, so this one is the body's).
        var isS3 = service == "s3";
        var sendsPayloadHash = isS3 || service == "glacier";
        var path = isS3 ? Encode(Uri.UnescapeDataString(request.Path), keepSlash: true) : request.Path;
        var added = new List<KeyValuePair<string, string>> { new("host", host), new("x-amz-date", amzDate) };
        if (sendsPayloadHash)
        {
            added.Add(new("x-amz-content-sha256", payloadHash));
        }

        var signedHeaders = SignedHeaders(request, added);
        var canonical = CanonicalRequest(request.Method, isS3 ? path : Encode(path, keepSlash: true), CanonicalQuery(request.Query), signedHeaders, payloadHash);
        var signature = AWS4Signer.ComputeSignature(accessKey, secretKey, region, now, service, signedHeaders.Names, canonical);

        var pathAndQuery = request.Query.Length == 0 ? path : path + "?" + request.Query;
        var message = new HttpRequestMessage(new HttpMethod(request.Method), new Uri(baseUri.GetLeftPart(UriPartial.Authority) + pathAndQuery, s_verbatim))
        {
            Content = content,
        };
        message.Headers.Host = host;
        message.Headers.TryAddWithoutValidation("X-Amz-Date", amzDate);
        message.Headers.TryAddWithoutValidation("Authorization", signature.ForAuthorizationHeader);
        if (sendsPayloadHash)
        {
            message.Headers.TryAddWithoutValidation("x-amz-content-sha256", payloadHash);
        }
        foreach (var (name, value) in request.Headers)
        {
            if (!message.Headers.TryAddWithoutValidation(name, value))
            {
                message.Content.Headers.TryAddWithoutValidation(name, value);
            }
        }

        return message;
    }

    /// <summary>
    /// A presigned URL (SigV4 query authentication, as botocore's <c>generate_presigned_url</c> writes it) of
    /// <paramref name="request"/> at <paramref name="baseUrl"/> (scheme, host and port) for SigV4 service
    /// <paramref name="service"/>: the request's own query, then X-Amz-Algorithm, -Credential, -Date, -Expires and
    /// -SignedHeaders (host and every header of the request, which its user must send as given), then X-Amz-Signature.
    /// S3 signs the payload as unsigned and the path encoded once; the other services (SigV4QueryAuth) the empty
    /// payload's hash and the path encoded twice. The request's query may hold no X-Amz-* parameter (its callers refuse
    /// one).
    /// </summary>
    public static string Presign(ServiceRequest request, string baseUrl, string service, string accessKey, string secretKey, string region, DateTime now, int expiresInSeconds)
    {
        var baseUri = new Uri(baseUrl);
        var host = baseUri.IsDefaultPort ? baseUri.Host : baseUri.Host + ":" + baseUri.Port.ToString(CultureInfo.InvariantCulture);
        var amzDate = now.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var isS3 = service == "s3";
        var path = isS3 ? Encode(Uri.UnescapeDataString(request.Path), keepSlash: true) : request.Path;
        var signedHeaders = SignedHeaders(request, [new("host", host)]);
        var authentication = string.Join('&', new[]
        {
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Credential", $"{accessKey}/{amzDate[..8]}/{region}/{service}/aws4_request"),
            ("X-Amz-Date", amzDate),
            ("X-Amz-Expires", expiresInSeconds.ToString(CultureInfo.InvariantCulture)),
            ("X-Amz-SignedHeaders", signedHeaders.Names),
        }.Select(p => p.Item1 + "=" + Encode(p.Item2, keepSlash: false)));
        var query = request.Query.Length == 0 ? authentication : request.Query + "&" + authentication;
        var canonical = CanonicalRequest(request.Method, isS3 ? path : Encode(path, keepSlash: true), CanonicalQuery(query), signedHeaders, isS3 ? UnsignedPayload : EmptyPayloadHash);
        var signature = AWS4Signer.ComputeSignature(accessKey, secretKey, region, now, service, signedHeaders.Names, canonical);
        return baseUri.GetLeftPart(UriPartial.Authority) + path + "?" + query + "&X-Amz-Signature=" + signature.Signature;
    }

    /// <summary>The headers signed, lower-cased with canonical values and sorted by name, and their names joined by ';'.</summary>
    private static (List<KeyValuePair<string, string>> Headers, string Names) SignedHeaders(ServiceRequest request, IEnumerable<KeyValuePair<string, string>> added)
    {
        var headers = request.Headers
            .Select(h => new KeyValuePair<string, string>(h.Key.ToLowerInvariant(), CanonicalValue(h.Value)))
            .Concat(added)
            .OrderBy(h => h.Key, StringComparer.Ordinal)
            .ToList();
        return (headers, string.Join(';', headers.Select(h => h.Key)));
    }

    private static string CanonicalRequest(string method, string canonicalPath, string canonicalQuery, (List<KeyValuePair<string, string>> Headers, string Names) signed, string payloadHash)
    {
        var canonical = new StringBuilder()
            .Append(method).Append('\n')
            .Append(canonicalPath).Append('\n')
            .Append(canonicalQuery).Append('\n');
        foreach (var (name, value) in signed.Headers)
        {
            canonical.Append(name).Append(':').Append(value).Append('\n');
        }

        return canonical.Append('\n').Append(signed.Names).Append('\n').Append(payloadHash).ToString();
    }

    /// <summary>SigV4's header value: trimmed, runs of spaces as one.</summary>
    private static string CanonicalValue(string value) => string.Join(' ', value.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries));

    /// <summary>
    /// SigV4's canonical query: each name and value decoded then encoded as SigV4 encodes (RFC 3986 unreserved kept),
    /// sorted by name, then value.
    /// </summary>
    private static string CanonicalQuery(string query) =>
        query.Length == 0
            ? ""
            : string.Join('&', query.Split('&', StringSplitOptions.RemoveEmptyEntries)
                .Select(pair => pair.IndexOf('=', StringComparison.Ordinal) is var eq && eq < 0 ? (pair, "") : (pair[..eq], pair[(eq + 1)..]))
                .Select(p => (Name: Encode(Uri.UnescapeDataString(p.Item1), false), Value: Encode(Uri.UnescapeDataString(p.Item2), false)))
                .OrderBy(p => p.Name, StringComparer.Ordinal)
                .ThenBy(p => p.Value, StringComparer.Ordinal)
                .Select(p => p.Name + "=" + p.Value));

    /// <summary>
    /// SigV4's URI encoding of every UTF-8 byte but A-Z a-z 0-9 - _ . ~ (and '/' in paths). Services other than S3 sign
    /// the path encoded twice, so the already encoded path botocore sent is encoded once more here.
    /// </summary>
    private static string Encode(string value, bool keepSlash)
    {
        var builder = new StringBuilder(value.Length);
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~' || (keepSlash && c == '/'))
            {
                builder.Append(c);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }
}
