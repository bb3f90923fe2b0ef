// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Sandbox.Microvm;

/// <summary>How the <c>microvm</c> driver jails each VMM process (<see cref="VmmJail"/>).</summary>
public sealed record VmmJailOptions
{
    /// <summary>First uid (and gid) of jailed VMMs; each VM gets its own, counted up from here.</summary>
    public int UidBase { get; init; } = 900_000;

    /// <summary>How many uids the jails cycle through (a uid is reused only after this many VMs).</summary>
    public int UidCount { get; init; } = 65_536;

    /// <summary>util-linux's unshare (mount, PID and network namespaces, chroot, uid/gid) and nsenter (joining a VM's netns).</summary>
    public string UnsharePath { get; init; } = "unshare";

    public string NsenterPath { get; init; } = "nsenter";

    /// <summary>The shell that puts the process into the VM's cgroups (<see cref="VmCgroup"/>) before it execs nsenter/unshare.</summary>
    public string ShellPath { get; init; } = "/bin/sh";

    /// <summary>
    /// Libraries the VMM opens at run time (dlopen; ldd does not list them), looked up in the loader's default directories
    /// and placed in every jail with their own dependencies: seccomp for the thread filters, OpenSSL for the snapshot
    /// file's SHA-256 (.NET's cryptography opens it).
    /// </summary>
    public IReadOnlyList<string> RuntimeLibraries { get; init; } = ["libseccomp.so.2", "libssl.so.3"];

    /// <summary>The dynamic linker's dependency lister, run once per driver on the VMM executable and <see cref="RuntimeLibraries"/>.</summary>
    public string LddPath { get; init; } = "ldd";
}
