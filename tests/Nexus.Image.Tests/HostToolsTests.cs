// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Testing;

namespace Nexus.Image.Tests;

public sealed class HostToolsTests
{
    [Fact]
    public void MountsUnderReadsEscapedMountPoints()
    {
        using var dir = new TempDir();
        var mountInfo = dir.Combine("mountinfo");
        File.WriteAllLines(mountInfo,
        [
            "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/vda rw",
            "90 22 0:5 / /cache/tmp/base-1/rootfs/proc rw shared:40 - proc proc rw",
            "91 22 0:6 / /cache/tmp/base-1/rootfs/with\\040space rw - tmpfs tmpfs rw",
            "92 22 0:7 / /cache/tmp/base-10/rootfs/proc rw - proc proc rw",
        ]);

        var mounts = HostTools.MountsUnder("/cache/tmp/base-1", mountInfo).ToList();

        Assert.Equal(["/cache/tmp/base-1/rootfs/proc", "/cache/tmp/base-1/rootfs/with space"], mounts);
    }

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("a\\040b", "a b")]
    [InlineData("tab\\011x", "tab\tx")]
    [InlineData("back\\134slash", "back\\slash")]
    [InlineData("not\\89octal", "not\\89octal")]
    [InlineData("short\\04", "short\\04")]
    public void UnescapeDecodesOctal(string field, string expected) => Assert.Equal(expected, HostTools.Unescape(field));

    [RootFact(runc: false)]
    public async Task RemoveTreeUnmountsAndNeverDeletesThroughAMount()
    {
        using var outside = new TempDir();
        File.WriteAllText(outside.Combine("host-file"), "must survive");
        var tree = Directory.CreateTempSubdirectory("nexus-image-rm-").FullName;
        var proc = Path.Combine(tree, "rootfs", "proc");
        Directory.CreateDirectory(proc);
        File.WriteAllText(Path.Combine(tree, "rootfs", "file"), "x");

        // As an interrupted debootstrap leaves it: something of the host mounted inside the build tree.
        var (exitCode, output) = await Run.ProgramAsync("mount", ["--bind", outside.Path, proc]);
        Assert.True(exitCode == 0, output);

        await HostTools.RemoveTreeAsync(tree);

        Assert.False(Directory.Exists(tree));
        Assert.Empty(HostTools.MountsUnder(tree));
        Assert.Equal("must survive", File.ReadAllText(outside.Combine("host-file")));
    }
}

public sealed class DebootstrapProgressTests
{
    [Theory]
    [InlineData("I: Retrieving InRelease ", "Retrieving InRelease")]
    [InlineData("I: Configuring python3-boto3...", "Configuring python3-boto3...")]
    [InlineData("I: Base system installed successfully.", "Base system installed successfully.")]
    [InlineData("W: Cannot check Release signature; keyring file not available", "warning: Cannot check Release signature; keyring file not available")]
    public void PhaseLinesAreForwarded(string line, string expected) => Assert.Equal(expected, BaseRootfs.PhaseLine(line));

    [Theory]
    [InlineData("")]
    [InlineData("--2026-11-22 06:36:01--  http://deb.debian.org/debian/dists/bookworm/InRelease")]
    [InlineData("dpkg: warning: ...")]
    public void OtherOutputIsNot(string line) => Assert.Null(BaseRootfs.PhaseLine(line));
}
