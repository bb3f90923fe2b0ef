// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using Nexus.Testing;

namespace Nexus.Image.Tests;

/// <summary>The erofs disks a microVM guest boots from: the cached guest root and a per-deploy code drive, read back with dump.erofs.</summary>
public sealed class GuestDiskTests
{
    private static readonly string? s_noErofs = GuestDisks.MissingPrerequisite();

    [RootFact(runc: false)]
    public async Task GuestRootHoldsPythonAndTheRuntimeWithTheirModificationTimes()
    {
        Assert.Null(s_noErofs);
        var image = await ImageIntegrationTests.EnsureImageAsync();
        var disk = await GuestDisks.EnsureRootAsync(image, new LineRecorder(), CancellationToken.None);

        Assert.Equal(Path.Combine(Path.GetDirectoryName(image.RootfsPath)!, GuestDisks.RootFileName), disk);
        Assert.Contains("symlink file", await DumpAsync(disk, "/usr/bin/python3"), StringComparison.Ordinal);
        var python = await DumpAsync(disk, "/usr/bin/python3.11");
        Assert.Contains("regular file", python, StringComparison.Ordinal);
        Assert.Contains("Access: 0755", python, StringComparison.Ordinal);
        Assert.Contains("regular file", await DumpAsync(disk, "/opt/nexus/runtime/nexus_runtime/bootstrap.py"), StringComparison.Ordinal);
        Assert.Contains("regular file", await DumpAsync(disk, "/usr/lib/python3.11/json/__init__.py"), StringComparison.Ordinal);
        Assert.Contains("directory", await DumpAsync(disk, "/usr/lib/python3/dist-packages/boto3"), StringComparison.Ordinal);

        // Python trusts a precompiled .pyc only while its source keeps the modification time it was compiled against.
        var source = Path.Combine(image.RootfsPath, "opt/nexus/runtime/nexus_runtime/bootstrap.py");
        var expected = File.GetLastWriteTimeUtc(source).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        Assert.Contains($"Timestamp: {expected}", await DumpAsync(disk, "/opt/nexus/runtime/nexus_runtime/bootstrap.py"), StringComparison.Ordinal);

        // A second call is a cache hit: same file, not rebuilt.
        var built = File.GetLastWriteTimeUtc(disk);
        var lines = new LineRecorder();
        Assert.Equal(disk, await GuestDisks.EnsureRootAsync(image, lines, CancellationToken.None));
        Assert.Equal(built, File.GetLastWriteTimeUtc(disk));
        Assert.Contains(lines.Lines, l => l.EndsWith("(cached)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CodeDriveHoldsTheFunctionFolderAndTheRuntimesLaunch()
    {
        Assert.True(s_noErofs is null, s_noErofs);
        using var dir = new TempDir();
        var function = Directory.CreateDirectory(dir.Combine("fn")).FullName;
        const string Handler = "def handler(event, context):\n    return event\n";
        await File.WriteAllTextAsync(Path.Combine(function, "handler.py"), Handler);
        Directory.CreateDirectory(Path.Combine(function, "lib"));
        await File.WriteAllTextAsync(Path.Combine(function, "lib", "util.py"), "X = 1\n");
        var disk = dir.Combine("code.erofs");
        var launch = new GuestLaunch(["python3", "-m", "nexus_runtime"], new Dictionary<string, string> { ["_HANDLER"] = "handler.handler", ["A"] = "x=y z" });

        await GuestDisks.BuildCodeDriveAsync(function, launch, disk, CancellationToken.None);

        Assert.Contains($"Size: {Handler.Length}  ", await DumpAsync(disk, "/task/handler.py"), StringComparison.Ordinal);
        Assert.Contains("regular file", await DumpAsync(disk, "/task/lib/util.py"), StringComparison.Ordinal);
        Assert.Contains($"Size: {"python3\0-m\0nexus_runtime\0".Length}  ", await DumpAsync(disk, "/argv"), StringComparison.Ordinal);
        Assert.Contains($"Size: {"A=x=y z\0_HANDLER=handler.handler\0".Length}  ", await DumpAsync(disk, "/environ"), StringComparison.Ordinal);
        Assert.False(Directory.Exists(disk + ".staging"));
        var missing = await Assert.ThrowsAsync<ImageBuildException>(() => GuestDisks.BuildCodeDriveAsync(dir.Combine("absent"), launch, disk, CancellationToken.None));
        Assert.Contains("does not exist", missing.Message, StringComparison.Ordinal);
        var nul = new GuestLaunch(["python3"], new Dictionary<string, string> { ["A"] = "a\0b" });
        await Assert.ThrowsAsync<ArgumentException>(() => GuestDisks.BuildCodeDriveAsync(function, nul, disk, CancellationToken.None));
    }

    private static async Task<string> DumpAsync(string disk, string path)
    {
        var (exitCode, output) = await Run.ProgramAsync("dump.erofs", [$"--path={path}", disk]);
        Assert.True(exitCode == 0, $"dump.erofs --path={path}: {output}");
        return output;
    }
}
