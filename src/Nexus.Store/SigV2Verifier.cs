// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Collections.Frozen;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Nexus.Store;

/// <summary>
/// Verifies AWS Signature Version 2 as S3 takes it: <c>Authorization: AWS id:signature</c>, a presigned URL's
/// <c>AWSAccessKeyId</c>/<c>Expires</c>/<c>Signature</c>, and a form upload's <c>AWSAccessKeyId</c>/<c>policy</c>/<c>signature</c>.
/// botocore 1.29 presigns S3 URLs and POST forms this way unless told <c>s3v4</c>, so a baseline function's
/// <c>generate_presigned_url</c> needs it. The signature is base64 HMAC-SHA1 of: method, Content-MD5, Content-Type,
/// the date (a presigned URL's Expires), the x-amz-* headers (a presigned URL's x-amz-* query parameters with them),
/// and the resource: the path as sent plus the subresources S3 signs.
/// <para>
/// What SigV2 leaves unsigned is the rest of the query. A parameter there that picks what the request does
/// (<c>?retention</c>, <c>?attributes</c>, ...) would let whoever holds a URL, or replays a request, make it do
/// something its signer never signed, so any query parameter that is neither signed nor a listing's paging or filter
/// is refused. The listing parameters stay unsigned, as in S3: a presigned listing's holder can list another prefix,
/// always within the credential's grants.
/// </para>
/// </summary>
internal sealed class SigV2Verifier
{
    public const string AccessKeyIdParameter = "AWSAccessKeyId";

    private const string HeaderScheme = "AWS ";

    /// <summary>At most as long as a SigV4 presigned URL may live (S3 sets no bound for SigV2; the store does).</summary>
    private const long MaxPresignSeconds = 7 * 24 * 3600;

    /// <summary>The subresources whose names and values a SigV2 signature covers: those botocore signs.</summary>
    private static readonly FrozenSet<string> s_signedSubresources = FrozenSet.Create(StringComparer.Ordinal,
    [
        "accelerate", "acl", "cors", "defaultObjectAcl", "location", "logging", "partNumber", "policy", "requestPayment", "torrent",
        "versioning", "versionId", "versions", "website", "uploads", "uploadId", "response-content-type", "response-content-language",
        "response-expires", "response-cache-control", "response-content-disposition", "response-content-encoding", "delete",
        "lifecycle", "tagging", "restore", "storageClass", "notification", "replication", "analytics", "metrics", "inventory",
        "select", "select-type", "object-lock",
    ]);

    /// <summary>Unsigned parameters that only page or filter a listing (and botocore's operation hint).</summary>
    private static readonly FrozenSet<string> s_unsignedListingParameters = FrozenSet.Create(StringComparer.Ordinal,
    [
        "prefix", "delimiter", "marker", "max-keys", "list-type", "continuation-token", "start-after", "encoding-type", "fetch-owner",
        "key-marker", "version-id-marker", "upload-id-marker", "max-uploads", "max-parts", "part-number-marker", "x-id",
    ]);

    /// <summary>RFC 822 dates with a numeric zone ("Tue, 27 Mar 2007 19:36:42 +0000", as S3's SigV2 examples write them).</summary>
    private static readonly string[] s_numericZoneDateFormats = ["ddd, dd MMM yyyy HH:mm:ss zzz", "ddd, d MMM yyyy HH:mm:ss zzz"];

    private readonly StoreCredentials _credentials;
    private readonly TimeSpan _maxSkew;
    private readonly TimeProvider _time;

    public SigV2Verifier(StoreCredentials credentials, TimeSpan maxClockSkew, TimeProvider timeProvider)
    {
        _credentials = credentials;
        _maxSkew = maxClockSkew;
        _time = timeProvider;
    }

    /// <summary>Whether a request is SigV2-signed: by its Authorization scheme, or (unsigned by header) by a presigned URL's key id.</summary>
    public static bool IsSigV2(string authorization, IReadOnlyList<KeyValuePair<string, string>> query) =>
        authorization.StartsWith(HeaderScheme, StringComparison.Ordinal)
        || (authorization.Length == 0 && query.Any(p => p.Key == AccessKeyIdParameter));

    /// <summary>
    /// Whether a decoded query parameter of a SigV2 presigned URL stands for a header (x-amz-*, Content-Type,
    /// Content-MD5: botocore moves them there), signed as that header and applied as it.
    /// </summary>
    public static bool IsQueryHeader(string name) =>
        name.StartsWith("x-amz-", StringComparison.OrdinalIgnoreCase)
        || name.Equals("content-type", StringComparison.OrdinalIgnoreCase)
        || name.Equals("content-md5", StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether a decoded query parameter is one of a presigned URL's own (key id, expiry, signature).</summary>
    public static bool IsAuthParameter(string name) => name is AccessKeyIdParameter or "Expires" or "Signature";

    /// <summary>
    /// Verifies a SigV2 request: <paramref name="rawQuery"/> as sent, <paramref name="query"/> its parameters in order,
    /// names and values decoded.
    /// </summary>
    public SignatureCheck Verify(string method, string rawPath, string rawQuery, IReadOnlyList<KeyValuePair<string, string>> query, IHeaderDictionary headers)
    {
        var authorization = headers.Authorization.ToString();
        var presigned = authorization.Length == 0;
        string accessKeyId, signature, date;
        if (presigned)
        {
            string? id = null, sig = null, expires = null;
            foreach (var (name, value) in query)
            {
                switch (name)
                {
                    case AccessKeyIdParameter: id = value; break;
                    case "Signature": sig = value; break;
                    case "Expires": expires = value; break;
                }
            }

            if (id is not { Length: > 0 } || sig is not { Length: > 0 } || expires is null)
            {
                return SignatureCheck.Fail(new S3Exception(400, "AuthorizationQueryParametersError", "A Signature Version 2 presigned URL needs AWSAccessKeyId, Expires and Signature."));
            }

            if (ExpiryError(expires) is { } expired)
            {
                return SignatureCheck.Fail(expired);
            }

            (accessKeyId, signature, date) = (id, sig, expires);
        }
        else
        {
            var credential = authorization.AsSpan(HeaderScheme.Length).Trim();
            var colon = credential.LastIndexOf(':');
            if (colon <= 0 || colon == credential.Length - 1)
            {
                return SignatureCheck.Fail(new S3Exception(400, "InvalidArgument", "The Authorization header must be 'AWS <access key id>:<signature>' (Signature Version 2)."));
            }

            (accessKeyId, signature) = (credential[..colon].ToString(), credential[(colon + 1)..].ToString());
            if (DateError(headers, out date) is { } dateError)
            {
                return SignatureCheck.Fail(dateError);
            }
        }

        if (!_credentials.TryGet(accessKeyId, out var found))
        {
            return SignatureCheck.Fail(new S3Exception(403, "InvalidAccessKeyId", $"The AWS Access Key Id you provided does not exist in our records: '{accessKeyId}'."));
        }

        if (UnsignedParameterError(query, presigned) is { } unsigned)
        {
            return SignatureCheck.Fail(unsigned);
        }

        if (presigned && QueryHeaderError(query) is { } badHeader)
        {
            return SignatureCheck.Fail(badHeader);
        }

        if (AmbiguousSubresourceError(query) is { } ambiguous)
        {
            return SignatureCheck.Fail(ambiguous);
        }

        var amzHeaders = AmzHeaders(headers, presigned ? query : []);
        if (amzHeaders.Error is { } duplicate)
        {
            return SignatureCheck.Fail(duplicate);
        }

        var contentMd5 = StandardHeader(headers, query, "Content-MD5", presigned);
        var contentType = StandardHeader(headers, query, "Content-Type", presigned);
        var stringToSign = StringToSign(method, contentMd5, contentType, date, amzHeaders.Canonical, CanonicalResource(rawPath, rawQuery));
        if (!Matches(found, stringToSign, signature))
        {
            // A client may have signed the decoded path encoded by the rules of SigV4 rather than the path as it sent it;
            // both name the same key. One that sent x-amz-date may have signed its Date line too. botocore 1.29 signs
            // an operation whose URI has a fixed query (?tagging, ?delete, ?uploads, ?list-type=2) with that query
            // in its path as well: "/b/k?tagging?tagging". A raw path holds no '?', so none of these forms can
            // stand for another request's.
            var encodedPath = SigV4.UriEncode(SigV4.UriDecode(rawPath), keepSlash: true);
            var alternatives = new List<string>(3);
            if (encodedPath != rawPath)
            {
                alternatives.Add(StringToSign(method, contentMd5, contentType, date, amzHeaders.Canonical, CanonicalResource(encodedPath, rawQuery)));
            }

            var firstParameter = rawQuery.AsSpan(0, rawQuery.IndexOf('&') is var amp and >= 0 ? amp : rawQuery.Length);
            if (!firstParameter.IsEmpty)
            {
                alternatives.Add(StringToSign(method, contentMd5, contentType, date, amzHeaders.Canonical, CanonicalResource(string.Concat(rawPath, "?", firstParameter), rawQuery)));
            }

            if (!presigned && date.Length == 0 && headers.Date.ToString() is { Length: > 0 } dateHeader)
            {
                alternatives.Add(StringToSign(method, contentMd5, contentType, dateHeader.Trim(), amzHeaders.Canonical, CanonicalResource(rawPath, rawQuery)));
            }

            if (!alternatives.Any(a => Matches(found, a, signature)))
            {
                return SignatureCheck.Fail(S3Errors.SignatureDoesNotMatch($"String to sign (Signature Version 2, newline-separated): '{stringToSign.Replace("\n", "\\n", StringComparison.Ordinal)}'."));
            }
        }

        var payloadHash = headers["x-amz-content-sha256"].ToString();
        if (payloadHash.StartsWith("STREAMING-", StringComparison.Ordinal))
        {
            return SignatureCheck.Fail(S3Errors.InvalidRequest($"x-amz-content-sha256 {payloadHash}: an aws-chunked body's chunks are signed with a Signature Version 4 key; sign the request with SigV4."));
        }

        if (payloadHash.Length == 0)
        {
            payloadHash = SigV4.UnsignedPayload;
        }
        else if (!SigV4.IsKnownPayloadHash(payloadHash))
        {
            return SignatureCheck.Fail(S3Errors.InvalidArgument($"x-amz-content-sha256 must be a hex SHA-256 or UNSIGNED-PAYLOAD; got '{payloadHash}'."));
        }

        return SignatureCheck.OkV2(found, payloadHash, presigned, [.. amzHeaders.Names, "content-md5", "content-type", "date"]);
    }

    /// <summary>
    /// A form upload's SigV2 signature: base64 HMAC-SHA1 of the base64 policy with the credential's secret. Returns the
    /// credential; throws the S3 error otherwise.
    /// </summary>
    public StoreCredential VerifyPost(IReadOnlyDictionary<string, string> fields)
    {
        string Field(string name) => fields.TryGetValue(name, out var value) ? value
            : throw S3Errors.AccessDenied($"the form has no '{name}' field (an anonymous POST upload is not allowed).");

        var accessKeyId = Field("awsaccesskeyid");
        var policy = Field("policy");
        var signature = Field("signature");
        if (!_credentials.TryGet(accessKeyId, out var credential))
        {
            throw new S3Exception(403, "InvalidAccessKeyId", $"The AWS Access Key Id you provided does not exist in our records: '{accessKeyId}'.");
        }

        if (!Matches(credential, policy, signature))
        {
            throw S3Errors.SignatureDoesNotMatch("(the POST policy's Signature Version 2 signature)");
        }

        return credential;
    }

    internal static string StringToSign(string method, string contentMd5, string contentType, string date, string canonicalAmzHeaders, string canonicalResource) =>
        string.Concat(method, "\n", contentMd5, "\n", contentType, "\n", date, "\n", canonicalAmzHeaders, canonicalResource);

    internal static string Sign(string secretAccessKey, string stringToSign) =>
        Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(secretAccessKey), Encoding.UTF8.GetBytes(stringToSign)));

    /// <summary>
    /// The path as given, then the signed subresources sorted by name (ordinal), each as botocore writes it: the name
    /// and, when the query gave one, '=' and the decoded value (<c>?tagging</c> and <c>?tagging=</c> are signed apart).
    /// </summary>
    internal static string CanonicalResource(string path, string rawQuery)
    {
        var subresources = new List<(string Name, string? Value)>();
        foreach (var range in rawQuery.AsSpan().Split('&'))
        {
            var part = rawQuery.AsSpan(range);
            var eq = part.IndexOf('=');
            var name = SigV4.UriDecode((eq < 0 ? part : part[..eq]).ToString());
            if (s_signedSubresources.Contains(name))
            {
                subresources.Add((name, eq < 0 ? null : SigV4.UriDecode(part[(eq + 1)..].ToString())));
            }
        }

        var builder = new StringBuilder(path.Length == 0 ? "/" : path);
        var separator = '?';
        foreach (var (name, value) in subresources.OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            builder.Append(separator).Append(name);
            if (value is not null)
            {
                builder.Append('=').Append(value);
            }

            separator = '&';
        }

        return builder.ToString();
    }

    private static bool Matches(StoreCredential credential, string stringToSign, string signature)
    {
        var expected = Encoding.ASCII.GetBytes(Sign(credential.SecretAccessKey, stringToSign));
        var given = Encoding.ASCII.GetBytes(signature);
        return expected.Length == given.Length && CryptographicOperations.FixedTimeEquals(expected, given);
    }

    /// <summary>
    /// Content-MD5 or Content-Type as the operation sees it (trimmed): the header when one was sent, even empty (the
    /// query's is then not applied, so it may not be what is signed: an empty Content-MD5 header would have left the body
    /// unchecked against the MD5 the URL signed); for a presigned URL without it, its query parameter.
    /// </summary>
    private static string StandardHeader(IHeaderDictionary headers, IReadOnlyList<KeyValuePair<string, string>> query, string name, bool presigned)
    {
        var value = headers.TryGetValue(name, out var sent) || !presigned
            ? sent.ToString()
            : query.FirstOrDefault(p => p.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value ?? string.Empty;
        return value.Trim();
    }

    /// <summary>
    /// The x-amz-* headers, lower-cased and sorted, each "name:value\n" with repeated values joined by ','; a presigned
    /// URL's x-amz-* query parameters count as headers. A name both in the headers and the query is refused: which one
    /// would be signed and which applied is not clear.
    /// </summary>
    private static (string Canonical, List<string> Names, S3Exception? Error) AmzHeaders(IHeaderDictionary headers, IReadOnlyList<KeyValuePair<string, string>> query)
    {
        var all = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var (name, values) in headers)
        {
            if (name.StartsWith("x-amz-", StringComparison.OrdinalIgnoreCase))
            {
                all[name.ToLowerInvariant()] = [.. values.Select(v => (v ?? string.Empty).Trim())];
            }
        }

        foreach (var (name, value) in query)
        {
            if (!name.StartsWith("x-amz-", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var lower = name.ToLowerInvariant();
            if (headers.ContainsKey(lower))
            {
                return (string.Empty, [], S3Errors.InvalidRequest($"'{lower}' is given both as a header and as a query parameter."));
            }

            if (all.TryGetValue(lower, out var list))
            {
                list.Add(value.Trim());
            }
            else
            {
                all[lower] = [value.Trim()];
            }
        }

        var canonical = new StringBuilder();
        foreach (var (name, values) in all)
        {
            canonical.Append(name).Append(':').AppendJoin(',', values).Append('\n');
        }

        return (canonical.ToString(), [.. all.Keys], null);
    }

    /// <summary>A query parameter SigV2 does not sign and that is not a listing's: refused, naming it.</summary>
    private static S3Exception? UnsignedParameterError(IReadOnlyList<KeyValuePair<string, string>> query, bool presigned)
    {
        foreach (var (name, _) in query)
        {
            if (s_signedSubresources.Contains(name) || s_unsignedListingParameters.Contains(name) || (presigned && (IsAuthParameter(name) || IsQueryHeader(name))))
            {
                continue;
            }

            return S3Errors.InvalidRequest($"The query parameter '{name}' is not covered by a Signature Version 2 signature and would change what the request does; sign the request with Signature Version 4.");
        }

        return null;
    }

    /// <summary>
    /// A query parameter that becomes a header must be one a client could have sent as such: a token for a name and
    /// printable ASCII for a value. Decoded from the URL, it could hold CR LF or other bytes no request header can, and
    /// would be stored and answered as metadata.
    /// </summary>
    private static S3Exception? QueryHeaderError(IReadOnlyList<KeyValuePair<string, string>> query)
    {
        var standard = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in query)
        {
            if (IsQueryHeader(name) && (!name.All(c => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal)) || !value.All(c => c is >= ' ' and <= '~')))
            {
                return S3Errors.InvalidArgument($"The query parameter '{name}' stands for a header: its name must be an HTTP token and its value printable ASCII.");
            }

            // One value is signed on its line, but every one is applied (joined by ','): a holder could add another
            // Content-Type to the signed one.
            if (!name.StartsWith("x-amz-", StringComparison.OrdinalIgnoreCase) && IsQueryHeader(name) && !standard.Add(name))
            {
                return S3Errors.InvalidArgument($"The query parameter '{name}' is given more than once.");
            }
        }

        return null;
    }

    /// <summary>
    /// A signed subresource whose decoded value holds '&amp;' and a signed subresource's name after it: its canonical
    /// form reads as two subresources, so the signature of <c>?response-content-disposition=a&amp;response-content-type=text/plain</c>
    /// would also verify <c>?response-content-disposition=a%26response-content-type%3Dtext/plain</c>, which leaves the
    /// signed Content-Type out.
    /// </summary>
    private static S3Exception? AmbiguousSubresourceError(IReadOnlyList<KeyValuePair<string, string>> query)
    {
        foreach (var (name, value) in query)
        {
            if (!s_signedSubresources.Contains(name))
            {
                continue;
            }

            foreach (var range in value.AsSpan().Split('&'))
            {
                var part = value.AsSpan(range);
                var eq = part.IndexOf('=');
                if (range.Start.Value > 0 && s_signedSubresources.Contains((eq < 0 ? part : part[..eq]).ToString()))
                {
                    return S3Errors.InvalidArgument($"The value of '{name}' holds '&' and a subresource's name; its Signature Version 2 signature would stand for another request.");
                }
            }
        }

        return null;
    }

    /// <summary>Expires: whole seconds since the epoch, not passed, and at most <see cref="MaxPresignSeconds"/> ahead.</summary>
    private S3Exception? ExpiryError(string expires)
    {
        if (!long.TryParse(expires, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return new S3Exception(400, "AuthorizationQueryParametersError", $"Expires must be a time in whole seconds since 1970-01-01 UTC; got '{expires}'.");
        }

        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        if (now > seconds)
        {
            return S3Errors.AccessDenied($"Request has expired (Expires {expires}, now {now}).");
        }

        return seconds - now > MaxPresignSeconds
            ? new S3Exception(400, "AuthorizationQueryParametersError", $"A presigned URL may be valid for at most {MaxPresignSeconds} seconds (7 days); this one expires in {seconds - now} s.")
            : null;
    }

    /// <summary>
    /// A header-signed request's date: x-amz-date when present (then the Date line signed is empty, as S3 documents), else
    /// Date; either an HTTP date within the allowed clock skew.
    /// </summary>
    private S3Exception? DateError(IHeaderDictionary headers, out string signedDate)
    {
        var amzDate = headers["x-amz-date"].ToString();
        var given = amzDate.Length > 0 ? amzDate : headers.Date.ToString();
        signedDate = amzDate.Length > 0 ? string.Empty : given.Trim();
        if (!DateTimeOffset.TryParseExact(given.Trim(), "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            && !DateTimeOffset.TryParseExact(given.Trim(), s_numericZoneDateFormats, CultureInfo.InvariantCulture, DateTimeStyles.None, out at))
        {
            return new S3Exception(403, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header (an HTTP date, e.g. 'Mon, 07 Dec 2026 10:00:00 GMT').");
        }

        var now = _time.GetUtcNow();
        return (at - now).Duration() > _maxSkew
            ? new S3Exception(403, "RequestTimeTooSkewed", $"The difference between the request time ({given.Trim()}) and the server's time ({now:r}) is too large.")
            : null;
    }
}
