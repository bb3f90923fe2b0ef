// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Text.RegularExpressions;
using Nexus.Interop;
using Nexus.Interop.FileSystem;
using Nexus.Sandbox.Oci;

namespace Nexus.Sandbox.Microvm;

/// <summary>
/// A VMM ready to start in its jail: the command (executable first; the VMM's own arguments follow) and what to remove
/// afterwards: the chroot and the VM's cgroups (memory, pids, cpu; <see cref="CgroupDirectory"/> is the memory one).
/// </summary>
public sealed record JailedVmm(int Uid, string Root, IReadOnlyList<string> CgroupDirectories, CgroupV1 Cgroup, IReadOnlyList<string> Command, double MaxCpus)
{
    /// <summary>The VM's memory cgroup (its limit, usage, OOM kills and processes).</summary>
    public string CgroupDirectory => CgroupDirectories[0];

    /// <summary>
    /// Sets the whole VM's CPU quota and weight (vCPU and VMM threads together) to <paramref name="cpus"/>, at most
    /// <see cref="MaxCpus"/> (what one vCPU and its VMM can use); throws when the cgroup is gone.
    /// </summary>
    public void SetCpuLimit(double cpus) => Cgroup.SetCpuLimit(Math.Min(cpus, MaxCpus));
}

/// <summary>
/// Runs each <c>nexus-vmm</c> the way Firecracker's jailer runs firecracker: in a chroot that holds only its own files
/// (the executable and the libraries its loader needs, the kernel or the snapshot, hard-linked so nothing is copied, and
/// its own /dev/kvm and /dev/net/tun nodes owned by it), in new mount and PID namespaces (it is PID 1 there, with a
/// /proc that shows only itself), in its own network namespace (the instance's netns in baseline mode, an empty one
/// otherwise), as an unprivileged uid/gid of its own with no supplementary groups and no capabilities, and in cgroups of
/// its own: memory (guest memory + Nexus region + <see cref="VmmJailOptions.OverheadBytes"/>), pids
/// (<see cref="VmmJailOptions.PidsMax"/> processes and threads) and cpu (a CFS quota and weight of the instance's CPUs, at
/// most <see cref="VmmJailOptions.CpuLimit"/>). The steps are util-linux's (<c>nsenter</c>, <c>unshare</c>, which do the namespace, chroot and setuid system
/// calls between fork and exec) behind a shell that first moves itself into the cgroups, so the VMM never allocates,
/// forks or runs outside them.
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

    /// <summary>The v1 hierarchies each VM gets a cgroup in; memory first (its processes are the VM's).</summary>
    private static readonly string[] s_controllers = ["memory", "pids", "cpu"];

    /// <summary>The memory cgroup directories of this node's VMs (made by <see cref="Prepare"/>).</summary>
    public string CgroupParentDirectory => Path.Combine(_options.CgroupRoot, "memory", _options.CgroupParent);

    /// <summary>The VM's cgroup directories (memory, pids, cpu), made or not.</summary>
    private string[] CgroupDirectoriesOf(string instanceId) =>
        [.. s_controllers.Select(c => Path.Combine(_options.CgroupRoot, c, _options.CgroupParent, instanceId))];

    /// <summary>
    /// Builds the chroot in <paramref name="instanceFolder"/>/root with <paramref name="files"/> (path in the jail → host
    /// file) and makes the VM's cgroup; the returned command runs the VMM jailed, in <paramref name="netnsPath"/> when given.
    /// The VM's CPU quota and weight are <paramref name="cpus"/>, at most <see cref="VmmJailOptions.CpuLimit"/>: the
    /// instance's CPUs (its init's; the pool lowers them to its share once ready, <see cref="JailedVmm.SetCpuLimit"/>).
    /// </summary>
    public JailedVmm Prepare(string instanceFolder, string instanceId, long guestBytes, double cpus, IReadOnlyDictionary<string, string> files, bool tun, string? netnsPath)
    {
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

        var cgroups = new CgroupV1(_options.CgroupRoot, _options.CgroupParent + "/" + instanceId);
        var directories = CgroupDirectoriesOf(instanceId);
        foreach (var directory in directories)
        {
            Directory.CreateDirectory(directory);
        }

        var (memory, pids, cpu) = (directories[0], directories[1], directories[2]);
        File.WriteAllText(Path.Combine(memory, "memory.limit_in_bytes"), (guestBytes + _options.OverheadBytes).ToString(CultureInfo.InvariantCulture));
        File.WriteAllText(Path.Combine(pids, "pids.max"), _options.PidsMax.ToString(CultureInfo.InvariantCulture));
        File.WriteAllText(Path.Combine(cpu, "cpu.cfs_period_us"), CpuPeriodMicroseconds.ToString(CultureInfo.InvariantCulture));
        var jailed = new JailedVmm(uid, root, directories, cgroups, [], _options.CpuLimit);
        jailed.SetCpuLimit(cpus);

        var id = uid.ToString(CultureInfo.InvariantCulture);
        List<string> command = [_shell, "-c", "for c in \"$0\" \"$1\" \"$2\"; do echo 0 > \"$c/cgroup.procs\" || exit 125; done; shift 2; exec \"$@\"", memory, pids, cpu];
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
        return jailed with { Command = command };
    }

    /// <summary>The CFS period every VM's cpu cgroup uses (the kernel's default, 100 ms).</summary>
    public const int CpuPeriodMicroseconds = 100_000;


    /// <summary>
    /// Removes a VM's cgroups once their processes are gone (a killed VMM leaves them a moment after its parent was
    /// reaped); false if one still had processes after <paramref name="patience"/>.
    /// </summary>
    public static async Task<bool> RemoveCgroupAsync(IEnumerable<string> cgroups, TimeSpan patience)
    {
        var deadline = DateTime.UtcNow + patience;
        foreach (var cgroup in cgroups)
        {
            while (Directory.Exists(cgroup))
            {
                try
                {
                    Directory.Delete(cgroup);
                }
                catch (IOException) when (DateTime.UtcNow < deadline)
                {
                    // EBUSY: a process is still leaving.
                    await Task.Delay(10);
                }
                catch (IOException)
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>
    /// Kills the jailed VMM of <paramref name="cgroup"/> (and with it its PID namespace): the processes whose parent is in
    /// the cgroup too, so not <c>unshare</c>, which then reaps it and ends with its status. Killing unshare first would
    /// reparent the VMM to the node (a child subreaper) as a zombie nobody reaps.
    /// </summary>
    public static void KillVmm(CgroupV1 cgroup)
    {
        var processes = cgroup.Processes();
        foreach (var pid in processes.Where(p => processes.Contains(ParentOf(p))))
        {
            Nexus.Interop.ChildProcess.Kill(pid, signal: 9);
        }
    }

    /// <summary>The cgroups of VMs whose ids start with <paramref name="prefix"/> (an earlier node's): VMMs killed, then whatever is left.</summary>
    public async Task RemoveLeftoverCgroupsAsync(string prefix)
    {
        if (!Directory.Exists(CgroupParentDirectory))
        {
            return;
        }

        // By the memory hierarchy (every jailed process is in it); the pids and cpu cgroups of the same name go with it.
        foreach (var directory in Directory.EnumerateDirectories(CgroupParentDirectory, prefix + "*"))
        {
            var id = Path.GetFileName(directory);
            var cgroup = new CgroupV1(_options.CgroupRoot, _options.CgroupParent + "/" + id);
            KillVmm(cgroup);
            if (!await RemoveCgroupAsync(CgroupDirectoriesOf(id), TimeSpan.FromSeconds(1)))
            {
                foreach (var pid in cgroup.Processes())
                {
                    Nexus.Interop.ChildProcess.Kill(pid, signal: 9);
                }

                await RemoveCgroupAsync(CgroupDirectoriesOf(id), TimeSpan.FromSeconds(5));
            }
        }
    }

    private static int ParentOf(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("PPid:", StringComparison.Ordinal));
            return line is null ? 0 : int.Parse(line.AsSpan(5).Trim(), CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return 0;
        }
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
