// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using CsCheck;
using Microsoft.AspNetCore.Http;

namespace Nexus.Store.Tests;

/// <summary>
/// SigV2 verification on generated requests (CsCheck). A URL presigned by this file's own signer (the string to sign
/// built here from S3's RESTAuthentication rules, as botocore's HmacV1QueryAuth builds it) verifies; changing the key,
/// a subresource's value or the signature breaks it; and nothing a client can put in the Authorization header, the
/// dates or the query makes the verifier throw instead of answering with an S3 error.
/// </summary>
public sealed class SigV2PropertyTests
{
    private const string KeyId = "AKIDPROPERTYTEST";
    private const string Secret = "property/test/secret/key/0123456789abcdef";
    private static readonly DateTimeOffset s_now = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private static SigV2Verifier Verifier()
    {
        var credentials = new StoreCredentials();
        credentials.Add(new StoreCredential(KeyId, Secret));
        return new SigV2Verifier(credentials, TimeSpan.FromMinutes(15), new SigV4Tests.FixedTime(s_now));
    }

    private static SignatureCheck Verify(string method, string target, HeaderDictionary headers)
    {
        var q = target.IndexOf('?', StringComparison.Ordinal);
        var rawQuery = q < 0 ? string.Empty : target[(q + 1)..];
        return Verifier().Verify(method, q < 0 ? target : target[..q], rawQuery, S3Handler.QueryParameters(rawQuery), headers);
    }

    private static readonly Gen<string> s_component = Gen.OneOf(["a", "Z", "0", "-", "_", ".", "~", " ", "+", "%", "&", "=", "?", "#", "é", "☃", "😀", "'", ":", "@", ",", ";"])
        .Array[1, 12].Select(parts => string.Concat(parts));

    private static readonly Gen<(string Name, string Value)[]> s_subresources =
        Gen.Select(Gen.OneOf(["versionId", "response-content-type", "response-content-disposition", "partNumber", "uploadId"]), s_component)
            .Array[0, 3].Select(pairs => pairs.DistinctBy(p => p.Item1).ToArray());

    [Fact]
    public void A_presigned_url_verifies_and_every_tampering_fails() =>
        Gen.Select(Gen.OneOf(["GET", "PUT", "HEAD", "DELETE"]), s_component.Array[1, 4], s_subresources, Gen.Int[1, 7 * 24 * 3600])
            .Sample((method, segments, subresources, seconds) =>
            {
                var expires = (s_now.ToUnixTimeSeconds() + seconds).ToString(CultureInfo.InvariantCulture);
                var path = "/bucket/" + string.Join("/", segments.Select(Uri.EscapeDataString));
                var canonical = path + string.Concat(subresources.OrderBy(p => p.Name, StringComparer.Ordinal).Select((p, i) => (i == 0 ? "?" : "&") + p.Name + "=" + p.Value));
                var signature = Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes($"{method}\n\n\n{expires}\n{canonical}")));
                var query = string.Concat(subresources.Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value)}&"))
                    + $"AWSAccessKeyId={KeyId}&Signature={Uri.EscapeDataString(signature)}&Expires={expires}";
                var target = path + "?" + query;
                var ok = Verify(method, target, []);
                Assert.True(ok.Error is null, $"{target}: {ok.Error?.Code} {ok.Error?.Message}");

                Assert.Equal("SignatureDoesNotMatch", Verify(method, path + "x?" + query, []).Error?.Code);
                Assert.Equal("SignatureDoesNotMatch", Verify(method, target + "&versionId=other", []).Error?.Code);
                var flipped = signature[0] == 'A' ? 'B' + signature[1..] : 'A' + signature[1..];
                Assert.Equal("SignatureDoesNotMatch", Verify(method, target.Replace(Uri.EscapeDataString(signature), Uri.EscapeDataString(flipped), StringComparison.Ordinal), []).Error?.Code);
            }, iter: 3000);

    private static readonly Gen<string> s_target = Gen.Frequency(
        (1, Gen.String[0, 120]),
        (3, Gen.OneOf(["/", "/b", "/b/k", "?", "&", "=", "%", "%zz", "%C3", "AWSAccessKeyId=", KeyId, "Signature=", "Expires=", "9999999999", "-1", "1767323045", "acl", "tagging=", "x-amz-meta-a=", "content-type=", "retention", "prefix="])
            .Array[0, 16].Select(parts => string.Concat(parts))));

    [Fact]
    public void Anything_a_client_sends_is_answered_with_an_s3_error() =>
        Gen.Select(s_target, Gen.String[0, 80], Gen.OneOf(["", "Fri, 02 Jan 2026 03:04:05 GMT", "Fri, 02 Jan 2026 03:04:05 +0000", "yesterday", "Fri, 02 Jan 9999 03:04:05 GMT"]), Gen.OneOf(["", SigV4.UnsignedPayload, SigV4.StreamingSigned, "zz"]))
            .Sample((target, credential, date, payload) =>
            {
                var headers = new HeaderDictionary { ["x-amz-content-sha256"] = payload };
                if (date.Length > 0)
                {
                    headers["Date"] = date;
                }

                if (credential.Length > 0)
                {
                    headers["Authorization"] = "AWS " + credential;
                }

                var error = Assert.IsType<S3Exception>(Verify("GET", target, headers).Error);
                Assert.InRange(error.Status, 400, 403);
            }, iter: 20000);
}
