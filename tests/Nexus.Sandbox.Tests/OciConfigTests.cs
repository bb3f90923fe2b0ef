// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text.Json;
using Nexus.Sandbox.Oci;

namespace Nexus.Sandbox.Tests;

public sealed class OciConfigTests
{
    private static readonly OciDriverOptions s_options = new();

    private static SandboxSpec Spec(SandboxNetwork network = SandboxNetwork.LoopbackOnly) => new()
    {
        InstanceId = "cfg-1",
        RootfsPath = "/srv/rootfs",
        Command = ["python3", "-m", "nexus_runtime"],
        WorkingDirectory = "/var/task",
        Environment = new Dictionary<string, string> { ["NEXUS_IO"] = "nexus", ["_HANDLER"] = "handler.handler" },
        ReadOnlyMounts = new Dictionary<string, string> { ["/var/lib/nexus/functions/f"] = "/var/task", ["/opt/rt"] = "/opt/nexus/runtime" },
        MemoryMb = 128,
        Cpus = 0.5,
        TmpMb = 32,
        Network = network,
    };

    private static JsonElement Json(SandboxSpec spec, string? netns = null)
    {
        var bytes = OciConfigBuilder.Serialize(new OciConfigBuilder(s_options).Build(spec, netns));
        return JsonDocument.Parse(bytes).RootElement.Clone();
    }

    [Fact]
    public void RootIsTheImageReadOnly()
    {
        var root = Json(Spec()).GetProperty("root");
        Assert.Equal("/srv/rootfs", root.GetProperty("path").GetString());
        Assert.True(root.GetProperty("readonly").GetBoolean());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TmpTakesHugePagesForLargeFilesOnlyWhereTheKernelHasThem(bool hugePages)
    {
        var spec = Spec();
        var config = new OciConfigBuilder(s_options with { TmpHugePages = hugePages }).Build(spec, null);
        var tmp = Assert.Single(config.Mounts, m => m.Destination == "/tmp");
        Assert.Equal(hugePages, tmp.Options.Contains("huge=within_size"));
        Assert.Contains("size=32m", tmp.Options);
    }

    [Fact]
    public void TmpIsASizedTmpfsAndBindMountsAreReadOnly()
    {
        var mounts = Json(Spec()).GetProperty("mounts").EnumerateArray().ToList();
        var tmp = Assert.Single(mounts, m => m.GetProperty("destination").GetString() == "/tmp");
        Assert.Equal("tmpfs", tmp.GetProperty("type").GetString());
        Assert.Contains("size=32m", tmp.GetProperty("options").EnumerateArray().Select(o => o.GetString()));

        var task = Assert.Single(mounts, m => m.GetProperty("destination").GetString() == "/var/task");
        Assert.Equal("/var/lib/nexus/functions/f", task.GetProperty("source").GetString());
        var options = task.GetProperty("options").EnumerateArray().Select(o => o.GetString()).ToList();
        Assert.Contains("ro", options);
        Assert.Contains("nosuid", options);
        Assert.Contains("nodev", options);

        var destinations = mounts.Select(m => m.GetProperty("destination").GetString()).ToList();
        foreach (var expected in new[] { "/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/opt/nexus/runtime" })
        {
            Assert.Contains(expected, destinations);
        }

        var sys = Assert.Single(mounts, m => m.GetProperty("destination").GetString() == "/sys");
        Assert.Contains("ro", sys.GetProperty("options").EnumerateArray().Select(o => o.GetString()));
    }

    [Fact]
    public void NamespacesAreOwnAndTheNetworkJoinsTheInstanceNetns()
    {
        var fresh = Json(Spec()).GetProperty("linux").GetProperty("namespaces").EnumerateArray().ToList();
        Assert.Equal(["pid", "ipc", "uts", "mount", "network"], fresh.Select(n => n.GetProperty("type").GetString()));
        Assert.All(fresh, n => Assert.False(n.TryGetProperty("path", out _)));

        var joined = Json(Spec(SandboxNetwork.Veth), "/run/netns/nexus-cfg-1").GetProperty("linux").GetProperty("namespaces").EnumerateArray();
        var net = Assert.Single(joined, n => n.GetProperty("type").GetString() == "network");
        Assert.Equal("/run/netns/nexus-cfg-1", net.GetProperty("path").GetString());
    }

    [Fact]
    public void LimitsFollowTheSpec()
    {
        var linux = Json(Spec()).GetProperty("linux");
        Assert.Equal("/nexus/cfg-1", linux.GetProperty("cgroupsPath").GetString());
        var resources = linux.GetProperty("resources");
        Assert.Equal(128L * 1024 * 1024, resources.GetProperty("memory").GetProperty("limit").GetInt64());
        Assert.Equal(128L * 1024 * 1024, resources.GetProperty("memory").GetProperty("swap").GetInt64());
        Assert.Equal(50_000, resources.GetProperty("cpu").GetProperty("quota").GetInt64());
        Assert.Equal(100_000, resources.GetProperty("cpu").GetProperty("period").GetInt64());
        Assert.Equal(512, resources.GetProperty("cpu").GetProperty("shares").GetInt64());
        Assert.Equal(s_options.PidsLimit, resources.GetProperty("pids").GetProperty("limit").GetInt64());
        var deny = Assert.Single(resources.GetProperty("devices").EnumerateArray());
        Assert.False(deny.GetProperty("allow").GetBoolean());
    }

    [Fact]
    public void ProcessHasNoCapabilitiesNoNewPrivilegesAndAnUnprivilegedUser()
    {
        var process = Json(Spec()).GetProperty("process");
        foreach (var set in new[] { "bounding", "effective", "inheritable", "permitted", "ambient" })
        {
            Assert.Empty(process.GetProperty("capabilities").GetProperty(set).EnumerateArray());
        }

        Assert.True(process.GetProperty("noNewPrivileges").GetBoolean());
        Assert.False(process.GetProperty("terminal").GetBoolean());
        Assert.Equal(65534u, process.GetProperty("user").GetProperty("uid").GetUInt32());
        Assert.Equal(["python3", "-m", "nexus_runtime"], process.GetProperty("args").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal("/var/task", process.GetProperty("cwd").GetString());
        var env = process.GetProperty("env").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Contains("NEXUS_IO=nexus", env);
        Assert.Contains(env, e => e!.StartsWith("PATH=", StringComparison.Ordinal));
        var nofile = Assert.Single(process.GetProperty("rlimits").EnumerateArray());
        Assert.Equal("RLIMIT_NOFILE", nofile.GetProperty("type").GetString());
        Assert.Equal("nexus", Json(Spec()).GetProperty("hostname").GetString());
    }

    /// <summary>
    /// A fork template gets exactly one capability, CAP_SYS_CHROOT (ambient, to outlive the exec as an unprivileged uid),
    /// the chroot syscall, and the root-only tmpfs its instances' roots are built on; an instance gets none of them.
    /// </summary>
    [Fact]
    public void OnlyAForkTemplateHoldsCapSysChrootMayChrootAndHasTheRootsTmpfs()
    {
        var template = Json(Spec() with { ForksInstanceRoots = true });
        foreach (var set in new[] { "bounding", "effective", "inheritable", "permitted", "ambient" })
        {
            Assert.Equal(["CAP_SYS_CHROOT"], template.GetProperty("process").GetProperty("capabilities").GetProperty(set).EnumerateArray().Select(c => c.GetString()));
        }

        Assert.True(template.GetProperty("process").GetProperty("noNewPrivileges").GetBoolean());
        Assert.Contains("chroot", AllowedUnconditionally(template));
        var roots = Assert.Single(template.GetProperty("mounts").EnumerateArray(), m => m.GetProperty("destination").GetString() == SandboxSpec.InstanceRootsPath);
        Assert.Equal("tmpfs", roots.GetProperty("type").GetString());
        Assert.Equal(["nosuid", "nodev", "noexec", "size=64k"], roots.GetProperty("options").EnumerateArray().Select(o => o.GetString()));

        var instance = Json(Spec());
        Assert.DoesNotContain("chroot", AllowedUnconditionally(instance));
        Assert.DoesNotContain(instance.GetProperty("mounts").EnumerateArray(), m => m.GetProperty("destination").GetString() == SandboxSpec.InstanceRootsPath);
    }

    private static HashSet<string?> AllowedUnconditionally(JsonElement config) =>
        config.GetProperty("linux").GetProperty("seccomp").GetProperty("syscalls").EnumerateArray()
            .Where(r => r.GetProperty("action").GetString() == "SCMP_ACT_ALLOW" && !r.TryGetProperty("args", out _))
            .SelectMany(Names).ToHashSet();

    [Fact]
    public void SeccompDeniesByDefaultAndAllowsTheDockerSet()
    {
        var seccomp = Json(Spec()).GetProperty("linux").GetProperty("seccomp");
        Assert.Equal("SCMP_ACT_ERRNO", seccomp.GetProperty("defaultAction").GetString());
        Assert.Equal(1u, seccomp.GetProperty("defaultErrnoRet").GetUInt32());
        var rules = seccomp.GetProperty("syscalls").EnumerateArray().ToList();
        var allowed = AllowedUnconditionally(Json(Spec()));
        foreach (var expected in new[] { "read", "write", "mmap", "execve", "futex", "epoll_wait", "eventfd2" })
        {
            Assert.Contains(expected, allowed);
        }

        foreach (var denied in new[] { "mount", "unshare", "setns", "chroot", "bpf", "keyctl", "add_key", "init_module", "reboot", "io_uring_setup", "clone", "socket" })
        {
            Assert.DoesNotContain(denied, allowed);
        }

        var clone = Assert.Single(rules, r => Names(r).SequenceEqual(["clone"]));
        var cloneArg = Assert.Single(clone.GetProperty("args").EnumerateArray());
        Assert.Equal("SCMP_CMP_MASKED_EQ", cloneArg.GetProperty("op").GetString());
        Assert.Equal(SeccompProfile.CloneNamespaceFlags, cloneArg.GetProperty("value").GetUInt64());
        Assert.Single(rules, r => Names(r).SequenceEqual(["socket"]));
        var clone3 = Assert.Single(rules, r => Names(r).SequenceEqual(["clone3"]));
        Assert.Equal("SCMP_ACT_ERRNO", clone3.GetProperty("action").GetString());
        Assert.Equal(38u, clone3.GetProperty("errnoRet").GetUInt32());
    }

    private static IEnumerable<string?> Names(JsonElement rule) => rule.GetProperty("names").EnumerateArray().Select(n => n.GetString());

    [Fact]
    public void MaskedAndReadonlyPathsAreRuncDefaults()
    {
        var linux = Json(Spec()).GetProperty("linux");
        var masked = linux.GetProperty("maskedPaths").EnumerateArray().Select(p => p.GetString()).ToList();
        Assert.Contains("/proc/kcore", masked);
        Assert.Contains("/sys/firmware", masked);
        Assert.Contains("/proc/sys", linux.GetProperty("readonlyPaths").EnumerateArray().Select(p => p.GetString()));
    }
}
