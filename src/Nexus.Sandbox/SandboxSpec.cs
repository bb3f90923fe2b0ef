// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.InteropServices;

namespace Nexus.Sandbox;

/// <summary>The sandbox's network.</summary>
public enum SandboxNetwork
{
    /// <summary>Loopback only (nexus mode: all I/O goes over the channel).</summary>
    LoopbackOnly,

    /// <summary>Own network namespace with a veth pair to the host (baseline mode).</summary>
    Veth,
}

/// <summary>Everything a driver needs to start one instance.</summary>
public sealed record SandboxSpec
{
    /// <summary>Unique, short ([a-z0-9-], at most 40 chars): names the container, cgroup, netns.</summary>
    public required string InstanceId { get; init; }

    /// <summary>Which driver runs the instance ("oci", "microvm"); null: the node's default (<see cref="SandboxDriverSet"/>).</summary>
    public string? Driver { get; init; }

    /// <summary>The image's root filesystem, mounted read-only.</summary>
    public required string RootfsPath { get; init; }

    /// <summary>Host directories bind-mounted read-only into the sandbox: host path → sandbox path.</summary>
    public IReadOnlyDictionary<string, string> ReadOnlyMounts { get; init; } = new Dictionary<string, string>();

    /// <summary>argv of the sandbox's first process.</summary>
    public required IReadOnlyList<string> Command { get; init; }

    /// <summary>Working directory inside the sandbox.</summary>
    public string WorkingDirectory { get; init; } = "/";

    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>cgroup memory limit (also the swap limit: no swap).</summary>
    public int MemoryMb { get; init; } = 128;

    /// <summary>cgroup CPU quota in cores.</summary>
    public double Cpus { get; init; } = 1.0;

    /// <summary>Size of the tmpfs mounted at /tmp.</summary>
    public int TmpMb { get; init; } = 64;

    public SandboxNetwork Network { get; init; } = SandboxNetwork.LoopbackOnly;

    /// <summary>Descriptors passed into the sandbox as fd 3, 4, ... in this order (memfd, eventfds).</summary>
    public IReadOnlyList<SafeHandle> PassedFds { get; init; } = [];

    /// <summary>
    /// Instances with the same non-null key are alike except for <see cref="InstanceVariables"/>, <see cref="PassedFds"/>
    /// and <see cref="OnOutput"/>, so a driver may create them from one pre-initialized template. Null: start afresh.
    /// </summary>
    public string? TemplateKey { get; init; }

    /// <summary>
    /// This sandbox is a fork template whose instances each enter a root of their own (their own /tmp): it holds
    /// CAP_SYS_CHROOT and may call chroot (its forked instances drop both before the handler runs), and has a root-only
    /// tmpfs at <see cref="InstanceRootsPath"/> where the node builds those roots. Honoured by the oci driver.
    /// </summary>
    public bool ForksInstanceRoots { get; init; }

    /// <summary>Where a template's instance roots are built (a folder every Debian tree has, empty in the image).</summary>
    public const string InstanceRootsPath = "/mnt";

    /// <summary>Names of <see cref="Environment"/> entries that differ between instances of one template.</summary>
    public IReadOnlySet<string> InstanceVariables { get; init; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>Called with each line the sandbox writes to stdout (isError false) or stderr (true).</summary>
    public Action<string, bool>? OnOutput { get; init; }
}
