// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text.Json;
using System.Text.Json.Nodes;
using Nexus.Testing.Channel;

namespace Nexus.Backend.Tests;

/// <summary>
/// HeadBucket, ListBuckets, object tagging and the optional PutObject/GetObject parameters through a real Python channel
/// client and the real backend, against the embedded store; hostile parameter values are refused before storage.
/// </summary>
public sealed class BucketAndTaggingTests : IAsyncLifetime
{
    private NodeUnderTest _node = null!;

    public async Task InitializeAsync()
    {
        _node = await NodeUnderTest.StartAsync();
        await _node.PutAsync("shared/readme", "shared text"u8.ToArray());
    }

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task Buckets_are_seen_only_through_grants_and_answers_carry_the_stores_request_id()
    {
        var json = await RunAsync("""
            out = {}
            s, m, _ = call("HeadBucket", {"Bucket": "nexus-test"})
            s2, m2, _ = call("HeadBucket", {"Bucket": "nexus-test"})
            out["head"] = [s, m["ResponseMetadata"]["RequestId"], m2["ResponseMetadata"]["RequestId"]]
            s, m, _ = call("HeadBucket", {"Bucket": "other-bucket"})
            out["head_other"] = [s, m["Error"]["Code"]]
            s, m, _ = call("HeadBucket", {"Bucket": "Bad_Name"})
            out["head_bad"] = [s, m["Error"]["Code"]]
            s, m, _ = call("ListBuckets", {})
            out["list"] = [s, [b["Name"] for b in m["Buckets"]], m["Buckets"][0]["CreationDate"], m["Owner"]["ID"]]
            s, m, _ = call("CreateBucket", {"Bucket": "fn-new-bucket"})
            out["create"] = [s, m["Error"]["Code"]]
            emit(out)
            """);
        var head = json.GetProperty("head");
        Assert.Equal(200, head[0].GetInt32());
        var first = head[1].GetString()!;
        var second = head[2].GetString()!;
        Assert.Matches("^[0-9A-F]{16}$", first);
        // The store's ids are its per-process prefix and a counter: two invented ids would not share 8 hex digits.
        Assert.Equal(first[..8], second[..8]);
        Assert.NotEqual(first, second);
        Assert.Equal(403, json.GetProperty("head_other")[0].GetInt32());
        Assert.Equal("AccessDenied", json.GetProperty("head_other")[1].GetString());
        Assert.Equal("InvalidBucketName", json.GetProperty("head_bad")[1].GetString());
        var list = json.GetProperty("list");
        Assert.Equal(200, list[0].GetInt32());
        Assert.Equal([NodeUnderTest.Bucket], list[1].EnumerateArray().Select(e => e.GetString())); // other-bucket exists but is not granted
        Assert.EndsWith("Z", list[2].GetString(), StringComparison.Ordinal);
        Assert.Equal("nexus", list[3].GetString());
        Assert.Equal(403, json.GetProperty("create")[0].GetInt32());
        Assert.Equal("AccessDenied", json.GetProperty("create")[1].GetString());
        var buckets = (await _node.Admin.ListBucketsAsync()).Buckets ?? [];
        Assert.DoesNotContain(buckets, b => b.BucketName == "fn-new-bucket");
    }

    [Fact]
    public async Task Tags_follow_the_grants_and_s3_limits()
    {
        var json = await RunAsync("""
            out = {}
            def code(r): return [r[0], r[1].get("Error", {}).get("Code")]
            call("PutObject", {"Bucket": "nexus-test", "Key": "fn/t", "Tagging": "a=1&b=two%20words"}, b"x")
            s, m, _ = call("GetObjectTagging", {"Bucket": "nexus-test", "Key": "fn/t"})
            out["get"] = [s, m["TagSet"]]
            s, m, _ = call("GetObject", {"Bucket": "nexus-test", "Key": "fn/t"})
            out["count"] = m.get("TagCount")
            s, m, _ = call("PutObjectTagging", {"Bucket": "nexus-test", "Key": "fn/t", "Tagging": {"TagSet": [{"Key": "c", "Value": "3"}]}})
            out["put"] = [s, "RequestId" in m.get("ResponseMetadata", {})]
            out["after_put"] = call("GetObjectTagging", {"Bucket": "nexus-test", "Key": "fn/t"})[1]["TagSet"]
            out["delete"] = call("DeleteObjectTagging", {"Bucket": "nexus-test", "Key": "fn/t"})[0]
            out["after_delete"] = call("GetObjectTagging", {"Bucket": "nexus-test", "Key": "fn/t"})[1]["TagSet"]
            out["read_shared"] = code(call("GetObjectTagging", {"Bucket": "nexus-test", "Key": "shared/readme"}))
            out["tag_shared"] = code(call("PutObjectTagging", {"Bucket": "nexus-test", "Key": "shared/readme", "Tagging": {"TagSet": []}}))
            out["untag_shared"] = code(call("DeleteObjectTagging", {"Bucket": "nexus-test", "Key": "shared/readme"}))
            many = {"TagSet": [{"Key": f"k{i}", "Value": "v"} for i in range(100000)]}
            out["too_many"] = code(call("PutObjectTagging", {"Bucket": "nexus-test", "Key": "fn/t", "Tagging": many}))
            out["too_many_put"] = code(call("PutObject", {"Bucket": "nexus-test", "Key": "fn/t11", "Tagging": "&".join(f"k{i}=v" for i in range(11))}, b"x"))
            out["nul_key"] = code(call("PutObjectTagging", {"Bucket": "nexus-test", "Key": "fn/t", "Tagging": {"TagSet": [{"Key": "a\u0000b", "Value": "v"}]}}))
            out["number_value"] = code(call("PutObjectTagging", {"Bucket": "nexus-test", "Key": "fn/t", "Tagging": {"TagSet": [{"Key": "a", "Value": 5}]}}))
            out["no_tagset"] = code(call("PutObjectTagging", {"Bucket": "nexus-test", "Key": "fn/t", "Tagging": [1]}))
            emit(out)
            """);
        Assert.Equal(200, json.GetProperty("get")[0].GetInt32());
        AssertJson("""[{"Key":"a","Value":"1"},{"Key":"b","Value":"two words"}]""", json.GetProperty("get")[1]);
        Assert.Equal(2, json.GetProperty("count").GetInt32());
        Assert.Equal(200, json.GetProperty("put")[0].GetInt32());
        Assert.True(json.GetProperty("put")[1].GetBoolean());
        AssertJson("""[{"Key":"c","Value":"3"}]""", json.GetProperty("after_put"));
        Assert.Equal(204, json.GetProperty("delete").GetInt32());
        AssertJson("[]", json.GetProperty("after_delete"));
        Assert.Equal(200, json.GetProperty("read_shared")[0].GetInt32());
        AssertError(json, "tag_shared", 403, "AccessDenied");
        AssertError(json, "untag_shared", 403, "AccessDenied");
        AssertError(json, "too_many", 400, "BadRequest");
        AssertError(json, "too_many_put", 400, "BadRequest");
        AssertError(json, "nul_key", 400, "InvalidTag");
        AssertError(json, "number_value", 400, "InvalidRequest");
        AssertError(json, "no_tagset", 400, "InvalidRequest");
        await Assert.ThrowsAsync<Amazon.S3.Model.NoSuchKeyException>(() => _node.GetAsync("fn/t11"));
    }

    [Fact]
    public async Task Put_headers_are_stored_and_header_injection_is_refused_before_storage()
    {
        var json = await RunAsync("""
            import base64, hashlib
            out = {}
            def code(r): return [r[0], r[1].get("Error", {}).get("Code"), r[1].get("Error", {}).get("Message")]
            md5 = base64.b64encode(hashlib.md5(b"body").digest()).decode()
            s, m, _ = call("PutObject", {"Bucket": "nexus-test", "Key": "fn/h", "CacheControl": "max-age=5", "ContentDisposition": "inline",
                                         "ContentEncoding": "identity", "ContentLanguage": "fr", "StorageClass": "ONEZONE_IA",
                                         "ServerSideEncryption": "AES256", "ContentMD5": md5}, b"body")
            out["put"] = [s, m.get("ServerSideEncryption")]
            s, m, _ = call("HeadObject", {"Bucket": "nexus-test", "Key": "fn/h"})
            out["head"] = [m.get(k) for k in ("CacheControl", "ContentDisposition", "ContentEncoding", "ContentLanguage", "StorageClass", "ServerSideEncryption")]
            s, m, _ = call("GetObject", {"Bucket": "nexus-test", "Key": "fn/h", "ResponseContentType": "text/x-over", "IfModifiedSince": "2000-01-01T00:00:00+00:00"})
            out["get"] = [s, m.get("ContentType")]
            out["not_modified"] = call("GetObject", {"Bucket": "nexus-test", "Key": "fn/h", "IfModifiedSince": "2100-01-01T00:00:00+00:00"})[0]
            out["bad_digest"] = code(call("PutObject", {"Bucket": "nexus-test", "Key": "fn/h2", "ContentMD5": md5}, b"other"))
            out["injection"] = code(call("PutObject", {"Bucket": "nexus-test", "Key": "fn/h3", "CacheControl": "a\r\nx-amz-tagging: evil=1"}, b"x"))
            out["override_injection"] = code(call("GetObject", {"Bucket": "nexus-test", "Key": "fn/h", "ResponseContentType": "a\nb"}))
            out["class_injection"] = code(call("PutObject", {"Bucket": "nexus-test", "Key": "fn/h3", "StorageClass": "STANDARD\r\nx: y"}, b"x"))
            out["bad_date"] = code(call("GetObject", {"Bucket": "nexus-test", "Key": "fn/h", "IfModifiedSince": "yesterday-ish"}))
            emit(out)
            """);
        AssertJson("""[200,"AES256"]""", json.GetProperty("put"));
        AssertJson("""["max-age=5","inline","identity","fr","ONEZONE_IA","AES256"]""", json.GetProperty("head"));
        AssertJson("""[200,"text/x-over"]""", json.GetProperty("get"));
        Assert.Equal(304, json.GetProperty("not_modified").GetInt32());
        AssertError(json, "bad_digest", 400, "BadDigest");
        AssertError(json, "injection", 400, "InvalidRequest");
        Assert.Contains("CacheControl", json.GetProperty("injection")[2].GetString(), StringComparison.Ordinal);
        AssertError(json, "override_injection", 400, "InvalidRequest");
        AssertError(json, "class_injection", 400, "InvalidRequest");
        AssertError(json, "bad_date", 400, "InvalidRequest");
        await Assert.ThrowsAsync<Amazon.S3.Model.NoSuchKeyException>(() => _node.GetAsync("fn/h2"));
        await Assert.ThrowsAsync<Amazon.S3.Model.NoSuchKeyException>(() => _node.GetAsync("fn/h3"));
    }

    private static void AssertJson(string expected, JsonElement actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(actual.GetRawText())), $"expected {expected}, got {actual}");

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
