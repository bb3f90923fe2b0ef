// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text.Json;
using Nexus.Testing.Channel;

namespace Nexus.Backend.Tests;

/// <summary>
/// Attacks on the backend's size limits for what a sandbox sends (docs/threat-model.md, "Oversized input"), through a
/// real Python channel client. Each test names the defence it guards; each was checked by removing that defence once
/// and watching the test fail.
/// </summary>
public sealed class LimitAttackTests : IAsyncLifetime
{
    private NodeUnderTest _node = null!;

    public async Task InitializeAsync()
    {
        _node = await NodeUnderTest.StartAsync();
        await _node.PutAsync("fn/keep", "kept"u8.ToArray());
    }

    public async Task DisposeAsync() => await _node.DisposeAsync();

    /// <summary>
    /// Guards the 1000-key cap of DeleteObjects in StorageOperations.DeleteObjectsAsync: 1001 keys (all granted, one
    /// existing) are refused whole by the backend, before any key is checked or deleted. Checked by removing this cap
    /// and the store's own (S3Handler.DeleteObjectsAsync) once: all 1001 keys were deleted (200) and this test failed.
    /// With only this one removed, the refusal would come from the store with its own message, which the message
    /// assertion rejects.
    /// </summary>
    [Fact]
    public async Task DeleteObjectsWithMoreThan1000KeysIsRefusedWhole()
    {
        var json = await RunAsync("""
            out = {}
            keys = [{"Key": "fn/keep"}] + [{"Key": f"fn/k{i}"} for i in range(1000)]
            s, m, _ = call("DeleteObjects", {"Bucket": "nexus-test", "Delete": {"Objects": keys}})
            out["many"] = [s, m.get("Error", {}).get("Code"), m.get("Error", {}).get("Message")]
            s, m, d = call("GetObject", {"Bucket": "nexus-test", "Key": "fn/keep"})
            out["kept"] = [s, d.decode()]
            s, m, _ = call("DeleteObjects", {"Bucket": "nexus-test", "Delete": {"Objects": keys[1:]}})
            out["exactly_1000"] = [s, len(m.get("Deleted", []))]
            emit(out)
            """);
        var many = json.GetProperty("many");
        Assert.Equal(400, many[0].GetInt32());
        Assert.Equal("MalformedXML", many[1].GetString());
        Assert.Equal("DeleteObjects takes at most 1000 keys", many[2].GetString());
        Assert.Equal(200, json.GetProperty("kept")[0].GetInt32());
        Assert.Equal("kept", json.GetProperty("kept")[1].GetString());

        // Control: the limit is 1000, not less.
        Assert.Equal(200, json.GetProperty("exactly_1000")[0].GetInt32());
        Assert.Equal(1000, json.GetProperty("exactly_1000")[1].GetInt32());
    }

    /// <summary>
    /// Guards MaxDepth 16 on the request header JSON (InstanceSession.ReadHeaderJsonAsync): a header nested 40 deep is
    /// refused with 400 before any field is read. With MaxDepth removed (System.Text.Json's default is 64) the
    /// request went through and this test failed.
    /// </summary>
    [Fact]
    public async Task RequestHeaderNestedPastDepth16IsRefused()
    {
        var json = await RunAsync("""
            out = {}
            def nested(n):
                v = 0
                for _ in range(n): v = [v]
                return v
            s, m, _ = call("GetObject", {"Bucket": "nexus-test", "Key": "fn/keep", "Extra": nested(40)})
            out["deep"] = [s, m.get("Error", {}).get("Message", "")]
            s, m, d = call("GetObject", {"Bucket": "nexus-test", "Key": "fn/keep", "Extra": nested(5)})
            out["shallow"] = [s, d.decode()]
            emit(out)
            """);
        var deep = json.GetProperty("deep");
        Assert.Equal(400, deep[0].GetInt32());
        Assert.Contains("depth", deep[1].GetString(), StringComparison.OrdinalIgnoreCase);

        // Control: the same request nested within the limit is served.
        Assert.Equal(200, json.GetProperty("shallow")[0].GetInt32());
        Assert.Equal("kept", json.GetProperty("shallow")[1].GetString());
    }

    private async Task<JsonElement> RunAsync(string script)
    {
        var (channel, _) = _node.Attach();
        var result = await PythonSandbox.RunAsync(channel, PythonSandbox.Prelude + script);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.Json;
    }
}
