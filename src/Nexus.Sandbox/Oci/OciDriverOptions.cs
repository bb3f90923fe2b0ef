// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Sandbox.Network;

namespace Nexus.Sandbox.Oci;

/// <summary>Settings of the <c>oci</c> driver; the defaults are the project's contract paths.</summary>
public sealed record OciDriverOptions
{
    /// <summary>The OCI runtime binary (runc CLI compatible): a name looked up on PATH, or an absolute path.</summary>
    public string RuntimePath { get; init; } = "runc";

    /// <summary>iproute2's <c>ip</c>: a name looked up on PATH, or an absolute path.</summary>
    public string IpPath { get; init; } = "ip";

    /// <summary>Runtime state root: bundles in <c>bundles/</c>, the runtime's own state (<c>--root</c>) in <c>runc/</c>.</summary>
    public string RunDirectory { get; init; } = "/run/nexus";

    /// <summary>Where the cgroup v1 controllers are mounted.</summary>
    public string CgroupRoot { get; init; } = "/sys/fs/cgroup";

    /// <summary>Parent cgroup of every instance: instance cgroups are <c>/&lt;parent&gt;/&lt;instanceId&gt;</c>.</summary>
    public string CgroupParent { get; init; } = "nexus";

    /// <summary>
    /// Only instances whose id starts with this are this node's: <see cref="ISandboxDriver.PrepareHostAsync"/>
    /// removes leftovers with this prefix only (empty: everything under the driver's own roots).
    /// </summary>
    public string InstancePrefix { get; init; } = "";

    /// <summary>How often the service link and the sandbox firewall are checked and put back when missing (<see cref="Network.BaselineHost"/>).</summary>
    public TimeSpan HostNetworkCheckInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>uid and gid of sandbox processes (no user namespace, so also on the host): nobody/nogroup.</summary>
    public uint Uid { get; init; } = 65534;

    public uint Gid { get; init; } = 65534;

    /// <summary>Most processes/threads one instance may have (pids cgroup).</summary>
    public long PidsLimit { get; init; } = 512;

    /// <summary>RLIMIT_NOFILE (soft = hard) inside the sandbox.</summary>
    public ulong OpenFilesLimit { get; init; } = 1024;

    /// <summary>Size of /dev/shm inside the sandbox (charged to the instance's memory cgroup).</summary>
    public int ShmMb { get; init; } = 64;

    /// <summary>
    /// Mount each sandbox's /tmp with <c>huge=within_size</c> (files of 2 MiB and more on transparent huge pages) where
    /// the kernel has shmem huge pages: freeing a filled /tmp is then ~30 huge pages instead of ~16,000 pages, a 0.2 ms
    /// kernel section instead of 3-5 ms that a non-preemptible host kernel would make a neighbour wait behind
    /// (docs/reliability.md, tmp-fill). Default: whether <see cref="ShmemHugePagesControl"/> exists.
    /// </summary>
    public bool TmpHugePages { get; init; } = File.Exists(ShmemHugePagesControl);

    /// <summary>The kernel's shmem huge-page setting, present when tmpfs accepts <c>huge=</c>.</summary>
    public const string ShmemHugePagesControl = "/sys/kernel/mm/transparent_hugepage/shmem_enabled";

    /// <summary>cgroup CPU period; the quota is <see cref="SandboxSpec.Cpus"/> times this.</summary>
    public ulong CpuPeriodMicroseconds { get; init; } = 100_000;

    /// <summary>Addresses of the baseline network (service address, /30 slots).</summary>
    public VethAddressPlan Network { get; init; } = VethAddressPlan.Default;

    /// <summary>nftables binary, for the sandbox firewall.</summary>
    public string NftPath { get; init; } = "nft";
}
