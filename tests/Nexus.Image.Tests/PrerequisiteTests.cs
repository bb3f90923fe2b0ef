// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Image.Tests;

public sealed class PrerequisiteTests
{
    [Fact]
    public void NothingMissingIsNull() =>
        Assert.Null(ImageBuilder.MissingPrerequisite(isRoot: true, tool => "/usr/sbin/" + tool));

    [Fact]
    public void MissingDebootstrapSaysHowToInstallIt()
    {
        var message = ImageBuilder.MissingPrerequisite(isRoot: true, tool => tool == "debootstrap" ? null : "/usr/sbin/" + tool);
        Assert.Equal("debootstrap is not installed: run `apt-get install debootstrap`", message);
    }

    [Fact]
    public void NotRootSaysSo()
    {
        var message = ImageBuilder.MissingPrerequisite(isRoot: false, tool => "/usr/sbin/" + tool);
        Assert.NotNull(message);
        Assert.Contains("needs root", message, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryMissingThingIsNamed()
    {
        var message = ImageBuilder.MissingPrerequisite(isRoot: false, _ => null);
        Assert.NotNull(message);
        Assert.Contains("root", message, StringComparison.Ordinal);
        Assert.Contains("apt-get install debootstrap", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EnsureThatMustBuildFailsWithTheMessage()
    {
        using var cache = new TempDir();
        using var runtime = RuntimeTree.Create();
        var builder = new ImageBuilder(
            new ImageOptions { CacheDirectory = cache.Path, RuntimeSourceDirectory = runtime.Path },
            (_, _, _, _) => throw new InvalidOperationException("must not bootstrap"),
            () => "debootstrap is not installed: run `apt-get install debootstrap`",
            cache.Path);

        var e = await Assert.ThrowsAsync<ImageBuildException>(() => builder.EnsureAsync(null, CancellationToken.None));
        Assert.Contains("apt-get install debootstrap", e.Message, StringComparison.Ordinal);
    }
}
