// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Bench.Density;
using Nexus.Interop;
using Nexus.Sandbox.Network;
using Nexus.Sandbox.Oci;

namespace Nexus.Bench.Soak;

/// <summary>What the node holds on the host at one moment: each figure is a resource an instance or a write takes and must give back.</summary>
public sealed record LeakSample(
    double Seconds, long Issued, long Completed, long Failed, int Instances,
    int Fds, int Memfds, int Cgroups, int Netns, int Veths, int NftRules, int SpoolFiles, int Threads, double PssMiB);

/// <summary>
/// Reads the host-side resources of a node running in this process: its open descriptors (and how many are memfds, the
/// channel regions), its threads and PSS, the instance cgroups (directories under the parent in every v1 controller),
/// the instance network namespaces and veth host ends, the rules of the sandbox firewall table, and the write-back
/// spool's files.
/// </summary>
public sealed class LeakProbe(OciDriverOptions driver, string spoolDirectory)
{
    private readonly string _nft = HostTool.Resolve(driver.NftPath, "nftables (apt-get install nftables) for the sandbox firewall");

    public async Task<LeakSample> ReadAsync(double seconds, long issued, long completed, long failed, int instances, CancellationToken cancellationToken)
    {
        var (fds, memfds) = CountDescriptors();
        return new LeakSample(
            seconds, issued, completed, failed, instances, fds, memfds, CountCgroups(), CountNetns(driver.Network), CountVeths(driver.Network),
            await CountFirewallRulesAsync(cancellationToken), CountFiles(spoolDirectory), CountEntries("/proc/self/task"),
            ResourceSampler.ReadOwnPssKiB() / 1024.0);
    }

    private static (int Fds, int Memfds) CountDescriptors()
    {
        int fds = 0, memfds = 0;
        foreach (var fd in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            fds++;
            try
            {
                if (new FileInfo(fd).LinkTarget?.StartsWith("/memfd:", StringComparison.Ordinal) == true)
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

    /// <summary>Instance and template cgroups: distinct names under the parent in any v1 controller (one left in a single controller counts).</summary>
    private int CountCgroups() =>
        CgroupV1.ControllerMounts(driver.CgroupRoot)
            .Select(controller => Path.Combine(controller, driver.CgroupParent))
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

    private static int CountFiles(string path) => Directory.Exists(path) ? Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Count() : 0;

    private static int CountEntries(string path) => Directory.EnumerateFileSystemEntries(path).Count();
}
