// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text;
using System.Text.Json;
using Nexus.Backend.Storage;
using Nexus.Channel.Services;
using Nexus.Functions;

namespace Nexus.Backend.Tests;

/// <summary>
/// generate_presigned_post's signing in the backend, attacked with what a hostile sandbox could send: the policy the
/// node signs always pins the bucket and the key (or the granted prefix before ${filename}), whatever Fields and
/// Conditions say, and nothing outside the function's write grants is signed.
/// </summary>
public sealed class PresignedPostTests
{
    private static readonly FunctionManifest s_manifest = new()
    {
        Name = "f",
        Handler = "h.main",
        Storage = [new StorageGrant("data", "up/", StorageAccess.ReadWrite), new StorageGrant("data", "ro/", StorageAccess.Read)],
    };

    private static readonly NexusBackendOptions s_options = new() { ServiceUrl = "http://127.0.0.1:9780", AccessKey = "NODEKEY", SecretKey = "node-secret" };

    private static readonly DateTime s_now = new(2026, 12, 3, 13, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void ThePolicyPinsBucketAndKeyAfterTheSandboxsConditions()
    {
        var (url, fields) = Sign("""{"Bucket":"data","Key":"up/a.txt","Fields":{"Content-Type":"text/plain"},"Conditions":[{"key":"ro/x"},["starts-with","$key",""]]}""");
        Assert.Equal("http://127.0.0.1:9780/data", url);
        Assert.Equal("up/a.txt", fields["key"]);
        Assert.Equal("NODEKEY/20261203/us-east-1/s3/aws4_request", fields["x-amz-credential"]);
        using var policy = JsonDocument.Parse(Convert.FromBase64String(fields["policy"]));
        Assert.Equal("2026-12-03T14:00:00Z", policy.RootElement.GetProperty("expiration").GetString());
        var conditions = policy.RootElement.GetProperty("conditions").EnumerateArray().Select(c => c.GetRawText()).ToList();

        // The sandbox's conditions stay (they can only narrow: all must hold), the node's pin the upload.
        Assert.Contains("""{"bucket":"data"}""", conditions);
        Assert.Contains("""{"key":"up/a.txt"}""", conditions);
        Assert.Contains("""{"x-amz-date":"20261203T130000Z"}""", conditions);
    }

    [Fact]
    public void AFileNameUploadIsPinnedToItsGrantedPrefix()
    {
        var (_, fields) = Sign("""{"Bucket":"data","Key":"up/in/${filename}"}""");
        using var policy = JsonDocument.Parse(Convert.FromBase64String(fields["policy"]));
        Assert.Contains("""["starts-with","$key","up/in/"]""", policy.RootElement.GetProperty("conditions").EnumerateArray().Select(c => c.GetRawText()));
    }

    [Theory]
    [InlineData("""{"Bucket":"data","Key":"ro/a"}""", "writing 'data/ro/a'")]
    [InlineData("""{"Bucket":"data","Key":"${filename}"}""", "writing 'data/'")]
    [InlineData("""{"Bucket":"data","Key":"u${filename}p/a"}""", "writing 'data/u'")]
    [InlineData("""{"Bucket":"other","Key":"up/a"}""", "writing 'other/up/a'")]
    public void NothingOutsideTheWriteGrantsIsSigned(string request, string why)
    {
        var e = Assert.Throws<ChannelRequestException>(() => Sign(request));
        Assert.Equal(403, e.Status);
        Assert.Contains(why, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"Bucket":"data","Key":"up/a","Fields":{"key":"ro/x"}}""", "may not set \"key\"")]
    [InlineData("""{"Bucket":"data","Key":"up/a","Fields":{"Policy":"e30="}}""", "may not set \"Policy\"")]
    [InlineData("""{"Bucket":"data","Key":"up/a","Conditions":["eq"]}""", "a condition is")]
    [InlineData("""{"Bucket":"data","Key":"up/a","Conditions":[{"key":{"nested":1}}]}""", "a condition is")]
    [InlineData("""{"Bucket":"data","Key":"up/a","Conditions":{"key":"x"}}""", "Conditions must be a list")]
    public void FieldsAndConditionsCannotLoosenThePolicy(string request, string why)
    {
        var e = Assert.Throws<ChannelRequestException>(() => Sign(request));
        Assert.Contains(why, e.Message, StringComparison.Ordinal);
    }

    private static (string Url, Dictionary<string, string> Fields) Sign(string request)
    {
        using var json = JsonDocument.Parse(Encoding.UTF8.GetBytes(request));
        return PresignedPost.Sign(s_manifest, s_options, json.RootElement, 3600, s_now);
    }
}
