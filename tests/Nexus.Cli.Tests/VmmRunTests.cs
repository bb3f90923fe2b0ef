// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.CommandLine;
using Nexus.Cli.Commands;
using Nexus.Testing;
using Nexus.Vmm.Builder;

namespace Nexus.Cli.Tests;

/// <summary>
/// <c>nexus vmm run</c>'s drives: a Linux guest boots by hand with its root and code drives only if they reach the
/// guest as /dev/vda, /dev/vdb, ... in the order typed, as <c>nexus-vmm</c> and the microvm driver attach them.
/// </summary>
public sealed class VmmRunTests
{
    [Fact]
    public void Drives_keep_the_order_typed_after_the_root_whatever_the_option()
    {
        var command = new RootCommand { VmmCommands.Create() };
        var parse = command.Parse(
            ["vmm", "run", "--kernel", "/k", "--drive-readonly", "/b", "--rootfs", "/r", "--rootfs-readonly", "--drive", "/c", "--drive-readonly=/d"]);
        Assert.Empty(parse.Errors);
        Assert.Equal(
            [new DriveConfig("/r", ReadOnly: true), new DriveConfig("/b", ReadOnly: true), new DriveConfig("/c"), new DriveConfig("/d", ReadOnly: true)],
            VmmCommands.DrivesInOrder(parse));
    }

    [Fact]
    public async Task A_missing_drive_is_named_before_anything_starts()
    {
        var missing = Path.Combine(Path.GetTempPath(), "nexus-no-such-drive-" + Guid.NewGuid().ToString("N"));
        var (exitCode, _, stderr) = await NexusCli.RunAsync(["vmm", "run", "--kernel", "/dev/null", "--drive-readonly", missing]);
        Assert.Equal(2, exitCode);
        Assert.Equal($"error: {missing}: no such disk image", stderr.Trim());
    }
}
