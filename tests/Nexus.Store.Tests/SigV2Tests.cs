// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Microsoft.AspNetCore.Http;

namespace Nexus.Store.Tests;

/// <summary>
/// SigV2 (what botocore 1.29 presigns S3 URLs and forms with by default) against the worked examples of AWS's S3
/// RESTAuthentication documentation, and the attacks on what SigV2 leaves unsigned.
/// </summary>
public sealed class SigV2Tests
{
    private const string ExampleKeyId = "AKIAIOSFODNN7EXAMPLE";
    private const string ExampleSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    /// <summary>The documentation's query-string example expires at 1175139620 (2007-03-29 03:40:20 UTC).</summary>
    private static readonly DateTimeOffset s_beforeExampleExpiry = DateTimeOffset.FromUnixTimeSeconds(1175139620 - 600);

    private static SigV2Verifier Verifier(DateTimeOffset now)
    {
        var credentials = new StoreCredentials();
        credentials.Add(new StoreCredential(ExampleKeyId, ExampleSecret));
        return new SigV2Verifier(credentials, TimeSpan.FromMinutes(15), new SigV4Tests.FixedTime(now));
    }

    private static SignatureCheck Verify(DateTimeOffset now, string method, string target, HeaderDictionary? headers = null)
    {
        var q = target.IndexOf('?', StringComparison.Ordinal);
        var parameters = S3Handler.QueryParameters(q < 0 ? string.Empty : target[(q + 1)..]);
        return Verifier(now).Verify(method, q < 0 ? target : target[..q], q < 0 ? string.Empty : target[(q + 1)..], parameters, headers ?? []);
    }

    /// <summary>A URL presigned as botocore's HmacV1QueryAuth does it, for the example key.</summary>
    private static string Presign(string method, string path, long expires, string subresources = "", string queryHeaders = "", string canonicalAmzHeaders = "", string contentType = "", string contentMd5 = "")
    {
        var signature = SigV2Verifier.Sign(ExampleSecret, SigV2Verifier.StringToSign(method, contentMd5, contentType, expires.ToString(System.Globalization.CultureInfo.InvariantCulture), canonicalAmzHeaders, SigV2Verifier.CanonicalResource(path, subresources)));
        var query = $"{subresources}{(subresources.Length > 0 ? "&" : "")}AWSAccessKeyId={ExampleKeyId}&Signature={Uri.EscapeDataString(signature)}&Expires={expires}{queryHeaders}";
        return path + "?" + query;
    }

    [Fact]
    public void VerifiesTheDocumentedExamples()
    {
        // Object GET signed in the Authorization header, its Date in RFC 822 form with a numeric zone.
        var get = Verify(new DateTimeOffset(2007, 3, 27, 19, 36, 42, TimeSpan.Zero), "GET", "/awsexamplebucket1/photos/puppy.jpg", new HeaderDictionary
        {
            ["Date"] = "Tue, 27 Mar 2007 19:36:42 +0000",
            ["Authorization"] = $"AWS {ExampleKeyId}:qgk2+6Sv9/oM7G3qLEjTH1a1l1g=",
        });
        Assert.Null(get.Error);
        Assert.Equal((2, false, ExampleKeyId), (get.Version, get.Presigned, get.Credential.AccessKeyId));

        // DELETE dated by x-amz-date: the Date line is empty and x-amz-date is signed among the x-amz-* headers.
        var delete = Verify(new DateTimeOffset(2007, 3, 27, 21, 20, 30, TimeSpan.Zero), "DELETE", "/johnsmith/photos/puppy.jpg", new HeaderDictionary
        {
            ["x-amz-date"] = "Tue, 27 Mar 2007 21:20:26 +0000",
            ["Authorization"] = $"AWS {ExampleKeyId}:R4dJ53KECjStyBO5iTBJZ4XVOaI=",
        });
        Assert.Null(delete.Error);

        // The query-string (presigned) example.
        var presigned = Verify(s_beforeExampleExpiry, "GET", $"/johnsmith/photos/puppy.jpg?AWSAccessKeyId={ExampleKeyId}&Expires=1175139620&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D");
        Assert.Null(presigned.Error);
        Assert.Equal((2, true, SigV4.UnsignedPayload), (presigned.Version, presigned.Presigned, presigned.PayloadHash));
    }

    [Fact]
    public void A_presigned_url_whose_key_subresource_or_signature_was_changed_is_refused()
    {
        var url = Presign("GET", "/b/fn/photo.jpg", 1175139620, subresources: "versionId=v1&response-content-type=image%2Fjpeg");
        Assert.Null(Verify(s_beforeExampleExpiry, "GET", url).Error);

        Assert.Equal("SignatureDoesNotMatch", Verify(s_beforeExampleExpiry, "GET", url.Replace("/fn/photo.jpg", "/fn/secret.jpg", StringComparison.Ordinal)).Error?.Code);
        Assert.Equal("SignatureDoesNotMatch", Verify(s_beforeExampleExpiry, "GET", url.Replace("versionId=v1", "versionId=v2", StringComparison.Ordinal)).Error?.Code);
        Assert.Equal("SignatureDoesNotMatch", Verify(s_beforeExampleExpiry, "GET", url.Replace("image%2Fjpeg", "text%2Fhtml", StringComparison.Ordinal)).Error?.Code);
        Assert.Equal("SignatureDoesNotMatch", Verify(s_beforeExampleExpiry, "PUT", url).Error?.Code);
        Assert.Equal("SignatureDoesNotMatch", Verify(s_beforeExampleExpiry, "GET", url.Replace("Expires=1175139620", "Expires=1175139621", StringComparison.Ordinal)).Error?.Code);

        // A signed subresource added by the holder (a percent-encoded name is the same name): not what was signed.
        Assert.Equal("SignatureDoesNotMatch", Verify(s_beforeExampleExpiry, "GET", url + "&acl").Error?.Code);
        Assert.Equal("SignatureDoesNotMatch", Verify(s_beforeExampleExpiry, "GET", url + "&%61cl").Error?.Code);
    }

    /// <summary>
    /// Guards <c>SigV2Verifier.UnsignedParameterError</c>: SigV2 signs only the subresources botocore lists, so a query
    /// parameter outside them that picks the operation (?retention turns a presigned PUT of an object into setting its
    /// retention from the body; ?attributes, ?legal-hold, ?encryption likewise) is refused. Paging and filtering a
    /// listing stay unsigned, as in S3.
    /// </summary>
    [Theory]
    [InlineData("retention")]
    [InlineData("legal-hold")]
    [InlineData("attributes")]
    [InlineData("encryption")]
    [InlineData("ownershipControls")]
    public void A_query_parameter_the_signature_does_not_cover_and_that_picks_an_operation_is_refused(string added)
    {
        var url = Presign("PUT", "/b/fn/data.bin", 1175139620);
        Assert.Null(Verify(s_beforeExampleExpiry, "PUT", url).Error);

        var error = Verify(s_beforeExampleExpiry, "PUT", url + "&" + added).Error;
        Assert.Equal(("InvalidRequest", 400), (error?.Code, error?.Status));
        Assert.Contains($"'{added.Split('=')[0]}' is not covered by a Signature Version 2 signature", error!.Message, StringComparison.Ordinal);

        // The same holds for a header-signed request replayed with the parameter added.
        var date = "Tue, 27 Mar 2007 19:36:42 +0000";
        var signature = SigV2Verifier.Sign(ExampleSecret, SigV2Verifier.StringToSign("PUT", "", "", date, "", "/b/fn/data.bin"));
        var headers = new HeaderDictionary { ["Date"] = date, ["Authorization"] = $"AWS {ExampleKeyId}:{signature}" };
        var now = new DateTimeOffset(2007, 3, 27, 19, 36, 42, TimeSpan.Zero);
        Assert.Null(Verify(now, "PUT", "/b/fn/data.bin", headers).Error);
        Assert.Equal("InvalidRequest", Verify(now, "PUT", "/b/fn/data.bin?" + added, headers).Error?.Code);

        // Listing parameters stay unsigned, as in S3.
        var listing = Presign("GET", "/b", 1175139620);
        Assert.Null(Verify(s_beforeExampleExpiry, "GET", listing + "&list-type=2&prefix=fn%2F&max-keys=5&encoding-type=url").Error);
    }

    [Fact]
    public void Headers_a_presigned_url_carries_in_its_query_are_signed_and_may_not_be_sent_twice()
    {
        const string amz = "x-amz-acl:private\nx-amz-meta-owner:fn\n";
        var url = Presign("PUT", "/b/fn/up.txt", 1175139620, queryHeaders: "&x-amz-meta-owner=fn&content-type=text%2Fplain&x-amz-acl=private", canonicalAmzHeaders: amz, contentType: "text/plain");
        var check = Verify(s_beforeExampleExpiry, "PUT", url);
        Assert.Null(check.Error);
        Assert.Contains("x-amz-meta-owner", check.SignedHeaders);

        Assert.Equal("SignatureDoesNotMatch", Verify(s_beforeExampleExpiry, "PUT", url.Replace("owner=fn", "owner=other", StringComparison.Ordinal)).Error?.Code);
        Assert.Equal("SignatureDoesNotMatch", Verify(s_beforeExampleExpiry, "PUT", url.Replace("text%2Fplain", "text%2Fhtml", StringComparison.Ordinal)).Error?.Code);

        // A header sent with the URL is signed too: the holder cannot add one, nor give another Content-Type.
        Assert.Equal("SignatureDoesNotMatch", Verify(s_beforeExampleExpiry, "PUT", url, new HeaderDictionary { ["x-amz-copy-source"] = "b/other/secret" }).Error?.Code);
        Assert.Equal("SignatureDoesNotMatch", Verify(s_beforeExampleExpiry, "PUT", url + "&x-amz-copy-source=b%2Fother%2Fsecret").Error?.Code);
        Assert.Equal("SignatureDoesNotMatch", Verify(s_beforeExampleExpiry, "PUT", url, new HeaderDictionary { ["Content-Type"] = "text/html" }).Error?.Code);
        Assert.Null(Verify(s_beforeExampleExpiry, "PUT", url, new HeaderDictionary { ["Content-Type"] = "text/plain" }).Error);

        // Decoded from the URL, a value could hold what no header can (CR LF, other control bytes): refused even signed.
        var injected = Presign("PUT", "/b/fn/up.txt", 1175139620, queryHeaders: "&x-amz-meta-owner=fn%0D%0AX-Evil:%201", canonicalAmzHeaders: "x-amz-meta-owner:fn\r\nX-Evil: 1\n");
        Assert.Equal("InvalidArgument", Verify(s_beforeExampleExpiry, "PUT", injected).Error?.Code);

        var twice = Verify(s_beforeExampleExpiry, "PUT", url, new HeaderDictionary { ["x-amz-meta-owner"] = "fn" }).Error;
        Assert.Equal(("InvalidRequest", 400), (twice?.Code, twice?.Status));
    }

    /// <summary>
    /// Guards <c>SigV2Verifier.StandardHeader</c> and the repeat check of <c>QueryHeaderError</c>: the Content-MD5 and
    /// Content-Type a presigned URL's query carries are signed, so what the upload is held to must be them. An empty
    /// Content-MD5 header sent with the URL was not signed (the query's was) yet won, and the body went unchecked; a
    /// second content-type parameter was applied with the signed one ("text/html,image/png"), whichever of them is signed.
    /// </summary>
    [Fact]
    public void The_content_md5_and_type_a_presigned_url_signs_are_the_ones_applied()
    {
        const string md5 = "XrY7u+Ae7tCTyyK7j1rNww==";
        var url = Presign("PUT", "/b/fn/up.png", 1175139620, queryHeaders: "&content-md5=" + Uri.EscapeDataString(md5) + "&content-type=image%2Fpng", contentType: "image/png", contentMd5: md5);
        Assert.Null(Verify(s_beforeExampleExpiry, "PUT", url).Error);
        Assert.Null(Verify(s_beforeExampleExpiry, "PUT", url, new HeaderDictionary { ["Content-MD5"] = md5 }).Error);

        Assert.Equal("SignatureDoesNotMatch", Verify(s_beforeExampleExpiry, "PUT", url, new HeaderDictionary { ["Content-MD5"] = "" }).Error?.Code);
        Assert.Equal("SignatureDoesNotMatch", Verify(s_beforeExampleExpiry, "PUT", url, new HeaderDictionary { ["Content-Type"] = "" }).Error?.Code);

        var typeAppended = Verify(s_beforeExampleExpiry, "PUT", url + "&Content-Type=text%2Fhtml").Error;
        Assert.Equal(("InvalidArgument", 400), (typeAppended?.Code, typeAppended?.Status));
        var q = url.IndexOf('?', StringComparison.Ordinal);
        Assert.Equal("InvalidArgument", Verify(s_beforeExampleExpiry, "PUT", url[..(q + 1)] + "Content-Type=text%2Fhtml&" + url[(q + 1)..]).Error?.Code);
    }

    /// <summary>
    /// Guards <c>SigV2Verifier.AmbiguousSubresourceError</c>: the string to sign joins decoded subresources with '&amp;',
    /// so a URL signed for <c>?response-content-disposition=attachment&amp;response-content-type=text/plain</c> (a page
    /// served as text) also signed the one where both are a single encoded disposition value, served with its stored
    /// type (text/html) instead.
    /// </summary>
    [Fact]
    public void A_subresource_value_that_reads_as_two_signed_subresources_is_refused()
    {
        var signed = Presign("GET", "/b/fn/page.html", 1175139620, subresources: "response-content-disposition=attachment&response-content-type=text%2Fplain");
        var merged = Presign("GET", "/b/fn/page.html", 1175139620, subresources: "response-content-disposition=attachment%26response-content-type%3Dtext%2Fplain");
        Assert.Equal(signed[signed.IndexOf("&Signature=", StringComparison.Ordinal)..], merged[merged.IndexOf("&Signature=", StringComparison.Ordinal)..]);
        Assert.Null(Verify(s_beforeExampleExpiry, "GET", signed).Error);

        var error = Verify(s_beforeExampleExpiry, "GET", merged).Error;
        Assert.Equal(("InvalidArgument", 400), (error?.Code, error?.Status));

        // A value with '&' that names no subresource after it is not ambiguous.
        Assert.Null(Verify(s_beforeExampleExpiry, "GET", Presign("GET", "/b/fn/page.html", 1175139620, subresources: "response-content-disposition=attachment%3B%20filename%3D%22a%26b.txt%22")).Error);
    }

    [Fact]
    public void A_presigned_url_is_refused_once_expired_or_when_it_would_live_past_seven_days()
    {
        var url = Presign("GET", "/b/k", 1175139620);
        Assert.Equal(("AccessDenied", 403), (Verify(DateTimeOffset.FromUnixTimeSeconds(1175139621), "GET", url).Error?.Code, 403));
        Assert.Equal("AuthorizationQueryParametersError", Verify(DateTimeOffset.FromUnixTimeSeconds(1175139620 - (7 * 24 * 3600) - 1), "GET", url).Error?.Code);
        Assert.Null(Verify(DateTimeOffset.FromUnixTimeSeconds(1175139620 - (7 * 24 * 3600)), "GET", url).Error);
        Assert.Equal("AuthorizationQueryParametersError", Verify(s_beforeExampleExpiry, "GET", url.Replace("Expires=1175139620", "Expires=soon", StringComparison.Ordinal)).Error?.Code);
        Assert.Equal("AuthorizationQueryParametersError", Verify(s_beforeExampleExpiry, "GET", $"/b/k?AWSAccessKeyId={ExampleKeyId}&Expires=1175139620").Error?.Code);
    }

    [Fact]
    public void A_header_signed_request_needs_a_current_date_a_known_key_and_a_signed_body_form()
    {
        const string date = "Tue, 27 Mar 2007 19:36:42 GMT";
        var signature = SigV2Verifier.Sign(ExampleSecret, SigV2Verifier.StringToSign("GET", "", "", date, "", "/b/k"));
        HeaderDictionary Headers(string key = ExampleKeyId) => new() { ["Date"] = date, ["Authorization"] = $"AWS {key}:{signature}" };
        var now = new DateTimeOffset(2007, 3, 27, 19, 36, 42, TimeSpan.Zero);
        Assert.Null(Verify(now, "GET", "/b/k", Headers()).Error);

        Assert.Equal("RequestTimeTooSkewed", Verify(now.AddMinutes(16), "GET", "/b/k", Headers()).Error?.Code);
        Assert.Equal("InvalidAccessKeyId", Verify(now, "GET", "/b/k", Headers("AKIDUNKNOWN")).Error?.Code);
        var undated = Headers();
        undated.Remove("Date");
        Assert.Equal("AccessDenied", Verify(now, "GET", "/b/k", undated).Error?.Code);
        Assert.Equal("InvalidArgument", Verify(now, "GET", "/b/k", new HeaderDictionary { ["Date"] = date, ["Authorization"] = $"AWS {ExampleKeyId}" }).Error?.Code);

        // aws-chunked chunks are signed with a SigV4 key, which a SigV2 request has not got.
        var streaming = Headers();
        streaming["x-amz-content-sha256"] = SigV4.StreamingSigned;
        var amz = $"x-amz-content-sha256:{SigV4.StreamingSigned}\n";
        streaming["Authorization"] = $"AWS {ExampleKeyId}:{SigV2Verifier.Sign(ExampleSecret, SigV2Verifier.StringToSign("PUT", "", "", date, amz, "/b/k"))}";
        Assert.Equal("InvalidRequest", Verify(now, "PUT", "/b/k", streaming).Error?.Code);
    }
}
