// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net;
using System.Text.Json;
using Nexus.Testing.Channel;

namespace Nexus.Backend.Tests;

/// <summary>
/// S3 keys are opaque: "fn/../other/secret" is a key under fn/, not a path to other/secret. A function granted only
/// nexus-test/fn/ writes, reads, copies, lists, presigns and deletes that key, and storage must only ever act on the
/// literal key: a distinct object at other/secret is neither returned nor overwritten nor deleted. Run with writes sent
/// by the SDK, and with writes spooled and uploaded by <see cref="Storage.DirectS3"/> (ServiceSigner's requests).
/// </summary>
public sealed class DotSegmentKeyTests
{
    private const string Attack = "fn/../other/secret";
    private const string Target = "other/secret";

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_dot_segment_key_reaches_storage_literally_and_never_as_the_path_it_spells(bool writeBack)
    {
        var spool = writeBack ? Directory.CreateTempSubdirectory("nexus-dot-spool-") : null;
        try
        {
            await using var node = await NodeUnderTest.StartAsync(configure: o => o with { SpoolDirectory = spool?.FullName });
            await node.PutAsync(Target, "the other secret"u8.ToArray());
            var targetBefore = await node.Admin.GetObjectMetadataAsync(NodeUnderTest.Bucket, Target);

            var (channel, _) = node.Attach();
            var result = await PythonSandbox.RunAsync(channel, PythonSandbox.Prelude + $$$"""
                import urllib.request
                B, K = "nexus-test", {{{JsonSerializer.Serialize(Attack)}}}
                out = {}
                out["put"] = call("PutObject", {"Bucket": B, "Key": K}, b"written by fn")[0]
                s, m, data = call("GetObject", {"Bucket": B, "Key": K})
                out["get"] = f"{s} {data.decode()}"
                out["copy_from"] = call("CopyObject", {"Bucket": B, "Key": "fn/copied", "CopySource": {"Bucket": B, "Key": K}})[0]
                out["copied"] = call("GetObject", {"Bucket": B, "Key": "fn/copied"})[2].decode()
                out["copy_to"] = call("CopyObject", {"Bucket": B, "Key": K, "CopySource": B + "/fn/copied"})[0]
                out["listed"] = [c["Key"] for c in call("ListObjectsV2", {"Bucket": B, "Prefix": "fn/"})[1].get("Contents", [])]
                url = call("GeneratePresignedUrl", {"Operation": "GetObject", "Bucket": B, "Key": K})[1]["Url"]
                with urllib.request.urlopen(url) as r:
                    out["presigned"] = r.read().decode()
                emit(out)
                """, limit: TimeSpan.FromSeconds(30));
            // First what must hold however the calls went: the object the key spells as a path is untouched.
            Assert.Equal("the other secret"u8.ToArray(), await node.GetAsync(Target));
            var targetAfter = await node.Admin.GetObjectMetadataAsync(NodeUnderTest.Bucket, Target);
            Assert.Equal((targetBefore.ETag, targetBefore.LastModified), (targetAfter.ETag, targetAfter.LastModified));
            Assert.True(result.ExitCode == 0, result.ToString());
            var json = result.Json;
            Assert.Equal(200, json.GetProperty("put").GetInt32());
            Assert.Equal("200 written by fn", json.GetProperty("get").GetString());
            Assert.Equal(200, json.GetProperty("copy_from").GetInt32());
            Assert.Equal("written by fn", json.GetProperty("copied").GetString());
            Assert.Equal(200, json.GetProperty("copy_to").GetInt32());
            Assert.Equal([Attack, "fn/copied"], json.GetProperty("listed").EnumerateArray().Select(k => k.GetString()));
            Assert.Equal("written by fn", json.GetProperty("presigned").GetString());

            // Storage holds the literal key.
            Assert.Equal("written by fn"u8.ToArray(), await node.GetAsync(Attack));

            // Deleting the key deletes the literal key only.
            var (channel2, _) = node.Attach();
            var deleted = await PythonSandbox.RunAsync(channel2, PythonSandbox.Prelude + $$$"""
                emit(call("DeleteObject", {"Bucket": "nexus-test", "Key": {{{JsonSerializer.Serialize(Attack)}}}})[0])
                """);
            Assert.Equal("204", deleted.Json.GetRawText());
            var missing = await Assert.ThrowsAsync<Amazon.S3.AmazonS3Exception>(() => node.Admin.GetObjectMetadataAsync(NodeUnderTest.Bucket, Attack));
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            Assert.Equal("the other secret"u8.ToArray(), await node.GetAsync(Target));
        }
        finally
        {
            spool?.Delete(recursive: true);
        }
    }

    /// <summary>A presigned URL is bound to its literal path: a client that normalises it reaches nothing.</summary>
    [Fact]
    public async Task A_presigned_url_for_a_dot_segment_key_does_not_open_the_path_it_spells()
    {
        await using var node = await NodeUnderTest.StartAsync();
        await node.PutAsync(Target, "the other secret"u8.ToArray());
        var (channel, _) = node.Attach();
        var result = await PythonSandbox.RunAsync(channel, PythonSandbox.Prelude + $$$"""
            emit(call("GeneratePresignedUrl", {"Operation": "GetObject", "Bucket": "nexus-test", "Key": {{{JsonSerializer.Serialize(Attack)}}}})[1]["Url"])
            """);
        var url = result.Json.GetString()!;
        Assert.Contains("/nexus-test/" + Attack + "?", url, StringComparison.Ordinal);

        // .NET's Uri removes the dot segments, as many HTTP clients do: the request is for other/secret, signed for the
        // literal key, and the store refuses it.
        using var http = new HttpClient();
        using var response = await http.GetAsync(new Uri(url));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.DoesNotContain("the other secret", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
