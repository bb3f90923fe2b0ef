// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text.Json.Serialization;

namespace Nexus.Sandbox.Oci;

// The parts of the OCI runtime spec (config.json, v1.0.2) that Nexus uses, named as in the spec:
// https://github.com/opencontainers/runtime-spec/blob/v1.0.2/config.md and config-linux.md.
// Null members are omitted from the JSON.

public sealed record OciConfig(
    string OciVersion,
    OciProcess Process,
    OciRoot Root,
    string Hostname,
    IReadOnlyList<OciMount> Mounts,
    OciLinux Linux);

public sealed record OciProcess(
    bool Terminal,
    OciUser User,
    IReadOnlyList<string> Args,
    IReadOnlyList<string> Env,
    string Cwd,
    OciCapabilities Capabilities,
    IReadOnlyList<OciRlimit> Rlimits,
    bool NoNewPrivileges);

public sealed record OciUser(uint Uid, uint Gid);

/// <summary>Every set empty: the sandbox's processes hold no capability at all, even as uid 0.</summary>
public sealed record OciCapabilities(
    IReadOnlyList<string> Bounding,
    IReadOnlyList<string> Effective,
    IReadOnlyList<string> Inheritable,
    IReadOnlyList<string> Permitted,
    IReadOnlyList<string> Ambient);

public sealed record OciRlimit(string Type, ulong Hard, ulong Soft);

public sealed record OciRoot(string Path, bool Readonly);

public sealed record OciMount(string Destination, string Type, string Source, IReadOnlyList<string> Options);

public sealed record OciLinux(
    OciResources Resources,
    string CgroupsPath,
    IReadOnlyList<OciNamespace> Namespaces,
    IReadOnlyList<string> MaskedPaths,
    IReadOnlyList<string> ReadonlyPaths,
    OciSeccomp Seccomp);

public sealed record OciResources(
    IReadOnlyList<OciDeviceRule> Devices,
    OciMemory Memory,
    OciCpu Cpu,
    OciPids Pids);

public sealed record OciDeviceRule(bool Allow, string Access);

/// <summary>
/// cgroup v1: <c>swap</c> is the memory+swap limit, so swap = limit means no swap; <c>disableOOMKiller</c> leaves a
/// task at the limit waiting for the node's kill (<see cref="OomWatcher"/>) instead of the kernel's.
/// </summary>
public sealed record OciMemory(long Limit, long Swap, [property: JsonPropertyName("disableOOMKiller")] bool DisableOomKiller);

/// <summary>runc writes <c>shares</c> to cpu.shares, <c>quota</c>/<c>period</c> to the CFS pair.</summary>
public sealed record OciCpu(ulong Shares, long Quota, ulong Period);

public sealed record OciPids(long Limit);

/// <summary>A namespace; <c>path</c> joins an existing one (the instance's netns), null creates a fresh one.</summary>
public sealed record OciNamespace(string Type, string? Path = null);

public sealed record OciSeccomp(
    string DefaultAction,
    uint DefaultErrnoRet,
    IReadOnlyList<string> Architectures,
    IReadOnlyList<OciSyscallRule> Syscalls);

public sealed record OciSyscallRule(
    IReadOnlyList<string> Names,
    string Action,
    uint? ErrnoRet = null,
    IReadOnlyList<OciSyscallArg>? Args = null);

public sealed record OciSyscallArg(uint Index, ulong Value, string Op);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(OciConfig))]
internal sealed partial class OciJsonContext : JsonSerializerContext;
