// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using Nexus.Bench.Density;
using Nexus.Interop;
using Nexus.Sandbox.Microvm;
using Nexus.Sandbox.Network;
using Nexus.Sandbox.Oci;

namespace Nexus.Bench.Soak;

/// <summary>
/// What the node holds on the host at one moment: each figure is a resource an instance or a write takes and must give
/// back. Beyond the node process: its descendant processes, zombies included (containers, VMMs and their jails'
/// parents, helpers), the live nexus-vmm processes among them, the microVM cgroups (distinct names under the microvm
/// driver's parent), the driver's instance run folders (each with the VM's jail, snapshot links and pid file), ready
/// snapshot folders (one per live nexus-mode revision, and any being made), the revisions' shared code drives (not the
/// images' root drives: the driver keeps those while it lives, so they are not given back when instances go), and
/// TUN/TAP devices in the host's network namespace (a VM's TAP belongs in its instance's netns).
/// </summary>
public sealed record LeakSample(
    double Seconds, long Issued, long Completed, long Failed, int Instances,
    int Fds, int Memfds, int Cgroups, int Netns, int Veths, int NftRules, int SpoolFiles, int Threads, double PssMiB,
    int Processes, int Vmms, int VmCgroups, int VmFolders, int Snapshots, int CodeDrives, int Taps);

/// <summary>
/// Reads the host-side resources of a node running in this process: its open descriptors but the assemblies it maps
/// (and how many are memfds, the channel regions), its threads and PSS, the instance cgroups (directories under the
/// parent in every v1 controller), the instance network namespaces and veth host ends, the rules of the sandbox
/// firewall table, and the write-back spool's files; and what the node's microVMs hold outside it: its child processes
/// (the VMMs among them), the VM cgroups, the microvm driver's run folders (instances with their jails, ready
/// snapshots, code drives) and TAPs in the host namespace.
/// </summary>
public sealed class LeakProbe(OciDriverOptions driver, MicrovmDriverOptions microvm, string spoolDirectory)
{
    private readonly string _nft = HostTool.Resolve(driver.NftPath, "nftables (apt-get install nftables) for the sandbox firewall");

    public async Task<LeakSample> ReadAsync(double seconds, long issued, long completed, long failed, int instances, CancellationToken cancellationToken)
    {
        var (fds, memfds) = CountDescriptors();

        // Before nft runs below: the probe's own child is not the node's.
        var (processes, vmms) = CountProcesses();
        return new LeakSample(
            seconds, issued, completed, failed, instances, fds, memfds, CountCgroups(driver.CgroupRoot, driver.CgroupParent), CountNetns(driver.Network), CountVeths(driver.Network),
            await CountFirewallRulesAsync(cancellationToken), CountFiles(spoolDirectory), CountEntries("/proc/self/task"),
            ResourceSampler.ReadOwnPssKiB() / 1024.0,
            processes, vmms, microvm.Cgroups is { } vm ? CountCgroups(vm.CgroupRoot, vm.CgroupParent) : 0,
            CountDirectories(Path.Combine(microvm.RunDirectory, "instances")), CountDirectories(Path.Combine(microvm.RunDirectory, "snapshots")),
            CountFiles(Path.Combine(microvm.RunDirectory, "drives"), microvm.InstancePrefix + "-code-*"), CountTaps());
    }

    /// <summary>
    /// The processes below this one (the node is a child subreaper, so whatever its children leave behind is reparented
    /// to it and still counts), and how many of them are VMMs.
    /// </summary>
    private static (int Processes, int Vmms) CountProcesses()
    {
        var parents = new Dictionary<int, int>();
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                && ParentPid(ReadOrEmpty(Path.Combine(entry, "stat"))) is { } parent)
            {
                parents[pid] = parent;
            }
        }

        var descendants = Descendants(parents, Environment.ProcessId);
        return (descendants.Count, descendants.Count(pid => IsVmm(ReadOrEmpty($"/proc/{pid}/cmdline").Split('\0'))));
    }

    /// <summary>The parent pid in the text of /proc/&lt;pid&gt;/stat (field 4, after the command name, which may hold spaces and parentheses); null when unreadable.</summary>
    public static int? ParentPid(string stat)
    {
        var close = stat.LastIndexOf(')');
        var fields = close < 0 ? [] : stat[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields.Length >= 2 && int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var parent) ? parent : null;
    }

    /// <summary>The pids whose chain of parents in <paramref name="parents"/> (pid → parent pid) reaches <paramref name="root"/>.</summary>
    public static IReadOnlyCollection<int> Descendants(IReadOnlyDictionary<int, int> parents, int root)
    {
        var children = parents.ToLookup(p => p.Value, p => p.Key);
        var found = new HashSet<int>();
        var pending = new Stack<int>(children[root]);
        while (pending.TryPop(out var pid))
        {
            if (pid != root && found.Add(pid))
            {
                foreach (var child in children[pid])
                {
                    pending.Push(child);
                }
            }
        }

        return found;
    }

    /// <summary>
    /// Whether a command line (/proc/&lt;pid&gt;/cmdline split at NULs) is a VMM's: the NativeAOT nexus-vmm (its path, or
    /// /nexus-vmm in a jail) or <c>dotnet nexus-vmm.dll</c>. Not its jail's parents (sh, nsenter, unshare), which name it
    /// further on; not a zombie (empty).
    /// </summary>
    public static bool IsVmm(IReadOnlyList<string> argv) =>
        (argv.Count > 0 && Path.GetFileName(argv[0]) == "nexus-vmm") || (argv.Count > 1 && Path.GetFileName(argv[1]) == "nexus-vmm.dll");

    private static string ReadOrEmpty(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The process ended meanwhile.
            return string.Empty;
        }
    }

    /// <summary>Open descriptors that can leak (not <see cref="IsAssembly"/>), and how many of them are memfds.</summary>
    private static (int Fds, int Memfds) CountDescriptors()
    {
        int fds = 0, memfds = 0;
        foreach (var fd in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            try
            {
                var target = new FileInfo(fd).LinkTarget;
                if (target is not null && IsAssembly(target))
                {
                    continue;
                }

                fds++;
                if (target?.StartsWith("/memfd:", StringComparison.Ordinal) == true)
                {
                    memfds++;
                }
            }
            catch (IOException)
            {
                // Closed between the listing and the read (the enumeration's own descriptor among them).
            }
        }

        return (fds, memfds);
    }

    /// <summary>
    /// Whether a descriptor's link target is a managed assembly: the runtime opens one on its first use and keeps it for
    /// the process's life (two descriptors each), so one first used late in a run (the XML or stack-trace assemblies
    /// when something is first parsed or formatted) is not a leak; a soak at 10 microVMs judged 10 such descriptors so.
    /// </summary>
    public static bool IsAssembly(string target) => target.StartsWith('/') && target.EndsWith(".dll", StringComparison.Ordinal);

    /// <summary>
    /// The node's open descriptors by kind: the link target with numbers taken out ("socket:[]", "anon_inode:[eventfd]",
    /// a path), so that what grew between two moments can be named.
    /// </summary>
    public static IReadOnlyDictionary<string, int> DescriptorKinds()
    {
        var kinds = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var fd in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            try
            {
                var target = new FileInfo(fd).LinkTarget ?? "?";
                var kind = target.StartsWith('/') ? target : new string([.. target.Where(c => !char.IsAsciiDigit(c))]);
                kinds[kind] = kinds.GetValueOrDefault(kind) + 1;
            }
            catch (IOException)
            {
                // Closed meanwhile.
            }
        }

        return kinds;
    }

    /// <summary>Instance, template or VM cgroups: distinct names under <paramref name="parent"/> in any v1 controller (one left in a single controller counts).</summary>
    private static int CountCgroups(string root, string parent) =>
        CgroupV1.ControllerMounts(root)
            .Select(controller => Path.Combine(controller, parent))
            .Where(Directory.Exists)
            .SelectMany(Directory.EnumerateDirectories)
            .Select(Path.GetFileName)
            .Distinct(StringComparer.Ordinal)
            .Count();

    private static int CountNetns(VethAddressPlan plan) =>
        Directory.Exists("/run/netns") ? Directory.EnumerateFileSystemEntries("/run/netns", plan.NetnsPrefix + "*").Count() : 0;

    private static int CountVeths(VethAddressPlan plan) => Directory.EnumerateFileSystemEntries("/sys/class/net", plan.HostLinkPrefix + "*").Count();

    /// <summary>Rules and set elements of the sandbox firewall table (0 when there is no table).</summary>
    private async Task<int> CountFirewallRulesAsync(CancellationToken cancellationToken)
    {
        var listing = await HostTool.RunAsync(_nft, ["list", "table", "inet", SandboxFirewall.TableName], cancellationToken: cancellationToken);
        if (!listing.Succeeded)
        {
            return 0;
        }

        return listing.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Count(line => line is not "}" && !line.StartsWith("table ", StringComparison.Ordinal) && !line.StartsWith("chain ", StringComparison.Ordinal)
                && !line.StartsWith("type ", StringComparison.Ordinal));
    }

    private static int CountFiles(string path, string pattern = "*") => Directory.Exists(path) ? Directory.EnumerateFiles(path, pattern, SearchOption.AllDirectories).Count() : 0;

    private static int CountDirectories(string path) => Directory.Exists(path) ? Directory.EnumerateDirectories(path).Count() : 0;

    /// <summary>Network devices of the host namespace that are TUN/TAP (they have tun_flags).</summary>
    private static int CountTaps() => Directory.EnumerateFileSystemEntries("/sys/class/net").Count(link => File.Exists(Path.Combine(link, "tun_flags")));

    private static int CountEntries(string path) => Directory.EnumerateFileSystemEntries(path).Count();
}
