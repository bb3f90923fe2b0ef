// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Sandbox.Template;

/// <summary>Settings of the fork-template driver.</summary>
public sealed record TemplateDriverOptions
{
    /// <summary>Where the cgroup v1 hierarchies are mounted.</summary>
    public string CgroupRoot { get; init; } = "/sys/fs/cgroup";

    /// <summary>Prefix of every template's id (the node's instance prefix, so that the clean-up of leftovers finds templates too).</summary>
    public string InstancePrefix { get; init; } = "";

    /// <summary>The parent cgroup of every instance (the oci driver's, so that its clean-up covers forked instances too).</summary>
    public string CgroupParent { get; init; } = "nexus";

    /// <summary>A template that forked nothing for this long and has no live instance is stopped.</summary>
    public TimeSpan KeepAlive { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How long a template may take to load the runtime and the handler before it counts as failed: Lambda's init limit,
    /// as an instance started afresh gets. A revision whose template took longer starts its instances afresh for
    /// <see cref="KeepAlive"/>, where the node's init limit applies (so a slow init fails as in baseline mode, not after
    /// a template's wait and a container's).
    /// </summary>
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Each forked instance gets a /tmp of its own, as each Lambda execution environment has (a root of its own: see
    /// InstanceRoots): the template holds CAP_SYS_CHROOT for it. False: instances of one template share its /tmp.
    /// </summary>
    public bool PrivateTmp { get; init; } = true;

    /// <summary>Per-instance process limit (pids.max of its cgroup).</summary>
    public long PidsLimit { get; init; } = 512;

    /// <summary>CFS period for the CPU quota.</summary>
    public ulong CpuPeriodMicroseconds { get; init; } = 100_000;

    /// <summary>Where the driver reports template events (start, failure, fallback); default: standard error.</summary>
    public Action<string>? Log { get; init; }
}
