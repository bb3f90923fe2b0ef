// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Sandbox.Oci;

namespace Nexus.Sandbox.Tests;

/// <summary>
/// The peak-memory read keeps its descriptor open across invocations: each read must still see the file's current
/// value (cgroupfs regenerates it at offset 0; a plain file stands in for it here), and nothing once disposed.
/// </summary>
public sealed class CgroupReadTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("nexus-cgroup-").FullName;

    [Fact]
    public void The_peak_read_through_a_kept_descriptor_follows_the_file_and_stops_when_disposed()
    {
        var dir = Directory.CreateDirectory(Path.Combine(_root, "memory", "nexus", "i1")).FullName;
        var file = Path.Combine(dir, "memory.max_usage_in_bytes");
        File.WriteAllText(file, "4096\n");
        var cgroup = new CgroupV1(_root, "/nexus/i1");
        Assert.Equal(4096, cgroup.MemoryPeak());

        File.WriteAllText(file, "123456789\n");
        Assert.Equal(123456789, cgroup.MemoryPeak());

        cgroup.Dispose();
        Assert.Equal(0, cgroup.MemoryPeak());
    }

    [Fact]
    public void A_missing_cgroup_reads_as_zero()
    {
        using var cgroup = new CgroupV1(_root, "/nexus/gone");
        Assert.Equal(0, cgroup.MemoryPeak());
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
