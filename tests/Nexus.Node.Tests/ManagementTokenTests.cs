// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Node.Api;

namespace Nexus.Node.Tests;

/// <summary>
/// The management API's token (docs/threat-model.md, "Management API"): loopback is every local user's, so a caller
/// that cannot make the token from the node's admin key (root's file) may not deploy (code with any bucket grant),
/// remove, list, read logs or status, or stop the node. Before, any local account could: an operator's review deployed a
/// function granting a root-only bucket as user nobody and read the bucket through it. With the token check removed
/// from the filter, every refused request here was served.
/// </summary>
public sealed class ManagementTokenTests : IAsyncLifetime
{
    private RecordingApi _api = null!;

    public async Task InitializeAsync() => _api = await RecordingApi.StartAsync("echo");

    public async Task DisposeAsync() => await _api.DisposeAsync();

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("0000")]
    [InlineData(RecordingNode.Token + "x")]
    public async Task Without_the_token_only_health_is_answered(string? token)
    {
        using var http = new HttpClient { BaseAddress = _api.Base };
        if (token is not null)
        {
            http.DefaultRequestHeaders.Add(KeyPair.ManagementTokenHeader, token);
        }

        var package = FunctionPackages.Zip(("function.yaml", "name: intruder\nhandler: handler.handler\nstorage:\n  - bucket: private\n    access: read\n"), ("handler.py", "def handler(e, c):\n    return e\n"));
        var refused = new[]
        {
            new HttpRequestMessage(HttpMethod.Post, NodeApi.ManagementPrefix + "/functions") { Content = new ByteArrayContent(package) },
            new HttpRequestMessage(HttpMethod.Delete, NodeApi.ManagementPrefix + "/functions/echo"),
            new HttpRequestMessage(HttpMethod.Get, NodeApi.ManagementPrefix + "/functions"),
            new HttpRequestMessage(HttpMethod.Get, NodeApi.ManagementPrefix + "/functions/echo/logs"),
            new HttpRequestMessage(HttpMethod.Get, NodeApi.ManagementPrefix + "/status"),
            new HttpRequestMessage(HttpMethod.Post, NodeApi.ManagementPrefix + "/shutdown"),
        };
        foreach (var request in refused)
        {
            using (request)
            using (var response = await http.SendAsync(request))
            {
                Assert.True(401 == (int)response.StatusCode, $"{request.Method} {request.RequestUri}: {(int)response.StatusCode}");
                Assert.Contains("run it as root", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }
        }

        Assert.False(_api.Node.TryGetFunction("intruder", out _));
        Assert.True(_api.Node.TryGetFunction("echo", out _));
        using var health = await http.GetAsync(NodeApi.ManagementPrefix + "/health");
        Assert.Equal("ok", await health.Content.ReadAsStringAsync());

        // The same requests with the token are served.
        using var listed = await _api.Http.GetAsync(NodeApi.ManagementPrefix + "/functions");
        Assert.True(listed.IsSuccessStatusCode);
    }

    [Fact]
    public void The_token_is_made_from_the_secret_without_showing_it()
    {
        var key = KeyPair.Generate("NXA");
        var token = key.ManagementToken();
        Assert.Equal(64, token.Length);
        Assert.DoesNotContain(key.SecretAccessKey, token, StringComparison.Ordinal);
        Assert.Equal(token, new KeyPair(key.AccessKeyId, key.SecretAccessKey).ManagementToken());
        Assert.NotEqual(token, KeyPair.Generate("NXA").ManagementToken());
    }
}
