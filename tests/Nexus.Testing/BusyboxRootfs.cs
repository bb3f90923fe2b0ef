// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;

namespace Nexus.Testing;

/// <summary>
/// A tiny root filesystem made at test time from Debian's busybox-static: /bin/busybox plus one symlink
/// per applet. Shared by the integration tests of one run; removed at the end.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class BusyboxRootfs : IDisposable
{
    public const string Busybox = "/bin/busybox";

    public BusyboxRootfs()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("nexus-sandbox-test-").FullName;
        Path = System.IO.Path.Combine(Directory, "rootfs");
        if (!File.Exists(Busybox))
        {
            // Tests using the rootfs are [RootFact]s; without busybox they fail with this reason.
            return;
        }

        var bin = System.IO.Path.Combine(Path, "bin");
        System.IO.Directory.CreateDirectory(bin);
        foreach (var dir in new[] { "proc", "dev", "sys", "tmp", "etc", "var/task" })
        {
            System.IO.Directory.CreateDirectory(System.IO.Path.Combine(Path, dir));
        }

        File.Copy(Busybox, System.IO.Path.Combine(bin, "busybox"));
        foreach (var applet in Applets())
        {
            var link = System.IO.Path.Combine(bin, applet);
            if (!File.Exists(link))
            {
                File.CreateSymbolicLink(link, "busybox");
            }
        }

        // The sandbox user (nobody) must be able to enter and read the tree; temp dirs start 0700.
        const UnixFileMode Open = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
        File.SetUnixFileMode(Directory, Open);
        foreach (var dir in System.IO.Directory.EnumerateDirectories(Path, "*", SearchOption.AllDirectories).Append(Path))
        {
            File.SetUnixFileMode(dir, Open);
        }

        // runc gives a tmpfs the mode of the directory it covers (not the mode= option): /tmp must be 1777, as in Debian.
        File.SetUnixFileMode(System.IO.Path.Combine(Path, "tmp"), Open | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite | UnixFileMode.StickyBit);
    }

    /// <summary>The temporary directory holding the rootfs (and anything else a test puts there).</summary>
    public string Directory { get; }

    /// <summary>The rootfs.</summary>
    public string Path { get; }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp dir is harmless.
        }
    }

    private static IEnumerable<string> Applets()
    {
        using var process = Process.Start(new ProcessStartInfo(Busybox, "--list") { RedirectStandardOutput = true })!;
        var list = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return list.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(a => !a.Contains('/', StringComparison.Ordinal));
    }
}
