// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net;
using System.Text.Json;
using Amazon.S3.Model;
using Nexus.Testing.Channel;

namespace Nexus.Backend.Tests;

/// <summary>
/// Multipart uploads and presigned URLs through a real Python channel client and the real backend, against the embedded
/// store: every call is checked against the function's grants before anything is sent or signed, and a URL the backend
/// signed works with a plain HTTP client (no SDK, no credentials) for exactly the request it names.
/// </summary>
public sealed class MultipartAndPresignTests : IAsyncLifetime
{
    private NodeUnderTest _node = null!;

    public async Task InitializeAsync()
    {
        _node = await NodeUnderTest.StartAsync();
        await _node.PutAsync("shared/readme", "shared text"u8.ToArray());
    }

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task A_multipart_upload_streams_its_parts_and_stays_within_the_grants()
    {
        var json = await RunAsync("""
            out = {}
            def code(r): return [r[0], r[1].get("Error", {}).get("Code")]
            s, m, _ = call("CreateMultipartUpload", {"Bucket": "nexus-test", "Key": "fn/big", "ContentType": "a/b", "Tagging": "t=1"})
            uid = m["UploadId"]
            part1 = bytes(range(256)) * (5 * 4096)
            s1, m1, _ = call("UploadPart", {"Bucket": "nexus-test", "Key": "fn/big", "UploadId": uid, "PartNumber": 1}, io.BytesIO(part1))
            s2, m2, _ = call("UploadPart", {"Bucket": "nexus-test", "Key": "fn/big", "UploadId": uid, "PartNumber": 2}, b"end")
            out["listed"] = [p["PartNumber"] for p in call("ListParts", {"Bucket": "nexus-test", "Key": "fn/big", "UploadId": uid})[1]["Parts"]]
            # Grants: the upload id of fn/big does not open shared/ or another bucket.
            out["part_to_shared"] = code(call("UploadPart", {"Bucket": "nexus-test", "Key": "shared/readme", "UploadId": uid, "PartNumber": 1}, b"evil"))
            out["create_shared"] = code(call("CreateMultipartUpload", {"Bucket": "nexus-test", "Key": "shared/x"}))
            out["complete_shared"] = code(call("CompleteMultipartUpload", {"Bucket": "nexus-test", "Key": "shared/readme", "UploadId": uid,
                                                                           "MultipartUpload": {"Parts": [{"ETag": m1["ETag"], "PartNumber": 1}]}}))
            out["list_other_bucket"] = code(call("ListParts", {"Bucket": "other-bucket", "Key": "fn/big", "UploadId": uid}))
            # Hostile values are refused before storage.
            out["bad_part_number"] = code(call("UploadPart", {"Bucket": "nexus-test", "Key": "fn/big", "UploadId": uid, "PartNumber": 10001}, b"x"))
            out["id_injection"] = code(call("UploadPart", {"Bucket": "nexus-test", "Key": "fn/big", "UploadId": uid + "\r\nx: y", "PartNumber": 3}, b"x"))
            out["too_many_parts"] = code(call("CompleteMultipartUpload", {"Bucket": "nexus-test", "Key": "fn/big", "UploadId": uid,
                                                                          "MultipartUpload": {"Parts": [{"ETag": "e", "PartNumber": 1}] * 10001}}))
            s, m, _ = call("CompleteMultipartUpload", {"Bucket": "nexus-test", "Key": "fn/big", "UploadId": uid,
                                                       "MultipartUpload": {"Parts": [{"ETag": m1["ETag"], "PartNumber": 1}, {"ETag": m2["ETag"], "PartNumber": 2}]}})
            out["complete"] = [s, m["ETag"], m["Key"], "RequestId" in m["ResponseMetadata"]]
            out["md5"] = hashlib.md5(part1 + b"end").hexdigest()
            emit(out)
            """);
        Assert.Equal([1, 2], json.GetProperty("listed").EnumerateArray().Select(e => e.GetInt32()));
        AssertError(json, "part_to_shared", 403, "AccessDenied");
        AssertError(json, "create_shared", 403, "AccessDenied");
        AssertError(json, "complete_shared", 403, "AccessDenied");
        AssertError(json, "list_other_bucket", 403, "AccessDenied");
        AssertError(json, "bad_part_number", 400, "InvalidRequest");
        AssertError(json, "id_injection", 400, "InvalidRequest");
        AssertError(json, "too_many_parts", 400, "MalformedXML");
        var complete = json.GetProperty("complete");
        Assert.Equal(200, complete[0].GetInt32());
        Assert.EndsWith("-2\"", complete[1].GetString(), StringComparison.Ordinal);
        Assert.True(complete[3].GetBoolean());
        var stored = await _node.GetAsync("fn/big");
        Assert.Equal(json.GetProperty("md5").GetString(), Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(stored)));
        Assert.Equal("shared text", System.Text.Encoding.UTF8.GetString(await _node.GetAsync("shared/readme")));
        var tags = await _node.Admin.GetObjectTaggingAsync(new GetObjectTaggingRequest { BucketName = NodeUnderTest.Bucket, Key = "fn/big" });
        Assert.Equal("1", Assert.Single(tags.Tagging).Value);
    }

    [Fact]
    public async Task A_parts_checksum_travels_to_the_store_which_refuses_a_mismatch_and_completes_with_the_composite()
    {
        var json = await RunAsync("""
            import base64
            def code(r): return [r[0], r[1].get("Error", {}).get("Code")]
            def sha256(data): return base64.b64encode(hashlib.sha256(data).digest()).decode()
            out = {}
            key = {"Bucket": "nexus-test", "Key": "fn/checked"}
            s, m, _ = call("CreateMultipartUpload", dict(key, ChecksumAlgorithm="SHA256"))
            uid = m["UploadId"]
            out["algorithm"] = m.get("ChecksumAlgorithm")
            part = b"the part's bytes" * 100
            out["mismatch"] = code(call("UploadPart", dict(key, UploadId=uid, PartNumber=1, ChecksumSHA256=sha256(b"other bytes")), part))
            out["kept_after_mismatch"] = len(call("ListParts", dict(key, UploadId=uid))[1].get("Parts", []))
            s, m1, _ = call("UploadPart", dict(key, UploadId=uid, PartNumber=1, ChecksumSHA256=sha256(part)), io.BytesIO(part))
            out["part"] = [s, m1.get("ChecksumSHA256") == sha256(part)]
            out["listed"] = [p.get("ChecksumSHA256") == sha256(part) for p in call("ListParts", dict(key, UploadId=uid))[1]["Parts"]]
            s, m, _ = call("CompleteMultipartUpload", dict(key, UploadId=uid, MultipartUpload={"Parts": [
                {"ETag": m1["ETag"], "PartNumber": 1, "ChecksumSHA256": sha256(part)}]}))
            out["complete"] = [s, m.get("ChecksumSHA256") == base64.b64encode(hashlib.sha256(hashlib.sha256(part).digest()).digest()).decode() + "-1"]
            emit(out)
            """);
        Assert.Equal("SHA256", json.GetProperty("algorithm").GetString());

        // The defence is the store's check of the part against the checksum the backend forwards with it.
        AssertError(json, "mismatch", 400, "BadDigest");
        Assert.Equal(0, json.GetProperty("kept_after_mismatch").GetInt32());
        Assert.Equal("[200, true]", json.GetProperty("part").GetRawText());
        Assert.Equal("[true]", json.GetProperty("listed").GetRawText());
        Assert.Equal("[200, true]", json.GetProperty("complete").GetRawText());
        var head = await _node.Admin.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = NodeUnderTest.Bucket, Key = "fn/checked", ChecksumMode = Amazon.S3.ChecksumMode.ENABLED });
        Assert.EndsWith("-1", head.ChecksumSHA256, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_presigned_url_works_with_a_plain_http_client_for_exactly_its_request_and_only_within_the_grants()
    {
        await _node.PutAsync("fn/report", "the report"u8.ToArray());
        await _node.PutAsync("private/secret", "not the function's"u8.ToArray());
        var json = await RunAsync("""
            out = {}
            def code(r): return [r[0], r[1].get("Error", {}).get("Code")]
            out["get"] = call("GeneratePresignedUrl", {"Operation": "GetObject", "Bucket": "nexus-test", "Key": "fn/report", "ExpiresIn": 60,
                                                       "ResponseContentType": "text/x-report"})[1]["Url"]
            out["put"] = call("GeneratePresignedUrl", {"Operation": "PutObject", "Bucket": "nexus-test", "Key": "fn/uploaded"})[1]["Url"]
            out["read_shared"] = call("GeneratePresignedUrl", {"Operation": "GetObject", "Bucket": "nexus-test", "Key": "shared/readme"})[1]["Url"]
            out["put_shared"] = code(call("GeneratePresignedUrl", {"Operation": "PutObject", "Bucket": "nexus-test", "Key": "shared/readme"}))
            out["delete_shared"] = code(call("GeneratePresignedUrl", {"Operation": "DeleteObject", "Bucket": "nexus-test", "Key": "shared/readme"}))
            out["other_bucket"] = code(call("GeneratePresignedUrl", {"Operation": "GetObject", "Bucket": "other-bucket", "Key": "fn/report"}))
            out["too_long"] = code(call("GeneratePresignedUrl", {"Operation": "GetObject", "Bucket": "nexus-test", "Key": "fn/report", "ExpiresIn": 604801}))
            out["other_op"] = code(call("GeneratePresignedUrl", {"Operation": "DeleteBucket", "Bucket": "nexus-test", "Key": "fn/report"}))
            emit(out)
            """);
        AssertError(json, "put_shared", 403, "AccessDenied");
        AssertError(json, "delete_shared", 403, "AccessDenied");
        AssertError(json, "other_bucket", 403, "AccessDenied");
        AssertError(json, "too_long", 400, "InvalidRequest");
        AssertError(json, "other_op", 400, "InvalidRequest");

        var get = json.GetProperty("get").GetString()!;
        Assert.StartsWith(_node.StoreUrl + "/nexus-test/fn/report?", get, StringComparison.Ordinal);
        Assert.Contains("X-Amz-Signature=", get, StringComparison.Ordinal);
        using var http = new HttpClient();
        using (var response = await http.GetAsync(new Uri(get)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("the report", await response.Content.ReadAsStringAsync());
            Assert.Equal("text/x-report", response.Content.Headers.ContentType?.ToString());
        }

        using (var response = await http.GetAsync(new Uri(json.GetProperty("read_shared").GetString()!)))
        {
            Assert.Equal("shared text", await response.Content.ReadAsStringAsync());
        }

        // The signature covers the key and the method: the same URL for another key, or a PUT to it, is refused.
        using (var response = await http.GetAsync(new Uri(get.Replace("/fn/report?", "/shared/readme?", StringComparison.Ordinal))))
        {
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        }

        using (var response = await http.PutAsync(new Uri(get), new StringContent("overwrite")))
        {
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        }

        // The URL's holder cannot add what the signature does not cover: a copy source would make the PUT a copy of a
        // key the function may not read (the node's key signs it). Guards the store's HeadersNotSigned refusal.
        using (var attack = new HttpRequestMessage(HttpMethod.Put, new Uri(json.GetProperty("put").GetString()!)) { Content = new ByteArrayContent([]) })
        {
            attack.Headers.TryAddWithoutValidation("x-amz-copy-source", "nexus-test/private/secret");
            using var response = await http.SendAsync(attack);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Contains("<HeadersNotSigned>x-amz-copy-source</HeadersNotSigned>", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var response = await http.PutAsync(new Uri(json.GetProperty("put").GetString()!), new ByteArrayContent("from outside"u8.ToArray())))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal("from outside", System.Text.Encoding.UTF8.GetString(await _node.GetAsync("fn/uploaded")));
        Assert.Equal("the report", System.Text.Encoding.UTF8.GetString(await _node.GetAsync("fn/report")));
    }

    /// <summary>
    /// Guards the checks of a presigned generic-path request (Presigning.PresignServiceRequestAsync,
    /// S3Target.AuthorizePresigned): the grants apply as on the generic path (another key, a copy source or a listing
    /// outside them: AccessDenied), no X-Amz-* query parameter of the sandbox's is signed (it could stretch the expiry or
    /// name another credential), and a DeleteObjects is not signed at all (a presigned URL signs no body, and the body
    /// names the keys; an empty one also fails the generic path's parse of the keys, so the message is asserted). A URL
    /// that is signed works for exactly its request. With AuthorizePresigned's DeleteObjects refusal removed once, the
    /// refusal was the XML parse's and this failed; with the grant check removed once, the tagging URL of private/secret
    /// was signed and this failed.
    /// </summary>
    [Fact]
    public async Task A_presigned_generic_request_is_checked_as_the_generic_path_checks_it_and_signs_no_body()
    {
        await _node.PutAsync("fn/tagged", "tagged"u8.ToArray());
        await _node.PutAsync("fn/odd key+ü%~(1).txt", "odd"u8.ToArray());
        await _node.PutAsync("private/secret", "not the function's"u8.ToArray());
        var json = await RunAsync("""
            out = {}
            def code(r): return [r[0], r[1].get("Error", {}).get("Code")]
            def presign(method, path, headers=None):
                return call("GeneratePresignedUrl", {"Operation": "ServiceRequest", "ExpiresIn": 60, "Request": {
                    "Service": "s3", "Operation": "Any", "Method": method, "Path": path, "Headers": headers or {}}})
            out["tagging"] = presign("GET", "/nexus-test/fn/tagged?tagging")[1]["Url"]
            out["odd"] = presign("GET", "/nexus-test/fn/odd%20key%2B%C3%BC%25~%281%29.txt?versionId=null")[1]["Url"]
            out["secret_tagging"] = code(presign("GET", "/nexus-test/private/secret?tagging"))
            out["secret_copy"] = code(presign("PUT", "/nexus-test/fn/copy", {"x-amz-copy-source": "nexus-test/private/secret"}))
            out["listing_outside"] = code(presign("GET", "/nexus-test?list-type=2&prefix=private%2F"))
            out["bucket_list"] = code(presign("GET", "/"))
            deleted = presign("POST", "/nexus-test?delete")
            out["delete_objects"] = code(deleted) + [deleted[1].get("Error", {}).get("Message")]
            out["amz_query"] = code(presign("GET", "/nexus-test/fn/tagged?tagging&X-Amz-Expires=99999999"))
            out["other_service"] = code(call("GeneratePresignedUrl", {"Operation": "ServiceRequest", "Request": {
                "Service": "dynamodb", "Operation": "GetItem", "Method": "POST", "Path": "/"}}))
            emit(out)
            """);
        AssertError(json, "secret_tagging", 403, "AccessDenied");
        AssertError(json, "secret_copy", 403, "AccessDenied");
        AssertError(json, "listing_outside", 403, "AccessDenied");
        AssertError(json, "bucket_list", 403, "AccessDenied");
        AssertError(json, "delete_objects", 400, "InvalidRequest");
        Assert.Contains("presigned DeleteObjects", json.GetProperty("delete_objects")[2].GetString(), StringComparison.Ordinal);
        AssertError(json, "amz_query", 400, "InvalidRequest");
        // Another service's request is ServicePresigning's (ServicePresigningTests): this node has no DynamoDB endpoint.
        AssertError(json, "other_service", 501, "NotImplemented");

        var tagging = new Uri(json.GetProperty("tagging").GetString()!);
        using var http = new HttpClient();
        using (var response = await http.GetAsync(tagging))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("<Tagging", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // A key botocore percent-encodes (space, '+', UTF-8, '%', parentheses) is signed as the store verifies it.
        Assert.Equal("odd", await http.GetStringAsync(new Uri(json.GetProperty("odd").GetString()!)));

        // The signature covers the path and the query: the same URL for the secret's tags is refused.
        using (var response = await http.GetAsync(new Uri(tagging.ToString().Replace("/fn/tagged?", "/private/secret?", StringComparison.Ordinal))))
        {
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        }

        Assert.Equal("not the function's", System.Text.Encoding.UTF8.GetString(await _node.GetAsync("private/secret")));
    }

    /// <summary>
    /// Guards the check of the new object's metadata (names an HTTP token, values printable ASCII, as a header must
    /// carry them, ObjectOptions.Metadata): a presigned PutObject or a PutObject whose metadata would break or forge a
    /// header line is refused with 400 before anything is signed or stored.
    /// </summary>
    [Fact]
    public async Task Metadata_a_header_cannot_carry_is_refused_before_it_is_signed_or_stored()
    {
        var json = await RunAsync("""
            out = {}
            def code(r): return [r[0], r[1].get("Error", {}).get("Code")]
            forged = {"a": "x\r\nx-amz-meta-b: forged"}
            out["presigned_value"] = code(call("GeneratePresignedUrl", {"Operation": "PutObject", "Bucket": "nexus-test", "Key": "fn/pre", "Metadata": forged}))
            out["presigned_name"] = code(call("GeneratePresignedUrl", {"Operation": "PutObject", "Bucket": "nexus-test", "Key": "fn/pre", "Metadata": {"a b": "x"}}))
            out["put_value"] = code(call("PutObject", {"Bucket": "nexus-test", "Key": "fn/put", "Metadata": forged}, b"body"))
            out["put_name"] = code(call("PutObject", {"Bucket": "nexus-test", "Key": "fn/put", "Metadata": {"a:b": "x"}}, b"body"))
            out["signed"] = call("GeneratePresignedUrl", {"Operation": "PutObject", "Bucket": "nexus-test", "Key": "fn/pre", "Metadata": {"origin": "browser"}})[1]["Url"]
            emit(out)
            """);
        foreach (var name in new[] { "presigned_value", "presigned_name", "put_value", "put_name" })
        {
            AssertError(json, name, 400, "InvalidRequest");
        }

        Assert.Contains("x-amz-meta-origin", json.GetProperty("signed").GetString()!, StringComparison.Ordinal);
        var listed = await _node.Admin.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "nexus-test", Prefix = "fn/" });
        Assert.Empty(listed.S3Objects ?? []);
    }

    /// <summary>
    /// Guards the header check of a presigned URL's read conditions and upload digests (ObjectOptions.HeaderValue, the
    /// dates parsed): a value that would break a header line, or a date that is not one, is refused before anything is
    /// signed; well-formed ones are signed into the URL.
    /// </summary>
    [Fact]
    public async Task Presigned_read_conditions_and_digests_a_header_cannot_carry_are_refused_before_they_are_signed()
    {
        var json = await RunAsync("""
            out = {}
            def code(r): return [r[0], r[1].get("Error", {}).get("Code")]
            def presign(operation, extra): return call("GeneratePresignedUrl", dict({"Operation": operation, "Bucket": "nexus-test", "Key": "fn/pre"}, **extra))
            out["range"] = code(presign("GetObject", {"Range": "bytes=0-1\r\nx-amz-meta-b: forged"}))
            out["if_match"] = code(presign("HeadObject", {"IfMatch": "\"a\"\nx: y"}))
            out["date"] = code(presign("GetObject", {"IfModifiedSince": "yesterday"}))
            out["md5"] = code(presign("PutObject", {"ContentMD5": "abc\r\ndef"}))
            out["checksum"] = code(presign("UploadPart", {"UploadId": "u", "PartNumber": 1, "ChecksumSHA256": "x\ny"}))
            out["signed"] = presign("GetObject", {"Range": "bytes=0-1", "IfModifiedSince": "2000-01-01T00:00:00Z"})[1]["Url"]
            emit(out)
            """);
        foreach (var name in new[] { "range", "if_match", "date", "md5", "checksum" })
        {
            AssertError(json, name, 400, "InvalidRequest");
        }

        var signed = json.GetProperty("signed").GetString()!;
        Assert.Contains("X-Amz-SignedHeaders=host%3Bif-modified-since%3Brange", signed, StringComparison.Ordinal);
    }

    private static void AssertError(JsonElement json, string name, int status, string code)
    {
        var entry = json.GetProperty(name);
        Assert.True(entry[0].GetInt32() == status && entry[1].GetString() == code, $"{name}: {entry}");
    }

    private async Task<JsonElement> RunAsync(string script)
    {
        var (channel, _) = _node.Attach();
        var result = await PythonSandbox.RunAsync(channel, PythonSandbox.Prelude + script);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.Json;
    }
}
