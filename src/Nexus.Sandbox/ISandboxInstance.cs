// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net;

namespace Nexus.Sandbox;

/// <summary>Why an instance's first process ended.</summary>
public sealed record SandboxExit(int? ExitCode, int? Signal, bool OutOfMemory);

/// <summary>Memory of an instance: cgroup usage plus PSS/USS summed over its processes (smaps_rollup).</summary>
public sealed record SandboxMemory(long CgroupBytes, long PssBytes, long UssBytes, long RssBytes);

/// <summary>
/// A running fork template at one reading: the key it serves (<see cref="SandboxSpec.TemplateKey"/>), how many of its
/// forked instances are alive, its own sandbox's id, memory and CPU time.
/// </summary>
public sealed record TemplateUsage(string Key, int LiveInstances, string SandboxId, SandboxMemory Memory, TimeSpan Cpu);

/// <summary>One running instance. Disposing stops it and removes everything it made on the host.</summary>
public interface ISandboxInstance : IAsyncDisposable
{
    string InstanceId { get; }

    /// <summary>The sandbox's own address when <see cref="SandboxNetwork.Veth"/>; null otherwise.</summary>
    IPAddress? Address { get; }

    /// <summary>Completes when the first process ends, with how it ended (OOM kill reported as such).</summary>
    Task<SandboxExit> Exited { get; }

    /// <summary>Host PID of the sandbox's first process (for measurement).</summary>
    int Pid { get; }

    /// <summary>
    /// Whether the sandbox's first process is stopped (SIGSTOP, a debugger's trace stop) or frozen (<c>runc pause</c>, a
    /// cgroup freezer): an instance that would sit on any invocation handed to it until its timeout. False when its state
    /// cannot be read.
    /// </summary>
    bool IsStopped() => ProcessFiles.IsStoppedOrFrozen(Pid);

    /// <summary>Reads current memory figures.</summary>
    SandboxMemory ReadMemory();

    /// <summary>
    /// Peak memory since start (what Lambda reports as "Max Memory Used"); cheap, unlike <see cref="ReadMemory"/>
    /// which walks every process's smaps.
    /// </summary>
    long ReadPeakMemoryBytes() => ReadMemory().CgroupBytes;

    /// <summary>Total CPU time the instance's cgroup has used.</summary>
    TimeSpan ReadCpuTime();

    /// <summary>
    /// Memory of the fork template this instance was forked from (docs/templates.md): the template's own share of the
    /// pages it shares with its instances, which <see cref="ReadMemory"/> leaves out; null for an instance that was not
    /// forked.
    /// </summary>
    SandboxMemory? ReadTemplateMemory() => null;

    /// <summary>
    /// Changes the instance's CPU limit (its cgroup's CFS quota) to <paramref name="cpus"/> while it runs; false when
    /// this kind of sandbox has no per-instance CPU limit to change.
    /// </summary>
    bool TrySetCpuLimit(double cpus) => false;

    /// <summary>
    /// Gives the instance's threads the EEVDF slice request <paramref name="nanoseconds"/>, inherited by what they start
    /// later; false when this kind of sandbox has no host threads of its own to set. (A microVM's are its VMM's: the
    /// request bounds how long its vCPU holds a host core from a waking neighbour, whatever the guest schedules inside.)
    /// </summary>
    bool TrySetSliceRequest(long nanoseconds) => false;

    /// <summary>
    /// Hands on to the spec's <see cref="SandboxSpec.OnOutput"/>, on the caller's thread, everything the sandbox wrote to
    /// its stdout and stderr before the call (a last line without its newline included), so that the node can log an
    /// invocation's output before its END line. The bytes are already on the host (in the output sockets), so this waits
    /// for nothing; it returns after <paramref name="limit"/> even if the sandbox keeps writing, so a sandbox that never
    /// stops cannot hold the invocation.
    /// </summary>
    void DrainOutput(TimeSpan limit);

    /// <summary>Kills the instance (SIGKILL) and removes its container, cgroup, namespace and links.</summary>
    Task StopAsync();
}
