// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Testing.Channel;

namespace Nexus.Backend.Tests;

/// <summary>The S3 operations through a real Python channel client, against the real embedded store.</summary>
public sealed class OperationTests : IAsyncLifetime
{
    private NodeUnderTest _node = null!;

    public async Task InitializeAsync() => _node = await NodeUnderTest.StartAsync();

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task Get_put_head_list_copy_delete_round_trips_with_boto3_shaped_meta()
    {
        var (channel, _) = _node.Attach();
        var result = await PythonSandbox.RunAsync(channel, PythonSandbox.Prelude + """
            out = {}
            s, m, _ = call("PutObject", {"Bucket": "nexus-test", "Key": "fn/data.txt", "ContentType": "text/plain"}, b"0123456789")
            etag = m["ETag"]
            out["put"] = [s, etag]
            s, m, d = call("GetObject", {"Bucket": "nexus-test", "Key": "fn/data.txt", "Range": "bytes=2-5"})
            out["range"] = [s, d.decode(), m.get("ContentRange"), m["ContentLength"]]
            s, m, d = call("GetObject", {"Bucket": "nexus-test", "Key": "fn/data.txt", "IfNoneMatch": etag})
            out["not_modified"] = s
            s, m, d = call("GetObject", {"Bucket": "nexus-test", "Key": "fn/data.txt", "IfMatch": '"nope"'})
            out["precondition"] = s
            s, m, d = call("HeadObject", {"Bucket": "nexus-test", "Key": "fn/data.txt"})
            out["head"] = [s, m["ContentLength"], m["ContentType"], m["ETag"] == etag, m["LastModified"], len(d)]
            s, m, d = call("GetObject", {"Bucket": "nexus-test", "Key": "fn/missing"})
            out["missing"] = [s, m["Error"]["Code"]]
            s, m, d = call("HeadObject", {"Bucket": "nexus-test", "Key": "fn/missing"})
            out["head_missing"] = s
            for i in range(5):
                call("PutObject", {"Bucket": "nexus-test", "Key": f"fn/dir{i % 2}/k{i}"}, b"x" * i)
            s, m, _ = call("ListObjectsV2", {"Bucket": "nexus-test", "Prefix": "fn/", "Delimiter": "/"})
            out["list_delim"] = [s, [c["Key"] for c in m.get("Contents", [])], [p["Prefix"] for p in m.get("CommonPrefixes", [])]]
            keys, token, pages = [], None, 0
            while True:
                p = {"Bucket": "nexus-test", "Prefix": "fn/dir", "MaxKeys": 2}
                if token: p["ContinuationToken"] = token
                s, m, _ = call("ListObjectsV2", p)
                pages += 1
                keys += [(c["Key"], c["Size"]) for c in m.get("Contents", [])]
                if not m["IsTruncated"]: break
                token = m["NextContinuationToken"]
            out["pages"] = [pages, keys]
            s, m, _ = call("CopyObject", {"Bucket": "nexus-test", "Key": "fn/copy.txt", "CopySource": {"Bucket": "nexus-test", "Key": "fn/data.txt"}})
            out["copy"] = [s, "ETag" in m["CopyObjectResult"]]
            s, m, d = call("GetObject", {"Bucket": "nexus-test", "Key": "fn/copy.txt"})
            out["copied"] = d.decode()
            s, m, _ = call("DeleteObject", {"Bucket": "nexus-test", "Key": "fn/copy.txt"})
            out["delete"] = s
            s, m, _ = call("GetObject", {"Bucket": "nexus-test", "Key": "fn/copy.txt"})
            out["after_delete"] = s
            s, m, _ = call("DeleteObjects", {"Bucket": "nexus-test", "Delete": {"Objects": [{"Key": f"fn/dir{i % 2}/k{i}"} for i in range(5)], "Quiet": True}})
            out["delete_quiet"] = [s, "Deleted" in m, m["Errors"]]
            r = t.call("GetObject", {"Bucket": "nexus-test", "Key": "fn/data.txt"})
            b = bytearray(4)
            out["readinto"] = [r.body.readinto(b), bytes(b).decode(), r.body.read(3).decode(), r.body.read().decode(), r.body.read().decode()]
            r.body.close()
            emit(out)
            """);
        Assert.True(result.ExitCode == 0, result.ToString());
        var j = result.Json;
        Assert.Equal(200, j.GetProperty("put")[0].GetInt32());
        Assert.StartsWith("\"", j.GetProperty("put")[1].GetString(), StringComparison.Ordinal);
        Assert.Equal(206, j.GetProperty("range")[0].GetInt32());
        Assert.Equal("2345", j.GetProperty("range")[1].GetString());
        Assert.Equal("bytes 2-5/10", j.GetProperty("range")[2].GetString());
        Assert.Equal(4, j.GetProperty("range")[3].GetInt32());
        Assert.Equal(304, j.GetProperty("not_modified").GetInt32());
        Assert.Equal(412, j.GetProperty("precondition").GetInt32());
        Assert.Equal(200, j.GetProperty("head")[0].GetInt32());
        Assert.Equal(10, j.GetProperty("head")[1].GetInt32());
        Assert.Equal("text/plain", j.GetProperty("head")[2].GetString());
        Assert.True(j.GetProperty("head")[3].GetBoolean());
        Assert.EndsWith("Z", j.GetProperty("head")[4].GetString(), StringComparison.Ordinal);
        Assert.Equal(0, j.GetProperty("head")[5].GetInt32());
        Assert.Equal(404, j.GetProperty("missing")[0].GetInt32());
        Assert.Equal("NoSuchKey", j.GetProperty("missing")[1].GetString());
        Assert.Equal(404, j.GetProperty("head_missing").GetInt32());
        Assert.Equal(["fn/data.txt"], j.GetProperty("list_delim")[1].EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["fn/dir0/", "fn/dir1/"], j.GetProperty("list_delim")[2].EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(3, j.GetProperty("pages")[0].GetInt32());
        Assert.Equal(5, j.GetProperty("pages")[1].GetArrayLength());
        Assert.Equal(200, j.GetProperty("copy")[0].GetInt32());
        Assert.True(j.GetProperty("copy")[1].GetBoolean());
        Assert.Equal("0123456789", j.GetProperty("copied").GetString());
        Assert.Equal(204, j.GetProperty("delete").GetInt32());
        Assert.Equal(404, j.GetProperty("after_delete").GetInt32());
        Assert.Equal(200, j.GetProperty("delete_quiet")[0].GetInt32());
        Assert.False(j.GetProperty("delete_quiet")[1].GetBoolean());
        Assert.Equal(0, j.GetProperty("delete_quiet")[2].GetArrayLength());
        var readInto = j.GetProperty("readinto");
        Assert.Equal(4, readInto[0].GetInt32());
        Assert.Equal("0123", readInto[1].GetString());
        Assert.Equal("456", readInto[2].GetString());
        Assert.Equal("789", readInto[3].GetString());
        Assert.Equal(string.Empty, readInto[4].GetString());
    }
}
