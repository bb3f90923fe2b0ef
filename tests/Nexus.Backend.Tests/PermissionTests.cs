// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text.Json;
using Nexus.Testing.Channel;

namespace Nexus.Backend.Tests;

/// <summary>
/// The function may read/write nexus-test/fn/ and read nexus-test/shared/; everything else is refused with AccessDenied
/// before any storage call (objects that exist stay unread and unchanged).
/// </summary>
public sealed class PermissionTests : IAsyncLifetime
{
    private NodeUnderTest _node = null!;

    public async Task InitializeAsync()
    {
        _node = await NodeUnderTest.StartAsync();
        await _node.PutAsync("private/secret", "top secret"u8.ToArray());
        await _node.PutAsync("shared/readme", "shared text"u8.ToArray());
        await _node.PutAsync("fn/mine", "mine"u8.ToArray());
        await _node.PutAsync("fn/x", "other bucket"u8.ToArray(), NodeUnderTest.OtherBucket);
    }

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task Reads_and_writes_outside_the_grants_are_denied()
    {
        var json = await RunAsync("""
            out = {}
            def code(r): return [r[0], r[1].get("Error", {}).get("Code")]
            out["read_private"] = code(call("GetObject", {"Bucket": "nexus-test", "Key": "private/secret"}))
            out["head_private"] = code(call("HeadObject", {"Bucket": "nexus-test", "Key": "private/secret"}))
            out["copy_refused_error"] = call("CopyObject", {"Bucket": "nexus-test", "Key": "fn/c", "CopySource": "nexus-test/private/secret"})[1]["Error"]
            out["read_shared"] = code(call("GetObject", {"Bucket": "nexus-test", "Key": "shared/readme"}))
            out["write_shared"] = code(call("PutObject", {"Bucket": "nexus-test", "Key": "shared/new"}, b"x"))
            out["delete_shared"] = code(call("DeleteObject", {"Bucket": "nexus-test", "Key": "shared/readme"}))
            out["other_bucket"] = code(call("GetObject", {"Bucket": "other-bucket", "Key": "fn/x"}))
            out["dotdot_read"] = code(call("GetObject", {"Bucket": "nexus-test", "Key": "fn/../private/secret"}))
            out["dotdot_write"] = code(call("PutObject", {"Bucket": "nexus-test", "Key": "fn/../shared/readme"}, b"overwritten"))
            out["dot_read"] = code(call("GetObject", {"Bucket": "nexus-test", "Key": "fn/./mine"}))
            out["bad_bucket"] = code(call("GetObject", {"Bucket": "../etc", "Key": "fn/x"}))
            out["list_all"] = code(call("ListObjectsV2", {"Bucket": "nexus-test"}))
            out["list_private"] = code(call("ListObjectsV2", {"Bucket": "nexus-test", "Prefix": "private/"}))
            s, m, _ = call("ListObjectsV2", {"Bucket": "nexus-test", "Prefix": "fn/"})
            out["list_fn"] = [s, [c["Key"] for c in m.get("Contents", [])]]
            out["copy_from_private"] = code(call("CopyObject", {"Bucket": "nexus-test", "Key": "fn/stolen", "CopySource": {"Bucket": "nexus-test", "Key": "private/secret"}}))
            out["copy_to_shared"] = code(call("CopyObject", {"Bucket": "nexus-test", "Key": "shared/copy", "CopySource": "nexus-test/fn/mine"}))
            out["copy_ok"] = code(call("CopyObject", {"Bucket": "nexus-test", "Key": "fn/copy", "CopySource": "nexus-test/shared/readme"}))
            s, m, _ = call("DeleteObjects", {"Bucket": "nexus-test", "Delete": {"Objects": [{"Key": "fn/copy"}, {"Key": "shared/readme"}, {"Key": "private/secret"}]}})
            out["delete_many"] = [s, [d["Key"] for d in m["Deleted"]], sorted([e["Key"], e["Code"]] for e in m["Errors"])]
            emit(out)
            """);
        AssertDenied(json, "read_private");
        Assert.Equal(403, json.GetProperty("head_private")[0].GetInt32());
        // Worded and placed as the store's error document for the function's key: the request's own path, not the source's.
        var refused = json.GetProperty("copy_refused_error");
        Assert.Equal(
            ["AccessDenied", "Access Denied: no grant allows reading 'nexus-test/private/secret'.", "/nexus-test/fn/c"],
            new[] { "Code", "Message", "Resource" }.Select(name => refused.GetProperty(name).GetString()));
        Assert.Equal(200, json.GetProperty("read_shared")[0].GetInt32());
        AssertDenied(json, "write_shared");
        AssertDenied(json, "delete_shared");
        AssertDenied(json, "other_bucket");
        // Keys under fn/ (S3 keys are literal): the dot segments lead nowhere else (DotSegmentKeyTests).
        Assert.Equal("[404, \"NoSuchKey\"]", json.GetProperty("dotdot_read").GetRawText());
        Assert.Equal(200, json.GetProperty("dotdot_write")[0].GetInt32());
        Assert.Equal("[404, \"NoSuchKey\"]", json.GetProperty("dot_read").GetRawText());
        Assert.Equal("InvalidBucketName", json.GetProperty("bad_bucket")[1].GetString());
        AssertDenied(json, "list_all");
        AssertDenied(json, "list_private");
        Assert.Equal(200, json.GetProperty("list_fn")[0].GetInt32());
        Assert.Equal(["fn/../shared/readme", "fn/mine"], json.GetProperty("list_fn")[1].EnumerateArray().Select(e => e.GetString()));
        AssertDenied(json, "copy_from_private");
        AssertDenied(json, "copy_to_shared");
        Assert.Equal(200, json.GetProperty("copy_ok")[0].GetInt32());
        var deleteMany = json.GetProperty("delete_many");
        Assert.Equal(200, deleteMany[0].GetInt32());
        Assert.Equal(["fn/copy"], deleteMany[1].EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(
            ["private/secret:AccessDenied", "shared/readme:AccessDenied"],
            deleteMany[2].EnumerateArray().Select(e => $"{e[0].GetString()}:{e[1].GetString()}"));

        // Nothing outside the grants changed.
        Assert.Equal("top secret"u8.ToArray(), await _node.GetAsync("private/secret"));
        Assert.Equal("shared text"u8.ToArray(), await _node.GetAsync("shared/readme"));
        await Assert.ThrowsAsync<Amazon.S3.Model.NoSuchKeyException>(() => _node.GetAsync("shared/new"));
        await Assert.ThrowsAsync<Amazon.S3.Model.NoSuchKeyException>(() => _node.GetAsync("fn/stolen"));
        await Assert.ThrowsAsync<Amazon.S3.Model.NoSuchKeyException>(() => _node.GetAsync("shared/copy"));
    }

    private static void AssertDenied(JsonElement json, string name)
    {
        var entry = json.GetProperty(name);
        Assert.True(entry[0].GetInt32() == 403 && entry[1].GetString() == "AccessDenied", $"{name}: {entry}");
    }

    private async Task<JsonElement> RunAsync(string script)
    {
        var (channel, _) = _node.Attach();
        var result = await PythonSandbox.RunAsync(channel, PythonSandbox.Prelude + script);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.Json;
    }
}
