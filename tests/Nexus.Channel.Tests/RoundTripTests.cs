// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Security.Cryptography;
using Nexus.Testing.Channel;

namespace Nexus.Channel.Tests;

public sealed class RoundTripTests : IAsyncLifetime
{
    private NodeUnderTest _node = null!;

    public async Task InitializeAsync() => _node = await NodeUnderTest.StartAsync();

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Theory]
    [InlineData("0")]
    [InlineData("5000")]
    public async Task Put_then_get_through_python_returns_the_same_bytes(string spin)
    {
        var (channel, _) = _node.Attach();
        var environment = new Dictionary<string, string> { ["NEXUS_CHANNEL_SPIN"] = spin };
        var result = await PythonSandbox.RunAsync(channel, PythonSandbox.Prelude + """
            data = os.urandom(3000)
            s1, m1, _ = call("PutObject", {"Bucket": "nexus-test", "Key": "fn/a.bin", "ContentType": "application/x-test", "Metadata": {"k": "v"}}, data)
            s2, m2, got = call("GetObject", {"Bucket": "nexus-test", "Key": "fn/a.bin"})
            emit({"put": s1, "etag": m1.get("ETag"), "get": s2, "same": got == data, "meta": m2, "sha": hashlib.sha256(data).hexdigest()})
            """, extraEnvironment: environment);
        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json;
        Assert.Equal(200, json.GetProperty("put").GetInt32());
        Assert.Equal(200, json.GetProperty("get").GetInt32());
        Assert.True(json.GetProperty("same").GetBoolean());
        var meta = json.GetProperty("meta");
        Assert.Equal(3000, meta.GetProperty("ContentLength").GetInt64());
        Assert.Equal("application/x-test", meta.GetProperty("ContentType").GetString());
        Assert.Equal("v", meta.GetProperty("Metadata").GetProperty("k").GetString());
        Assert.Equal(json.GetProperty("etag").GetString(), meta.GetProperty("ETag").GetString());
        var stored = await _node.GetAsync("fn/a.bin");
        Assert.Equal(json.GetProperty("sha").GetString(), Convert.ToHexStringLower(SHA256.HashData(stored)));
    }
}
