// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;

namespace Nexus.Testing;

/// <summary>
/// A real tmpfs of a few pages mounted on a folder (root only), for a disk that fills: its writes fail with ENOSPC as a
/// full disk's do. Unmounted (lazily) when disposed.
/// </summary>
public sealed class SmallTmpfs : IDisposable
{
    private SmallTmpfs(string path) => Path = path;

    public string Path { get; }

    /// <summary>Mounts a tmpfs of <paramref name="size"/> (mount's notation: 64k, 4m) on <paramref name="path"/>, made if missing.</summary>
    public static SmallTmpfs Mount(string path, string size)
    {
        Directory.CreateDirectory(path);
        Run("mount", ["-t", "tmpfs", "-o", "size=" + size, "tmpfs", path]);
        return new SmallTmpfs(path);
    }

    public void Dispose() => Run("umount", ["-l", Path]);

    private static void Run(string tool, string[] arguments)
    {
        using var process = Process.Start(tool, arguments);
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{tool} {string.Join(' ', arguments)} exited with {process.ExitCode}");
        }
    }
}
