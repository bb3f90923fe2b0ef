// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Text.Json;

namespace Nexus.Sandbox.Oci;

/// <summary>
/// Builds an instance's config.json. Everything that does not depend on the instance (masked paths,
/// capabilities, seccomp, the fixed mounts) is built once per driver; per start only the process, the
/// limits, the extra mounts and the namespaces are filled in.
/// </summary>
public sealed class OciConfigBuilder
{
    /// <summary>runc's default spec (runc spec, 1.1): masked from /proc and /sys.</summary>
    public static IReadOnlyList<string> MaskedPaths { get; } =
    [
        "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
        "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
    ];

    /// <summary>runc's default spec: read-only parts of /proc.</summary>
    public static IReadOnlyList<string> ReadonlyPaths { get; } =
    [
        "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
    ];

    private const string DefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    private static readonly OciCapabilities s_noCapabilities = new([], [], [], [], []);

    // A fork template's one capability: its instances chroot into their own roots (Template/InstanceRoots.cs). Ambient,
    // so that it survives the exec of the runtime as the unprivileged uid; the instances drop it before any handler.
    private static readonly IReadOnlyList<string> s_chroot = ["CAP_SYS_CHROOT"];
    private static readonly OciCapabilities s_templateCapabilities = new(s_chroot, s_chroot, s_chroot, s_chroot, s_chroot);
    private static readonly IReadOnlyList<OciDeviceRule> s_denyAllDevices = [new(false, "rwm")];

    private readonly OciDriverOptions _options;
    private readonly IReadOnlyList<OciMount> _fixedMounts;
    private readonly IReadOnlyList<OciRlimit> _rlimits;

    public OciConfigBuilder(OciDriverOptions options)
    {
        _options = options;
        _rlimits = [new("RLIMIT_NOFILE", options.OpenFilesLimit, options.OpenFilesLimit)];

        // As runc's default spec, minus the cgroup filesystem (sandboxes have no use for it).
        _fixedMounts =
        [
            new("/proc", "proc", "proc", ["nosuid", "noexec", "nodev"]),
            new("/dev", "tmpfs", "tmpfs", ["nosuid", "strictatime", "mode=755", "size=65536k"]),
            new("/dev/pts", "devpts", "devpts", ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]),
            new("/dev/shm", "tmpfs", "shm", ["nosuid", "noexec", "nodev", "mode=1777", $"size={options.ShmMb}m"]),
            new("/dev/mqueue", "mqueue", "mqueue", ["nosuid", "noexec", "nodev"]),
            new("/sys", "sysfs", "sysfs", ["nosuid", "noexec", "nodev", "ro"]),
        ];
    }

    /// <summary>The instance's cgroup path as given to the runtime.</summary>
    public string CgroupsPath(string instanceId) => $"/{_options.CgroupParent}/{instanceId}";

    /// <summary>Builds the config of one instance; <paramref name="netnsPath"/> joins that namespace, null creates a fresh one (loopback only).</summary>
    public OciConfig Build(SandboxSpec spec, string? netnsPath)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var env = new List<string>(spec.Environment.Count + 1);
        var hasPath = false;
        foreach (var (name, value) in spec.Environment)
        {
            env.Add(name + "=" + value);
            hasPath |= name == "PATH";
        }

        if (!hasPath)
        {
            env.Add(DefaultPath);
        }

        var mounts = new List<OciMount>(_fixedMounts.Count + 1 + spec.ReadOnlyMounts.Count);
        mounts.AddRange(_fixedMounts);
        var tmpSize = "size=" + spec.TmpMb.ToString(CultureInfo.InvariantCulture) + "m";
        mounts.Add(new("/tmp", "tmpfs", "tmpfs", _options.TmpHugePages ? ["nosuid", "nodev", "mode=1777", tmpSize, "huge=within_size"] : ["nosuid", "nodev", "mode=1777", tmpSize]));
        foreach (var (hostPath, sandboxPath) in spec.ReadOnlyMounts.OrderBy(m => m.Value, StringComparer.Ordinal))
        {
            mounts.Add(new(sandboxPath, "bind", hostPath, ["bind", "ro", "nosuid", "nodev"]));
        }

        if (spec.ForksInstanceRoots)
        {
            // Only folders (mount points) live here, made by the node, which also makes it 0711 (runc gives a tmpfs the
            // mode of the folder it covers).
            mounts.Add(new(SandboxSpec.InstanceRootsPath, "tmpfs", "tmpfs", ["nosuid", "nodev", "noexec", "size=64k"]));
        }

        var memoryBytes = (long)spec.MemoryMb * 1024 * 1024;
        var quota = (long)Math.Round(spec.Cpus * _options.CpuPeriodMicroseconds);
        var resources = new OciResources(
            s_denyAllDevices,
            new OciMemory(memoryBytes, memoryBytes, DisableOomKiller: true),
            new OciCpu((ulong)CgroupV1.SharesFor(spec.Cpus), quota, _options.CpuPeriodMicroseconds),
            new OciPids(_options.PidsLimit));

        return new OciConfig(
            "1.0.2",
            new OciProcess(false, new OciUser(_options.Uid, _options.Gid), spec.Command, env, spec.WorkingDirectory, spec.ForksInstanceRoots ? s_templateCapabilities : s_noCapabilities, _rlimits, NoNewPrivileges: true),
            new OciRoot(spec.RootfsPath, Readonly: true),
            "nexus",
            mounts,
            new OciLinux(
                resources,
                CgroupsPath(spec.InstanceId),
                [new("pid"), new("ipc"), new("uts"), new("mount"), new("network", netnsPath)],
                MaskedPaths,
                ReadonlyPaths,
                spec.ForksInstanceRoots ? SeccompProfile.OciWithChroot : SeccompProfile.Oci));
    }

    /// <summary>config.json bytes (UTF-8).</summary>
    public static byte[] Serialize(OciConfig config) => JsonSerializer.SerializeToUtf8Bytes(config, OciJsonContext.Default.OciConfig);
}
