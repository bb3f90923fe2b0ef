// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Image;

/// <summary>Makes the base rootfs: debootstrap, then trimmed and prepared for read-only sandboxes.</summary>
internal static class BaseRootfs
{
    /// <summary>What a function never needs; the folders stay (a normal Debian tree), their contents go.</summary>
    private static readonly string[] s_emptiedDirectories =
    [
        "usr/share/man", "usr/share/info", "usr/share/lintian", "usr/share/linda", "var/lib/apt/lists", "var/cache/apt",
    ];

    /// <summary>Written into the image so a later apt-get inside it stays as lean (dpkg's own mechanism).</summary>
    private const string DpkgExcludes = """
        # Nexus function image: no docs, man pages or translations (copyright files stay).
        path-exclude /usr/share/doc/*
        path-include /usr/share/doc/*/copyright
        path-exclude /usr/share/man/*
        path-exclude /usr/share/info/*
        path-exclude /usr/share/locale/*
        path-include /usr/share/locale/locale.alias
        path-exclude /usr/share/lintian/*

        """;

    // Sandboxes have no DNS: the node gives every service by address. Loopback only, so a lookup fails fast and leaks nothing.
    private const string Hosts = """
        127.0.0.1	localhost
        ::1	localhost ip6-localhost ip6-loopback

        """;

    private const string ResolvConf = """
        # Nexus sandboxes have no DNS; services are reached by address (see docs/image.md).
        nameserver 127.0.0.1
        options timeout:1 attempts:1

        """;

    /// <summary>Runs debootstrap into <paramref name="rootfs"/>, forwarding its "I:" phase lines.</summary>
    public static async Task DebootstrapAsync(string rootfs, string mirror, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        string[] arguments =
        [
            "--variant=" + ImageRecipe.Variant,
            "--include=" + string.Join(',', ImageRecipe.Packages),
            ImageRecipe.Suite,
            rootfs,
            mirror,
        ];
        progress?.Report($"debootstrap {ImageRecipe.Suite} from {mirror} (about a minute, ~500 MB)");
        var (exitCode, tail) = await HostTools.RunAsync("debootstrap", arguments, line =>
        {
            if (PhaseLine(line) is { } phase)
            {
                progress?.Report(phase);
            }
        }, cancellationToken);

        if (exitCode != 0)
        {
            var log = Path.Combine(rootfs, "debootstrap", "debootstrap.log");
            var logTail = File.Exists(log) ? string.Join('\n', File.ReadLines(log).TakeLast(15)) : "(no debootstrap.log)";
            throw new ImageBuildException(
                $"debootstrap {ImageRecipe.Suite} from {mirror} failed (exit {exitCode}); check the mirror (ImageOptions.Mirror) and the network.\n"
                + $"debootstrap output:\n{tail}\n{log}:\n{logTail}");
        }
    }

    /// <summary>
    /// What a debootstrap output line tells the user: its info and warning lines ("I: Retrieving ...", "I: Validating ...",
    /// "I: Unpacking ...", "I: Configuring ...", "W: ..."), without the tag; null for the rest (wget chatter, blank lines).
    /// </summary>
    internal static string? PhaseLine(string line) => line switch
    {
        _ when line.StartsWith("I: ", StringComparison.Ordinal) => line[3..].Trim(),
        _ when line.StartsWith("W: ", StringComparison.Ordinal) => "warning: " + line[3..].Trim(),
        _ => null,
    };

    /// <summary>Trims the tree and adds what read-only sandboxes need: mount points, hosts, resolv.conf.</summary>
    public static void Finish(string rootfs)
    {
        foreach (var relative in s_emptiedDirectories)
        {
            Tree.Delete(Path.Combine(rootfs, relative), _ => true, folders: true);
        }

        // Files only, folders stay: copyright notices, the locale alias table, log folders, the debconf database.
        Tree.Delete(Path.Combine(rootfs, "usr/share/doc"), name => name != "copyright", folders: false);
        Tree.Delete(Path.Combine(rootfs, "usr/share/locale"), name => name != "locale.alias", folders: false);
        Tree.Delete(Path.Combine(rootfs, "var/log"), _ => true, folders: false);
        Tree.Delete(Path.Combine(rootfs, "var/cache/debconf"), name => name.EndsWith("-old", StringComparison.Ordinal), folders: false);

        // apt and dpkg expect these to exist even when empty.
        Directory.CreateDirectory(Path.Combine(rootfs, "var/lib/apt/lists/partial"));
        Directory.CreateDirectory(Path.Combine(rootfs, "var/cache/apt/archives/partial"));

        WriteFile(rootfs, "etc/dpkg/dpkg.cfg.d/nexus-slim", DpkgExcludes);
        WriteFile(rootfs, "etc/hosts", Hosts);
        WriteFile(rootfs, "etc/resolv.conf", ResolvConf);
        WriteFile(rootfs, "etc/hostname", "nexus\n");

        // Mount points: the function folder (ro bind), tmpfs /tmp, and the runtime tree.
        foreach (var dir in new[] { "var/task", "opt/nexus" })
        {
            Directory.CreateDirectory(Path.Combine(rootfs, dir));
        }

        Directory.CreateDirectory(Path.Combine(rootfs, "tmp"));
        UnixModes.Set(Path.Combine(rootfs, "tmp"), UnixModes.StickyWorldWritable);
    }

    /// <summary>Writes a file, replacing a symlink rather than following it out of the tree (resolv.conf often is one).</summary>
    private static void WriteFile(string rootfs, string relative, string content)
    {
        var path = Path.Combine(rootfs, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (new FileInfo(path).LinkTarget is not null)
        {
            File.Delete(path);
        }

        File.WriteAllText(path, content);
        UnixModes.Set(path, UnixModes.File);
    }
}
