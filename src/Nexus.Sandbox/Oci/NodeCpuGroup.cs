// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;

namespace Nexus.Sandbox.Oci;

/// <summary>
/// The node process's own cgroup in the cgroup v1 cpu hierarchy, a sibling of the instances' parent (<c>/nexus</c>),
/// with a CPU weight (<c>cpu.shares</c>) above that parent's (docs/node.md#cpu). Why: where it starts (the root group,
/// inside its login session's autogroup) the node weighs 1024 against the whole instances' parent at 1024, so a
/// tenant's low weight orders it among the instances only, and a throttled tenant's runs of up to a scheduler tick delay
/// the node threads that serve every other function (docs/reliability.md, memory-hog).
/// <para>
/// Only the cpu controller moves: memory, pids and cpuacct stay where the node started, so the node's memory accounting
/// (its own PSS, the cgroup it was started in) does not change. Children inherit the group: the node's helpers (runc
/// before it joins the instance's cgroups, ip, nft) run at its weight; a child that runs tenant code without a cgroup
/// of its own (an unjailed VMM) must be handed back with <see cref="ReturnToOrigin"/>.
/// </para>
/// <para>
/// A cgroup holds processes, so the group is per process: nodes of one process share one entry, and the last one
/// disposed moves the process back where it was. Node processes share the directory; the last one out removes it.
/// A node killed leaves the directory (the kernel takes its threads out): the next start takes it again and writes the
/// weight anew.
/// </para>
/// </summary>
public sealed class NodeCpuGroup : IDisposable
{
    /// <summary>The group's name below the cpu hierarchy's root (next to the instances' <c>nexus</c>).</summary>
    public const string DefaultName = "nexus-node";

    /// <summary>The node's default CPU weight: ten busy tasks', against the instances' parent at the kernel's 1024.</summary>
    public const long DefaultShares = 10_240;

    private static readonly Lock s_lock = new();
    private static int s_holders;
    private static string? s_directory;
    private static string? s_origin;
    private int _disposed;

    private NodeCpuGroup(string directory, string origin, long shares)
    {
        Directory = directory;
        Origin = origin;
        Shares = shares;
    }

    /// <summary>The group's directory in the cpu hierarchy.</summary>
    public string Directory { get; }

    /// <summary>The cpu cgroup directory the process was in before it entered.</summary>
    public string Origin { get; }

    public long Shares { get; }

    /// <summary>
    /// Makes (or takes again) <paramref name="name"/> below <paramref name="cgroupRoot"/>/cpu, writes its weight and
    /// moves every thread of this process into it. Throws <see cref="IOException"/> or
    /// <see cref="UnauthorizedAccessException"/> when the host has no writable v1 cpu hierarchy, and
    /// <see cref="InvalidOperationException"/> when this process is already in another node group.
    /// </summary>
    public static NodeCpuGroup Enter(string cgroupRoot, string name, long shares)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shares, 2);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(shares, 262_144);
        var hierarchy = Path.Combine(cgroupRoot, "cpu");
        if (!File.Exists(Path.Combine(hierarchy, "cpu.shares")))
        {
            throw new IOException($"no cgroup v1 cpu hierarchy at {hierarchy}");
        }

        var directory = Path.Combine(hierarchy, name);
        lock (s_lock)
        {
            if (s_directory is not null && s_directory != directory)
            {
                throw new InvalidOperationException($"this process is already in the node group {s_directory}");
            }

            var origin = s_origin ?? Path.Combine(hierarchy, OwnCpuCgroup().TrimStart('/'));

            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    System.IO.Directory.CreateDirectory(directory);
                    File.WriteAllText(Path.Combine(directory, "cpu.shares"), shares.ToString(CultureInfo.InvariantCulture));
                    File.WriteAllText(Path.Combine(directory, "cgroup.procs"), Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
                    break;
                }
                catch (Exception e) when (e is DirectoryNotFoundException or FileNotFoundException && attempt < 5)
                {
                    // Removed under us by the last other node process leaving it: make it again.
                }
            }

            (s_directory, s_origin) = (directory, origin);
            s_holders++;
            return new NodeCpuGroup(directory, origin, shares);
        }
    }

    /// <summary>
    /// Moves a child process of the node back to the cpu cgroup the node started in, when the node is in its group
    /// (a no-op otherwise, or when the child is already gone).
    /// </summary>
    public static void ReturnToOrigin(int pid)
    {
        lock (s_lock)
        {
            if (s_origin is null)
            {
                return;
            }

            try
            {
                File.WriteAllText(Path.Combine(s_origin, "cgroup.procs"), pid.ToString(CultureInfo.InvariantCulture));
            }
            catch (IOException)
            {
                // ESRCH: it exited already.
            }
        }
    }

    /// <summary>This process's cpu cgroup path as /proc/self/cgroup names it ("/" for the root).</summary>
    public static string OwnCpuCgroup() => CpuCgroupOf("/proc/self/cgroup");

    /// <summary>The cpu cgroup path in a /proc/&lt;pid&gt;/cgroup or /proc/&lt;pid&gt;/task/&lt;tid&gt;/cgroup file.</summary>
    public static string CpuCgroupOf(string procCgroupFile)
    {
        foreach (var line in File.ReadAllLines(procCgroupFile))
        {
            // "4:cpu,cpuacct:/path": hierarchy id, its controllers, the path.
            var parts = line.Split(':', 3);
            if (parts.Length == 3 && parts[1].Split(',').Contains("cpu"))
            {
                return parts[2];
            }
        }

        throw new IOException($"{procCgroupFile} names no cgroup v1 cpu hierarchy");
    }

    /// <summary>The last holder of this process moves it back where it was and removes the group if no process is left in it.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        lock (s_lock)
        {
            if (--s_holders > 0)
            {
                return;
            }

            (s_directory, s_origin) = (null, null);
            try
            {
                File.WriteAllText(Path.Combine(Origin, "cgroup.procs"), Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
                System.IO.Directory.Delete(Directory);
            }
            catch (IOException)
            {
                // EBUSY: another node process (or a child of ours) is still in it; the last one out removes it.
            }
        }
    }
}
