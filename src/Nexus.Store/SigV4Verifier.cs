// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Nexus.Store;

/// <summary>
/// Verifies AWS Signature Version 4 (Authorization header or presigned query) against a
/// <see cref="StoreCredentials"/> registry. Reusable for any service name: the store uses "s3",
/// the node's Invoke API "lambda" (passing the body's hex SHA-256, which lambda clients do not send), the node's signing
/// proxy any service and region (null: as the credential scope names them; the caller reads <see cref="SignatureCheck.Scope"/>).
/// </summary>
public sealed class SigV4Verifier
{
    private const int MaxPresignExpirySeconds = 7 * 24 * 3600;
    private const int MaxCachedKeys = 4096;

    private readonly StoreCredentials _credentials;
    private readonly string? _region;
    private readonly string? _service;
    private readonly TimeSpan _maxSkew;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<(string AccessKeyId, string Date, string Region, string Service), (StoreCredential Credential, byte[] Key)> _keys = new();

    public SigV4Verifier(StoreCredentials credentials, string? region, string? service, TimeSpan maxClockSkew, TimeProvider? timeProvider = null)
    {
        _credentials = credentials;
        _region = region;
        _service = service;
        _maxSkew = maxClockSkew;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <inheritdoc cref="Verify(string, string, IHeaderDictionary, string?)"/>
    public SignatureCheck Verify(HttpRequest request, string? payloadHash = null) =>
        Verify(request.Method, RawTarget(request), request.Headers, payloadHash);

    /// <summary>The request's path and query exactly as the client sent them (what it signed).</summary>
    public static string RawTarget(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var rawTarget = request.HttpContext.Features.Get<IHttpRequestFeature>()?.RawTarget;
        return string.IsNullOrEmpty(rawTarget) ? request.Path.ToUriComponent() + request.QueryString.ToUriComponent() : rawTarget;
    }

    /// <summary>
    /// Verifies a request given its method, raw request target (path and query as sent) and headers.
    /// <paramref name="payloadHash"/>: the body's hex SHA-256 for services whose clients do not send
    /// x-amz-content-sha256; null for S3, which takes the header (or UNSIGNED-PAYLOAD when presigned).
    /// </summary>
    public SignatureCheck Verify(string method, string rawTarget, IHeaderDictionary headers, string? payloadHash = null)
    {
        var q = rawTarget.IndexOf('?', StringComparison.Ordinal);
        var rawPath = q < 0 ? rawTarget : rawTarget[..q];
        var rawQuery = q < 0 ? string.Empty : rawTarget[(q + 1)..];

        var authorization = headers.Authorization.ToString();
        if (authorization.Length > 0)
        {
            return VerifyHeader(method, rawPath, rawQuery, headers, authorization, payloadHash);
        }

        if (rawQuery.Contains("X-Amz-Signature=", StringComparison.Ordinal))
        {
            return VerifyPresigned(method, rawPath, rawQuery, headers, payloadHash);
        }

        if (rawQuery.Contains("AWSAccessKeyId=", StringComparison.Ordinal))
        {
            return SignatureCheck.Fail(S3Errors.InvalidRequest("Signature Version 2 presigned URLs are taken only by the S3 store; presign with Signature Version 4."));
        }

        return SignatureCheck.Fail(S3Errors.AccessDenied("anonymous requests are not allowed; sign the request with AWS Signature Version 4."));
    }

    private SignatureCheck VerifyHeader(string method, string rawPath, string rawQuery, IHeaderDictionary headers, string authorization, string? payloadHash)
    {
        if (!authorization.StartsWith(SigV4.Algorithm + " ", StringComparison.Ordinal))
        {
            return Malformed("the Authorization header must use AWS4-HMAC-SHA256 (Signature Version 4); other schemes are not supported.");
        }

        string? credential = null, signedHeaders = null, signature = null;
        foreach (var range in authorization.AsSpan(SigV4.Algorithm.Length + 1).Split(','))
        {
            var part = authorization.AsSpan(SigV4.Algorithm.Length + 1)[range].Trim();
            if (part.StartsWith("Credential="))
            {
                credential = part["Credential=".Length..].ToString();
            }
            else if (part.StartsWith("SignedHeaders="))
            {
                signedHeaders = part["SignedHeaders=".Length..].ToString();
            }
            else if (part.StartsWith("Signature="))
            {
                signature = part["Signature=".Length..].ToString();
            }
        }

        if (credential is null || signedHeaders is null || signature is null)
        {
            return Malformed("the Authorization header needs Credential=, SignedHeaders= and Signature=.");
        }

        var amzDate = headers["x-amz-date"].ToString();
        if (amzDate.Length == 0)
        {
            var date = headers.Date.ToString();
            if (date.Length == 0 || !DateTimeOffset.TryParseExact(date, "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
            {
                return SignatureCheck.Fail(new S3Exception(403, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header."));
            }

            amzDate = parsed.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        }

        if (!TryParseAmzDate(amzDate, out var requestTime))
        {
            return SignatureCheck.Fail(new S3Exception(403, "AccessDenied", $"x-amz-date '{amzDate}' is not in the form yyyyMMddTHHmmssZ."));
        }

        var now = _time.GetUtcNow();
        if ((now - requestTime).Duration() > _maxSkew)
        {
            return SignatureCheck.Fail(new S3Exception(403, "RequestTimeTooSkewed", $"The difference between the request time ({amzDate}) and the server's time ({now.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}) is too large."));
        }

        if (payloadHash is null)
        {
            payloadHash = headers["x-amz-content-sha256"].ToString();
            if (payloadHash.Length == 0)
            {
                return SignatureCheck.Fail(S3Errors.InvalidRequest("Missing required header for this request: x-amz-content-sha256."));
            }

            if (!SigV4.IsKnownPayloadHash(payloadHash))
            {
                return SignatureCheck.Fail(S3Errors.InvalidArgument($"x-amz-content-sha256 must be a hex SHA-256 or one of UNSIGNED-PAYLOAD, {SigV4.StreamingSigned}, {SigV4.StreamingSignedTrailer}, {SigV4.StreamingUnsignedTrailer}; got '{payloadHash}'."));
            }
        }

        return Check(method, rawPath, rawQuery, headers, credential, signedHeaders, signature, amzDate, payloadHash, presigned: false);
    }

    private SignatureCheck VerifyPresigned(string method, string rawPath, string rawQuery, IHeaderDictionary headers, string? payloadHash)
    {
        string? algorithm = null, credential = null, amzDate = null, expires = null, signedHeaders = null, signature = null;
        foreach (var range in rawQuery.AsSpan().Split('&'))
        {
            var part = rawQuery.AsSpan(range);
            var eq = part.IndexOf('=');
            if (eq < 0)
            {
                continue;
            }

            var name = part[..eq];
            var value = part[(eq + 1)..];
            if (!name.StartsWith("X-Amz-"))
            {
                continue;
            }

            var decoded = SigV4.UriDecode(value.ToString());
            switch (name[6..])
            {
                case "Algorithm": algorithm = decoded; break;
                case "Credential": credential = decoded; break;
                case "Date": amzDate = decoded; break;
                case "Expires": expires = decoded; break;
                case "SignedHeaders": signedHeaders = decoded; break;
                case "Signature": signature = decoded; break;
            }
        }

        if (algorithm != SigV4.Algorithm || credential is null || amzDate is null || expires is null || signedHeaders is null || signature is null)
        {
            return SignatureCheck.Fail(new S3Exception(400, "AuthorizationQueryParametersError", "A presigned URL needs X-Amz-Algorithm=AWS4-HMAC-SHA256, X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders and X-Amz-Signature."));
        }

        if (!TryParseAmzDate(amzDate, out var signedAt))
        {
            return SignatureCheck.Fail(new S3Exception(400, "AuthorizationQueryParametersError", $"X-Amz-Date '{amzDate}' is not in the form yyyyMMddTHHmmssZ."));
        }

        if (!int.TryParse(expires, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds < 1 || seconds > MaxPresignExpirySeconds)
        {
            return SignatureCheck.Fail(new S3Exception(400, "AuthorizationQueryParametersError", $"X-Amz-Expires must be between 1 and {MaxPresignExpirySeconds} seconds; got '{expires}'."));
        }

        var now = _time.GetUtcNow();
        if (signedAt - now > _maxSkew)
        {
            return SignatureCheck.Fail(S3Errors.AccessDenied("Request is not valid yet (X-Amz-Date is in the future)."));
        }

        if (now > signedAt.AddSeconds(seconds))
        {
            return SignatureCheck.Fail(S3Errors.AccessDenied($"Request has expired (signed {amzDate}, valid for {seconds} s)."));
        }

        if (payloadHash is null)
        {
            payloadHash = headers["x-amz-content-sha256"].ToString();
            if (payloadHash.Length == 0)
            {
                payloadHash = SigV4.UnsignedPayload;
            }
            else if (!SigV4.IsKnownPayloadHash(payloadHash))
            {
                return SignatureCheck.Fail(S3Errors.InvalidArgument($"x-amz-content-sha256 '{payloadHash}' is neither a hex SHA-256 nor a known token."));
            }
        }

        return Check(method, rawPath, rawQuery, headers, credential, signedHeaders, signature, amzDate, payloadHash, presigned: true);
    }

    private SignatureCheck Check(string method, string rawPath, string rawQuery, IHeaderDictionary headers, string credential, string signedHeaders, string signature, string amzDate, string payloadHash, bool presigned)
    {
        // Credential = AKID/yyyyMMdd/region/service/aws4_request; the key id itself holds no '/'.
        var parts = credential.Split('/');
        if (parts.Length != 5 || parts[4] != "aws4_request")
        {
            return Malformed($"the credential '{credential}' is not of the form <access key id>/<yyyyMMdd>/<region>/<service>/aws4_request.");
        }

        if (!_credentials.TryGet(parts[0], out var found))
        {
            return SignatureCheck.Fail(new S3Exception(403, "InvalidAccessKeyId", $"The AWS Access Key Id you provided does not exist in our records: '{parts[0]}'."));
        }

        if (parts[1] != amzDate[..8])
        {
            return Malformed($"the credential date '{parts[1]}' does not match the request date '{amzDate[..8]}'.");
        }

        if (_region is not null && parts[2] != _region)
        {
            // S3 names the region to sign for (the error's Region, x-amz-bucket-region): botocore's S3 region redirector
            // then signs the request again for it, so a client made for another region works as it does against S3.
            return SignatureCheck.Fail(new S3Exception(400, "AuthorizationHeaderMalformed",
                $"The authorization header is malformed: the region '{parts[2]}' is wrong; expecting '{_region}'.")
            {
                Details = [new("Region", _region)],
            });
        }

        if (_service is not null && parts[3] != _service)
        {
            return Malformed($"the service '{parts[3]}' is wrong; expecting '{_service}'.");
        }

        var names = signedHeaders.Split(';');
        if (Array.IndexOf(names, "host") < 0)
        {
            return Malformed("SignedHeaders must include host.");
        }

        var isS3 = parts[3] == "s3";
        var canonical = CanonicalRequest(method, rawPath, rawQuery, headers, names, signedHeaders, payloadHash, presigned, isS3, useRawPath: false);
        var scope = string.Concat(parts[1], "/", parts[2], "/", parts[3], "/aws4_request");
        var key = SigningKey(found, parts[1], parts[2], parts[3]);
        var expected = SigV4.Sign(key, SigV4.StringToSign(amzDate, scope, canonical));
        if (!FixedTimeEquals(expected, signature))
        {
            // A client may have signed the path exactly as it sent it (encoded differently from SigV4's rules).
            var asSent = CanonicalRequest(method, rawPath, rawQuery, headers, names, signedHeaders, payloadHash, presigned, isS3, useRawPath: true);
            if (asSent == canonical || !FixedTimeEquals(SigV4.Sign(key, SigV4.StringToSign(amzDate, scope, asSent)), signature))
            {
                return SignatureCheck.Fail(S3Errors.SignatureDoesNotMatch($"Canonical request (newline-separated): '{canonical.Replace("\n", "\\n", StringComparison.Ordinal)}'."));
            }
        }

        if (isS3 && UnsignedAmzHeaders(headers, names) is { Count: > 0 } unsigned)
        {
            return SignatureCheck.Fail(S3Errors.HeadersNotSigned(unsigned));
        }

        return SignatureCheck.Ok(found, payloadHash, signature, key, amzDate, scope, presigned, names);
    }

    /// <summary>
    /// The x-amz-* headers a signed S3 request carries outside its signature. S3 refuses such a request (AccessDenied,
    /// HeadersNotSigned): those headers change what the request does (x-amz-copy-source turns a PUT into a copy of
    /// another key; tagging, ACL, metadata, storage class, object lock), so whoever holds a presigned URL, or replays a
    /// signed request, could otherwise make it do what its signer never signed. x-amz-content-sha256 is the exception,
    /// as in S3: it only binds the body further.
    /// </summary>
    private static List<string>? UnsignedAmzHeaders(IHeaderDictionary headers, string[] signed)
    {
        List<string>? unsigned = null;
        foreach (var name in headers.Keys)
        {
            if (name.StartsWith("x-amz-", StringComparison.OrdinalIgnoreCase)
                && !name.Equals("x-amz-content-sha256", StringComparison.OrdinalIgnoreCase)
                && !signed.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                (unsigned ??= []).Add(name.ToLowerInvariant());
            }
        }

        return unsigned;
    }

    private static string CanonicalRequest(string method, string rawPath, string rawQuery, IHeaderDictionary headers, string[] names, string signedHeaders, string payloadHash, bool presigned, bool isS3, bool useRawPath)
    {
        var builder = new StringBuilder(256 + rawPath.Length + rawQuery.Length);
        builder.Append(method).Append('\n');
        if (rawPath.Length == 0)
        {
            builder.Append('/');
        }
        else if (useRawPath)
        {
            builder.Append(rawPath);
        }
        else if (isS3)
        {
            SigV4.AppendUriEncoded(builder, SigV4.UriDecode(rawPath), keepSlash: true);
        }
        else
        {
            // Every service but S3 signs the already-encoded path encoded once more.
            SigV4.AppendUriEncoded(builder, rawPath, keepSlash: true);
        }

        builder.Append('\n').Append(SigV4.CanonicalQuery(rawQuery, presigned ? "X-Amz-Signature" : null)).Append('\n');
        foreach (var name in names)
        {
            builder.Append(name).Append(':');
            var values = headers[name];
            for (var i = 0; i < values.Count; i++)
            {
                if (i > 0)
                {
                    builder.Append(',');
                }

                SigV4.AppendCanonicalHeaderValue(builder, values[i]);
            }

            builder.Append('\n');
        }

        builder.Append('\n').Append(signedHeaders).Append('\n').Append(payloadHash);
        return builder.ToString();
    }

    private byte[] SigningKey(StoreCredential credential, string date, string region, string service)
    {
        if (_keys.TryGetValue((credential.AccessKeyId, date, region, service), out var cached) && ReferenceEquals(cached.Credential, credential))
        {
            return cached.Key;
        }

        var key = SigV4.DeriveSigningKey(credential.SecretAccessKey, date, region, service);
        if (_keys.Count >= MaxCachedKeys)
        {
            _keys.Clear();
        }

        _keys[(credential.AccessKeyId, date, region, service)] = (credential, key);
        return key;
    }

    private static bool FixedTimeEquals(string expected, string actual) =>
        expected.Length == actual.Length &&
        CryptographicOperations.FixedTimeEquals(MemoryMarshalBytes(expected), MemoryMarshalBytes(actual));

    private static ReadOnlySpan<byte> MemoryMarshalBytes(string value) => System.Runtime.InteropServices.MemoryMarshal.AsBytes(value.AsSpan());

    private static bool TryParseAmzDate(string value, out DateTimeOffset time) =>
        DateTimeOffset.TryParseExact(value, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time);

    private static SignatureCheck Malformed(string why) =>
        SignatureCheck.Fail(new S3Exception(400, "AuthorizationHeaderMalformed", "The authorization header is malformed: " + why));
}
