// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Image.Tests;

public sealed class ImageRecipeTests
{
    private const string Mirror = "http://deb.debian.org/debian";

    [Fact]
    public void RuntimeFilesGoWhereTheSandboxImportsThem()
    {
        using var runtime = RuntimeTree.Create();

        var paths = ImageRecipe.RuntimeFiles(runtime.Path).Select(f => f.ImagePath).ToList();

        Assert.Equal(
            [
                "opt/nexus/frontend/boto3/__init__.py",
                "opt/nexus/runtime/nexus_channel/__init__.py",
                "opt/nexus/runtime/nexus_runtime/__init__.py",
                "opt/nexus/runtime/nexus_runtime/__main__.py",
            ],
            paths);
    }

    [Fact]
    public void ARuntimeChangeChangesTheImageHashButNotTheBaseHash()
    {
        using var runtime = RuntimeTree.Create();
        var before = Hashes(runtime.Path);

        runtime.Write("nexus_runtime/__main__.py", "print('runtime v2')\n");
        var after = Hashes(runtime.Path);

        Assert.Equal(before.Base, after.Base);
        Assert.NotEqual(before.Image, after.Image);
    }

    [Fact]
    public void FrontendAndChannelChangesChangeTheImageHash()
    {
        using var runtime = RuntimeTree.Create();
        var first = Hashes(runtime.Path).Image;

        runtime.Write("frontend/boto3/__init__.py", "FRONTEND = 2\n");
        var second = Hashes(runtime.Path).Image;
        runtime.Write("nexus_channel/nexus_channel/extra.py", "X = 1\n");
        var third = Hashes(runtime.Path).Image;

        Assert.Equal(3, new[] { first, second, third }.Distinct().Count());
    }

    [Fact]
    public void UnrelatedFilesDoNotChangeTheHash()
    {
        using var runtime = RuntimeTree.Create();
        var before = Hashes(runtime.Path).Image;

        runtime.Write("nexus_runtime/__pycache__/bootstrap.cpython-311.pyc", "bytecode");
        runtime.Write("nexus_runtime/tests/test_runtime.py", "import unittest\n");
        runtime.Write("frontend/tests/test_client.py", "import unittest\n");
        runtime.Write("frontend/difftests/case.py", "x = 1\n");
        runtime.Write("nexus_runtime/.editor-swap", "x");
        runtime.Write("README.md", "top-level files are not part of any import root\n");

        Assert.Equal(before, Hashes(runtime.Path).Image);
    }

    [Fact]
    public void AFileMovedToAnotherPlaceChangesTheHash()
    {
        using var runtime = RuntimeTree.Create();
        runtime.Write("nexus_runtime/a.py", "same = 1\n");
        var before = Hashes(runtime.Path).Image;

        File.Move(Path.Combine(runtime.Path, "nexus_runtime/a.py"), Path.Combine(runtime.Path, "nexus_runtime/b.py"));

        Assert.NotEqual(before, Hashes(runtime.Path).Image);
    }

    [Fact]
    public void TheMirrorIsPartOfTheBaseHash() =>
        Assert.NotEqual(ImageRecipe.BaseHash(Mirror), ImageRecipe.BaseHash("http://other.example/debian"));

    [Fact]
    public void HashesAreStableHex()
    {
        var hash = ImageRecipe.BaseHash(Mirror);
        Assert.Equal(hash, ImageRecipe.BaseHash(Mirror));
        Assert.Matches("^[0-9a-f]{64}$", hash);
    }

    [Fact]
    public void AMissingRuntimeFolderIsAClearError()
    {
        using var empty = new TempDir();
        var e = Assert.Throws<ImageBuildException>(() => ImageRecipe.RuntimeFiles(empty.Path));
        Assert.Contains(empty.Path, e.Message, StringComparison.Ordinal);
        Assert.Contains("nexus_runtime/__main__.py", e.Message, StringComparison.Ordinal);
        Assert.Contains("RuntimeSourceDirectory", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TwoFilesForOnePlaceInTheImageAreRejected()
    {
        using var runtime = RuntimeTree.Create();
        runtime.Write("nexus_channel/nexus_runtime/__main__.py", "shadow\n");

        var e = Assert.Throws<ImageBuildException>(() => ImageRecipe.RuntimeFiles(runtime.Path));
        Assert.Contains("/opt/nexus/runtime/nexus_runtime/__main__.py", e.Message, StringComparison.Ordinal);
    }

    private static (string Base, string Image) Hashes(string runtimeDirectory)
    {
        var baseHash = ImageRecipe.BaseHash(Mirror);
        return (baseHash, ImageRecipe.ImageHash(baseHash, ImageRecipe.RuntimeHash(ImageRecipe.RuntimeFiles(runtimeDirectory))));
    }
}
