// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Image.Tests;

public sealed class AptSourcesTests
{
    [Fact]
    public void Deb822PicksTheMainArchiveNotSecurity()
    {
        const string Sources = """
            Types: deb
            # http://snapshot.debian.org/archive/debian/20250520T000000Z
            URIs: http://deb.debian.org/debian
            Suites: bookworm bookworm-updates
            Components: main
            Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

            Types: deb
            URIs: http://deb.debian.org/debian-security
            Suites: bookworm-security
            Components: main
            """;

        Assert.Equal("http://deb.debian.org/debian", AptSources.FindMirror([("/etc/apt/sources.list.d/debian.sources", Sources)], "bookworm"));
    }

    [Fact]
    public void Deb822SkipsDisabledAndSourceOnlyStanzas()
    {
        const string Sources = """
            Types: deb
            URIs: http://disabled.example/debian
            Suites: bookworm
            Enabled: no

            Types: deb-src
            URIs: http://src.example/debian
            Suites: bookworm

            Types: deb deb-src
            URIs: https://mirror.example/debian/
            Suites: bookworm
            """;

        Assert.Equal("https://mirror.example/debian", AptSources.FindMirror([("x.sources", Sources)], "bookworm"));
    }

    [Fact]
    public void OneLineFormatWithOptionsAndComments()
    {
        const string List = """
            # deb http://commented.example/debian bookworm main
            deb-src http://src.example/debian bookworm main
            deb cdrom:[Debian GNU/Linux 12]/ bookworm main
            deb [arch=amd64 signed-by=/usr/share/keyrings/k.gpg] http://local.mirror:3142/debian bookworm main contrib # trailing
            """;

        Assert.Equal("http://local.mirror:3142/debian", AptSources.FindMirror([("/etc/apt/sources.list", List)], "bookworm"));
    }

    [Fact]
    public void OtherSuitesAndRepositoriesAreIgnored()
    {
        const string List = """
            deb https://packages.cloud.google.com/apt cloud-sdk-bookworm main
            deb http://deb.debian.org/debian bullseye main
            """;

        Assert.Null(AptSources.FindMirror([("/etc/apt/sources.list", List)], "bookworm"));
    }

    [Fact]
    public void DetectReadsOnlyFilesAptReadsAndFallsBackToDebDebianOrg()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.Combine("sources.list.d"));
        File.WriteAllText(dir.Combine("sources.list.d", "old.list.disabled-by-farm"), "deb http://disabled.example/debian bookworm main\n");

        Assert.Equal(AptSources.DefaultMirror, AptSources.DetectMirror("bookworm", dir.Path));

        File.WriteAllText(dir.Combine("sources.list.d", "local.list"), "deb http://local.example/debian bookworm main\n");
        Assert.Equal("http://local.example/debian", AptSources.DetectMirror("bookworm", dir.Path));
    }

    [Theory]
    [InlineData("ftp://old.example/debian")]
    [InlineData("deb.debian.org/debian")]
    [InlineData("")]
    public void ConfiguredMirrorMustBeAnArchiveUrl(string mirror)
    {
        var e = Assert.Throws<ImageBuildException>(() => AptSources.ValidateMirror(mirror));
        Assert.Contains($"'{mirror}'", e.Message, StringComparison.Ordinal);
        Assert.Contains("http://", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ConfiguredMirrorIsUsedAsGiven()
    {
        using var dir = new TempDir();
        var builder = new ImageBuilder(new ImageOptions { CacheDirectory = dir.Path, Mirror = "https://mirror.example/debian/" });
        Assert.Equal("https://mirror.example/debian", builder.Mirror);
    }
}
