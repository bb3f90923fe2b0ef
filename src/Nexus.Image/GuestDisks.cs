// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Security.Cryptography;
using System.Text;

using Nexus.Interop;

namespace Nexus.Image;

/// <summary>
/// Read-only erofs disks for microVM guests: the guest root, made once from a function image and cached inside that
/// image's cache entry (so it is keyed by the image's content hash and pruned with it), and a function's code drive,
/// made per deploy. erofs rather than ext4 by measurement (docs/vmm.md, "Guest root"): built in a third of the time,
/// no size to guess beforehand, a little smaller, and read-only by design.
/// </summary>
public static class GuestDisks
{
    /// <summary>
    /// mkfs.erofs options: uncompressed (no decompression on the guest's CPU; the host's page cache shares one copy
    /// among VMs), per-file modification times kept (Python checks them against the .pyc files the image build
    /// compiled, and would otherwise try to recompile on a read-only root), owners and modes as in the image.
    /// </summary>
    private static readonly string[] s_mkfsOptions = ["--quiet", "--preserve-mtime"];

    /// <summary>The guest root's file name in an image entry; it names the recipe, so a new recipe makes a new file.</summary>
    public static string RootFileName { get; } =
        $"guest-root-{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join(' ', s_mkfsOptions))))[..12]}.erofs";

    /// <summary>Null when mkfs.erofs is there; else how to get it.</summary>
    public static string? MissingPrerequisite() =>
        HostTool.Find("mkfs.erofs") is null ? "mkfs.erofs is not installed: run `apt-get install erofs-utils` (scripts/setup installs it)" : null;

    /// <summary>
    /// The guest root disk of <paramref name="image"/> (built and cached on first use, under the image cache's lock;
    /// an interrupted build leaves only a .partial file that the next one replaces).
    /// </summary>
    public static async Task<string> EnsureRootAsync(FunctionImage image, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(image);
        var entry = Path.GetDirectoryName(image.RootfsPath)!;
        var disk = Path.Combine(entry, RootFileName);
        if (File.Exists(disk))
        {
            progress?.Report($"guest root {ImageBuilder.Short(image.ContentHash)} (cached)");
            return disk;
        }

        if (MissingPrerequisite() is { } missing)
        {
            throw new ImageBuildException(missing);
        }

        // <cache>/images/<hash>/rootfs: the lock is the image builder's, at the cache root.
        var cache = Path.GetDirectoryName(Path.GetDirectoryName(entry))!;
        using var cacheLock = await CacheLock.AcquireAsync(Path.Combine(cache, ImageBuilder.LockFileName), progress, cancellationToken);
        if (File.Exists(disk))
        {
            return disk;
        }

        progress?.Report($"guest root {ImageBuilder.Short(image.ContentHash)}: mkfs.erofs");
        var partial = disk + ".partial";
        File.Delete(partial);
        await BuildAsync(image.RootfsPath, partial, cancellationToken);
        File.Move(partial, disk);
        progress?.Report($"guest root {ImageBuilder.Short(image.ContentHash)}: ready at {disk}");
        return disk;
    }

    /// <summary>
    /// Builds the code drive of one deploy at <paramref name="diskPath"/>: an erofs image that nexus-init (guest/init)
    /// reads before it starts the runtime. Its root holds <c>task/</c> (<paramref name="functionDirectory"/>, mounted at
    /// /var/task), <c>argv</c> and <c>environ</c> (the runtime's command line and environment, NUL-separated).
    /// </summary>
    public static async Task BuildCodeDriveAsync(string functionDirectory, GuestLaunch launch, string diskPath, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(launch);
        if (!Directory.Exists(functionDirectory))
        {
            throw new ImageBuildException($"function folder {functionDirectory} does not exist");
        }

        if (MissingPrerequisite() is { } missing)
        {
            throw new ImageBuildException(missing);
        }

        var staging = diskPath + ".staging";
        await HostTools.RemoveTreeAsync(staging);
        Directory.CreateDirectory(staging);
        try
        {
            // cp -a: links stay links (never followed out of the folder), modes as the oci driver's bind mount shows them.
            await HostTools.RunCheckedAsync("cp", ["-a", "--", Path.GetFullPath(functionDirectory), Path.Combine(staging, "task")], cancellationToken);
            await File.WriteAllBytesAsync(Path.Combine(staging, "argv"), launch.ArgvBytes(), cancellationToken);
            await File.WriteAllBytesAsync(Path.Combine(staging, "environ"), launch.EnvironmentBytes(), cancellationToken);
            await BuildAsync(staging, diskPath, cancellationToken);
        }
        finally
        {
            await HostTools.RemoveTreeAsync(staging);
        }
    }

    private static async Task BuildAsync(string source, string disk, CancellationToken cancellationToken)
    {
        await HostTools.RunCheckedAsync("mkfs.erofs", [.. s_mkfsOptions, disk, source], cancellationToken);

        // Readable by any uid: a jailed VMM opens it as an unprivileged user.
        UnixModes.Set(disk, UnixModes.File);
    }
}
