// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using System.Globalization;
using Nexus.Sandbox.Oci;
using Nexus.Testing;

namespace Nexus.Sandbox.Tests;

/// <summary>
/// The node's own cpu cgroup (<see cref="NodeCpuGroup"/>, docs/node.md#cpu), entered by this test process under a name of
/// its own. Root and cgroups: run under the integration lock.
/// </summary>
public sealed class NodeCpuGroupTests : IDisposable
{
    private const string CgroupRoot = "/sys/fs/cgroup";
    private readonly string _name = "nexus-node-test-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);

    private string Directory => Path.Combine(CgroupRoot, "cpu", _name);

    public void Dispose()
    {
        if (System.IO.Directory.Exists(Directory))
        {
            System.IO.Directory.Delete(Directory);
        }
    }

    /// <summary>
    /// Every thread of the process moves, the ones that existed before as well as children started after; the memory
    /// cgroup stays (the node's memory accounting must not change); a child handed back returns to where the process was;
    /// a second holder (a second node of the process) keeps the process in when the first leaves; the last one out takes
    /// the process back and removes the group.
    /// </summary>
    [RootFact(runc: false)]
    public void Every_thread_and_later_child_runs_in_the_group_at_its_weight_until_the_last_holder_leaves()
    {
        var origin = NodeCpuGroup.OwnCpuCgroup();
        var memory = MemoryCgroup("/proc/self/cgroup");
        using var release = new ManualResetEventSlim();
        var earlier = new Thread(release.Wait) { IsBackground = true };
        earlier.Start();
        try
        {
            var first = NodeCpuGroup.Enter(CgroupRoot, _name, 10_240);
            Assert.Equal("10240", File.ReadAllText(Path.Combine(Directory, "cpu.shares")).Trim());
            Assert.All(ThreadCpuCgroups(), c => Assert.Equal("/" + _name, c));
            Assert.Equal(memory, MemoryCgroup("/proc/self/cgroup"));

            using (var child = Process.Start("sleep", "30"))
            {
                try
                {
                    Assert.Equal("/" + _name, NodeCpuGroup.CpuCgroupOf($"/proc/{child.Id}/cgroup"));
                    NodeCpuGroup.ReturnToOrigin(child.Id);
                    Assert.Equal(origin, NodeCpuGroup.CpuCgroupOf($"/proc/{child.Id}/cgroup"));
                }
                finally
                {
                    child.Kill();
                    child.WaitForExit();
                }
            }

            var second = NodeCpuGroup.Enter(CgroupRoot, _name, 10_240);
            first.Dispose();
            Assert.All(ThreadCpuCgroups(), c => Assert.Equal("/" + _name, c));
            second.Dispose();
        }
        finally
        {
            release.Set();
        }

        Assert.All(ThreadCpuCgroups(), c => Assert.Equal(origin, c));
        Assert.False(System.IO.Directory.Exists(Directory), "the group was left behind");
    }

    /// <summary>
    /// A node killed inside its group leaves the directory (the kernel takes its threads out, not the directory) and its
    /// weight as it was; the next node start takes the group again and writes its weight anew.
    /// </summary>
    [RootFact(runc: false)]
    public void A_group_left_by_a_killed_node_is_taken_again_with_its_weight_written_anew()
    {
        System.IO.Directory.CreateDirectory(Directory);
        using (var killed = Process.Start("sh", ["-c", $"echo $$ > {Directory}/cgroup.procs && exec sleep 60"]))
        {
            var until = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (NodeCpuGroup.CpuCgroupOf($"/proc/{killed.Id}/cgroup") != "/" + _name && DateTime.UtcNow < until)
            {
                Thread.Sleep(10);
            }

            killed.Kill();
            killed.WaitForExit();
        }

        File.WriteAllText(Path.Combine(Directory, "cpu.shares"), "2");

        using (var group = NodeCpuGroup.Enter(CgroupRoot, _name, 10_240))
        {
            Assert.Equal("10240", File.ReadAllText(Path.Combine(Directory, "cpu.shares")).Trim());
            Assert.All(ThreadCpuCgroups(), c => Assert.Equal("/" + _name, c));
        }

        Assert.False(System.IO.Directory.Exists(Directory), "the group was left behind");
    }

    private static List<string> ThreadCpuCgroups()
    {
        var cgroups = new List<string>();
        foreach (var task in System.IO.Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                cgroups.Add(NodeCpuGroup.CpuCgroupOf(Path.Combine(task, "cgroup")));
            }
            catch (IOException)
            {
                // The thread ended between the listing and the read.
            }
        }

        return cgroups;
    }

    private static string MemoryCgroup(string procCgroupFile) =>
        File.ReadAllLines(procCgroupFile).Single(l => l.Split(':', 3)[1].Split(',').Contains("memory"));
}
