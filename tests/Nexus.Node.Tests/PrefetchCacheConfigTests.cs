// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Node.Tests;

/// <summary>node.json's <c>s3PrefetchCacheMiB</c>: the size of the node's cache of recent inputs (no node is started).</summary>
public sealed class PrefetchCacheConfigTests : IDisposable
{
    private readonly DirectoryInfo _home = Directory.CreateTempSubdirectory("nexus-node-cache-");

    public void Dispose() => _home.Delete(recursive: true);

    [Theory]
    [InlineData("{}", 32)]
    [InlineData("{\"s3PrefetchCacheMiB\": 0}", 0)]
    [InlineData("{\"s3PrefetchCacheMiB\": 8}", 8)]
    public void TheCacheSizeIsReadFromNodeJson(string json, int expected)
    {
        Assert.Equal(expected, Load(json).S3PrefetchCacheMiB);
    }

    [Fact]
    public void ANegativeCacheSizeIsRefusedNamingTheOption()
    {
        var e = Assert.Throws<InvalidDataException>(() => Load("{\"s3PrefetchCacheMiB\": -1}"));
        Assert.Contains("s3PrefetchCacheMiB", e.Message, StringComparison.Ordinal);
        Assert.Contains("got -1", e.Message, StringComparison.Ordinal);
    }

    private NodeOptions Load(string json)
    {
        File.WriteAllText(Path.Combine(_home.FullName, "node.json"), json);
        return NodeOptions.Load(environment: new Dictionary<string, string?> { ["NEXUS_HOME"] = _home.FullName });
    }
}
