// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using CsCheck;
using Microsoft.AspNetCore.Http;

namespace Nexus.Store.Tests;

/// <summary>
/// SigV4 verification on generated requests (CsCheck). A request signed by this file's own signer (canonical
/// request built here from the AWS specification: each UTF-8 byte but A-Z a-z 0-9 - _ . ~ percent-encoded, query
/// sorted by encoded name then value, header values trimmed with space runs collapsed) verifies; changing one
/// character of the signature, a signed header or the query breaks it; and no Authorization header, date or request
/// target a client can send makes the verifier throw instead of answering with an S3 error.
/// </summary>
public sealed class SigV4PropertyTests
{
    private const string KeyId = "AKIDPROPERTYTEST";
    private const string Secret = "property/test/secret/key/0123456789abcdef";
    private const string AmzDate = "20260102T030405Z";
    private const string Scope = "20260102/us-east-1/s3/aws4_request";

    private static SigV4Verifier Verifier()
    {
        var credentials = new StoreCredentials();
        credentials.Add(new StoreCredential(KeyId, Secret));
        return new SigV4Verifier(credentials, "us-east-1", "s3", TimeSpan.FromMinutes(15), new SigV4Tests.FixedTime(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero)));
    }

    /// <summary>Text with reserved characters, spaces, non-ASCII and astral characters (surrogate pairs), no '/'.</summary>
    private static readonly Gen<string> s_component = Gen.OneOf(["a", "Z", "0", "-", "_", ".", "~", " ", "+", "%", "&", "=", "?", "#", "*", "é", "☃", "😀", "\"", "'", ":", "@", ",", ";"])
        .Array[0, 12].Select(parts => string.Concat(parts));

    private static readonly Gen<string> s_headerValue = Gen.Char[' ', '~'].Array[0, 30].Select(c => new string(c));

    private static readonly Gen<(string Method, string[] Segments, (string Name, string Value)[] Query, string Meta, bool Unsigned)> s_request =
        Gen.Select(
            Gen.OneOf(["GET", "PUT", "HEAD", "DELETE", "POST"]),
            s_component.Where(s => s.Length > 0).Array[1, 4],
            Gen.Select(s_component.Where(s => s.Length > 0), s_component).Array[0, 5],
            s_headerValue.Where(v => v.Trim().Length > 0),
            Gen.Bool);

    [Fact]
    public void SignedRequestVerifiesAndEveryTamperingFails() =>
        s_request.Sample(r =>
        {
            var (target, headers) = Sign(r.Method, r.Segments, r.Query, r.Meta, r.Unsigned);
            var verifier = Verifier();
            var ok = verifier.Verify(r.Method, target, headers);
            Assert.True(ok.Error is null, $"{target}: {ok.Error?.Code} {ok.Error?.Message}");

            var signature = headers["Authorization"].ToString();
            var at = signature.Length - 1 - (r.Meta.Length % 64);
            headers["Authorization"] = signature[..at] + (signature[at] == '0' ? '1' : '0') + signature[(at + 1)..];
            Assert.Equal("SignatureDoesNotMatch", verifier.Verify(r.Method, target, headers).Error?.Code);
            headers["Authorization"] = signature;

            headers["x-amz-meta-p"] = r.Meta + "x";
            Assert.Equal("SignatureDoesNotMatch", verifier.Verify(r.Method, target, headers).Error?.Code);
            headers["x-amz-meta-p"] = r.Meta;

            var extra = target + (target.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "added=1";
            Assert.Equal("SignatureDoesNotMatch", verifier.Verify(r.Method, extra, headers).Error?.Code);
        }, iter: 3000);

    private static readonly Gen<string> s_authorization = Gen.Frequency(
        (1, Gen.String[0, 200]),
        (3, Gen.Select(
                Gen.OneOf(["AWS4-HMAC-SHA256 ", "AWS4-HMAC-SHA256", "AWS ", ""]),
                Gen.OneOf(["Credential=", "SignedHeaders=", "Signature=", ",", " ", "/", KeyId, "20260102", "us-east-1", "s3", "aws4_request", "host", ";", "x-amz-date", "=", "0a", ""])
                    .Array[0, 24])
            .Select((scheme, parts) => scheme + string.Concat(parts))));

    private static readonly Gen<string> s_date = Gen.Frequency(
        (1, Gen.String[0, 20]),
        (2, Gen.OneOf([AmzDate, "20260102T030405", "2026010T030405Z", "99991231T235959Z", "00010101T000000Z", "", "20260102"])));

    private static readonly Gen<string> s_target = Gen.Frequency(
        (1, Gen.String[0, 120]),
        (3, Gen.OneOf(["/", "/b", "/b/k", "?", "&", "=", "%", "%zz", "%C3", "%C3%A9", "X-Amz-Signature=", "X-Amz-Credential=", "X-Amz-Date=", "X-Amz-Expires=", "X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-SignedHeaders=host", "AWSAccessKeyId=", "0", "604801", KeyId, "%2F", "20260102", "%2Fus-east-1%2Fs3%2Faws4_request"])
            .Array[0, 16].Select(parts => string.Concat(parts))));

    [Fact]
    public void ArbitraryAuthorizationIsAnsweredWithAnS3Error() =>
        Gen.Select(s_target, s_authorization, s_date, Gen.OneOf(["", SigV4.UnsignedPayload, SigV4.EmptyHash, "zz", SigV4.StreamingSigned]))
            .Sample((target, authorization, date, payload) =>
            {
                var headers = new HeaderDictionary { ["Host"] = "localhost", ["x-amz-date"] = date, ["x-amz-content-sha256"] = payload };
                if (authorization.Length > 0)
                {
                    headers["Authorization"] = authorization;
                }

                var result = Verifier().Verify("GET", target, headers);
                var error = Assert.IsType<S3Exception>(result.Error);
                Assert.InRange(error.Status, 400, 403);
            }, iter: 20000);

    /// <summary>This file's signer: the canonical request built independently of the verifier's code.</summary>
    private static (string Target, HeaderDictionary Headers) Sign(string method, string[] segments, (string Name, string Value)[] query, string meta, bool unsigned)
    {
        var path = "/bucket/" + string.Join("/", segments.Select(Encode));
        var pairs = query.Select(p => (Name: Encode(p.Name), Value: Encode(p.Value))).ToList();
        var raw = string.Join("&", pairs.Select(p => p.Name + "=" + p.Value));
        var canonicalQuery = string.Join("&", pairs.OrderBy(p => p.Name, StringComparer.Ordinal).ThenBy(p => p.Value, StringComparer.Ordinal).Select(p => p.Name + "=" + p.Value));
        var payload = unsigned ? SigV4.UnsignedPayload : SigV4.EmptyHash;
        var canonicalMeta = string.Join(' ', meta.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        var canonical = $"{method}\n{path}\n{canonicalQuery}\nhost:localhost:9000\nx-amz-content-sha256:{payload}\nx-amz-date:{AmzDate}\nx-amz-meta-p:{canonicalMeta}\n\n"
            + $"host;x-amz-content-sha256;x-amz-date;x-amz-meta-p\n{payload}";
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
        var stringToSign = $"AWS4-HMAC-SHA256\n{AmzDate}\n{Scope}\n{hash}";
        var signature = SigV4.Sign(SigV4.DeriveSigningKey(Secret, "20260102", "us-east-1", "s3"), stringToSign);
        var headers = new HeaderDictionary
        {
            ["Host"] = "localhost:9000",
            ["x-amz-content-sha256"] = payload,
            ["x-amz-date"] = AmzDate,
            ["x-amz-meta-p"] = meta,
            ["Authorization"] = $"AWS4-HMAC-SHA256 Credential={KeyId}/{Scope},SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-meta-p,Signature={signature}",
        };
        return (raw.Length == 0 ? path : path + "?" + raw, headers);
    }

    private static string Encode(string value)
    {
        var builder = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~')
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
