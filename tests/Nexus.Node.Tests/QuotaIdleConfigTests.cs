// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Node.Tests;

/// <summary>node.json's <c>quotaIdle</c> and <c>quotaIdleHoldMilliseconds</c> (no node is started).</summary>
public sealed class QuotaIdleConfigTests : IDisposable
{
    private readonly DirectoryInfo _home = Directory.CreateTempSubdirectory("nexus-node-quota-idle-");

    public void Dispose() => _home.Delete(recursive: true);

    [Theory]
    [InlineData("{}", true, 5000)]
    [InlineData("{\"quotaIdle\": false}", false, 5000)]
    [InlineData("{\"quotaIdleHoldMilliseconds\": 250}", true, 250)]
    public void The_idle_class_settings_are_read_from_node_json(string json, bool on, int holdMs)
    {
        var options = Load(json);
        Assert.Equal(on, options.QuotaIdle);
        Assert.Equal(holdMs, options.QuotaIdleHoldMilliseconds);
    }

    [Fact]
    public void A_negative_hold_is_refused_naming_the_option()
    {
        var e = Assert.Throws<ArgumentException>(() => Load("{\"quotaIdleHoldMilliseconds\": -1}"));
        Assert.Contains("QuotaIdleHoldMilliseconds", e.Message, StringComparison.Ordinal);
        Assert.Contains("got -1", e.Message, StringComparison.Ordinal);
    }

    private NodeOptions Load(string json)
    {
        File.WriteAllText(Path.Combine(_home.FullName, "node.json"), json);
        return NodeOptions.Load(environment: new Dictionary<string, string?> { ["NEXUS_HOME"] = _home.FullName });
    }
}
