// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Text.RegularExpressions;
using Nexus.Interop;
using Nexus.Interop.FileSystem;

namespace Nexus.Sandbox.Microvm;

/// <summary>
/// A VMM ready to start in its jail: the command (executable first; the VMM's own arguments follow), its uid and the
/// chroot to remove afterwards. Its cgroups are the VM's (<see cref="VmCgroup"/>), which the command moves into first.
/// </summary>
public sealed record JailedVmm(int Uid, string Root, IReadOnlyList<string> Command);

/// <summary>
/// Runs each <c>nexus-vmm</c> the way Firecracker's jailer runs firecracker: in a chroot that holds only its own files
/// (the executable and the libraries its loader needs, the kernel or the snapshot, hard-linked so nothing is copied, and
/// its own /dev/kvm and /dev/net/tun nodes owned by it), in new mount and PID namespaces (it is PID 1 there, with a
/// /proc that shows only itself), in its own network namespace (the instance's netns in baseline mode, an empty one
/// otherwise), as an unprivileged uid/gid of its own with no supplementary groups and no capabilities, and in the VM's
/// cgroups (<see cref="VmCgroup"/>, which every VM has, jailed or not). The steps are util-linux's (<c>nsenter</c>,
/// <c>unshare</c>, which do the namespace, chroot and setuid system calls between fork and exec) behind a shell that
/// first moves itself into the cgroups, so the VMM never allocates, forks or runs outside them.
/// </summary>
public sealed partial class VmmJail
{
    private const string ExecutableName = "nexus-vmm";

    /// <summary>The loader's default directories (no ld.so.cache in a jail: these are where it looks).</summary>
    private static readonly string[] s_libraryDirectories = ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib"];

    private static int s_lastUid = -1;

    private readonly VmmJailOptions _options;
    private readonly string _executable;
    private readonly IReadOnlyList<string> _libraries;
    private readonly string _unshare;
    private readonly string _nsenter;
    private readonly string _shell;

    /// <summary>Checks the VMM is one self-contained executable (the NativeAOT build) and finds the libraries its loader opens.</summary>
    public VmmJail(VmmJailOptions options, IReadOnlyList<string> vmmCommand)
    {
        _options = options;
        if (vmmCommand.Count != 1 || !File.Exists(vmmCommand[0]))
        {
            throw new InvalidOperationException(
                $"a jailed VMM must be the NativeAOT nexus-vmm (one executable the chroot can hold), not '{string.Join(' ', vmmCommand)}': " +
                "run scripts/setup (it publishes it) or turn the jail off");
        }

        _executable = Path.GetFullPath(vmmCommand[0]);
        _unshare = HostTool.Resolve(options.UnsharePath, "util-linux (unshare) for the VMM jail");
        _nsenter = HostTool.Resolve(options.NsenterPath, "util-linux (nsenter) for the VMM jail");
        _shell = HostTool.Resolve(options.ShellPath, "a POSIX shell for the VMM jail");
        var ldd = HostTool.Resolve(options.LddPath, "ldd (libc-bin) for the VMM jail");
        var opened = options.RuntimeLibraries.Select(FindLibrary).ToList();
        _libraries = [.. opened.Concat(new[] { _executable }.Concat(opened).SelectMany(file => Dependencies(ldd, file))).Distinct(StringComparer.Ordinal)];
    }

    /// <summary>The libraries (absolute paths, as the loader looks them up) every jail holds.</summary>
    public IReadOnlyList<string> Libraries => _libraries;

    /// <summary>
    /// Builds the chroot in <paramref name="instanceFolder"/>/root with <paramref name="files"/> (path in the jail → host
    /// file); the returned command moves itself into <paramref name="cgroup"/> and runs the VMM jailed, in
    /// <paramref name="netnsPath"/> when given.
    /// </summary>
    public JailedVmm Prepare(string instanceFolder, VmCgroup cgroup, IReadOnlyDictionary<string, string> files, bool tun, string? netnsPath)
    {
        ArgumentNullException.ThrowIfNull(cgroup);
        var uid = _options.UidBase + (int)((uint)Interlocked.Increment(ref s_lastUid) % (uint)_options.UidCount);
        var root = Path.Combine(instanceFolder, "root");
        Directory.CreateDirectory(Path.Combine(root, "proc"));
        Place(root, "/" + ExecutableName, _executable);
        foreach (var library in _libraries)
        {
            Place(root, library, library);
        }

        foreach (var (jailPath, hostPath) in files)
        {
            Place(root, jailPath, hostPath);
        }

        Directory.CreateDirectory(Path.Combine(root, "dev", "net"));
        MakeDevice(Path.Combine(root, "dev", "kvm"), 10, 232, uid);
        if (tun)
        {
            MakeDevice(Path.Combine(root, "dev", "net", "tun"), 10, 200, uid);
        }

        var id = uid.ToString(CultureInfo.InvariantCulture);
        List<string> command = [_shell, "-c", "for c in \"$0\" \"$1\" \"$2\"; do echo 0 > \"$c/cgroup.procs\" || exit 125; done; shift 2; exec \"$@\"", .. cgroup.Directories];
        if (netnsPath is not null)
        {
            command.AddRange([_nsenter, "--net=" + netnsPath, "--"]);
        }

        command.AddRange([_unshare, "--mount", "--pid", "--fork", "--kill-child", "--propagation", "private"]);
        if (netnsPath is null)
        {
            command.Add("--net");
        }

        command.AddRange(["--root=" + root, "--mount-proc=/proc", "--setgid", id, "--setuid", id, "--", "/" + ExecutableName]);
        return new JailedVmm(uid, root, command);
    }

    private static string FindLibrary(string name) =>
        s_libraryDirectories.Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists)
            ?? throw new FileNotFoundException($"the VMM opens {name} at run time, but it is in none of {string.Join(", ", s_libraryDirectories)}");

    /// <summary>What the loader maps for <paramref name="file"/> (ldd's paths), the loader itself included.</summary>
    private static IEnumerable<string> Dependencies(string ldd, string file)
    {
        var result = HostTool.RunAsync(ldd, [file]).GetAwaiter().GetResult();
        return result.Succeeded
            ? LoaderPath().Matches(result.StandardOutput).Select(m => m.Groups[1].Value)
            : throw new InvalidOperationException($"ldd {file} failed: {result.StandardError.Trim()}");
    }

    /// <summary>Puts <paramref name="hostPath"/> at <paramref name="jailPath"/> in the chroot: a hard link (a copy across file systems).</summary>
    private static void Place(string root, string jailPath, string hostPath)
    {
        var target = Path.Combine(root, jailPath.TrimStart('/'));
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var source = new FileInfo(hostPath).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? hostPath;
        if (!HardLink.TryCreate(source, target))
        {
            File.Copy(source, target);
        }
    }

    private static void MakeDevice(string path, uint major, uint minor, int uid)
    {
        DeviceNodes.CreateCharacterDevice(path, major, minor, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        DeviceNodes.SetOwner(path, uid, uid);
    }

    // ldd lines: "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" and the loader itself, "/lib64/ld-linux-x86-64.so.2 (0x...)".
    [GeneratedRegex(@"(?:=> |^\s*)(/\S+) \(0x", RegexOptions.Multiline)]
    private static partial Regex LoaderPath();
}
