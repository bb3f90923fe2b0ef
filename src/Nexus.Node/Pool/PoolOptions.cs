// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Node.Pool;

/// <summary>Limits and timings of the instance pool.</summary>
public sealed record PoolOptions
{
    /// <summary>Most instances one function may have (starting, idle or busy).</summary>
    public int MaxInstancesPerFunction { get; init; } = 16;

    /// <summary>Most instances the node holds in all; idle instances of other functions are evicted to make room.</summary>
    public int MaxInstancesPerNode { get; init; } = 64;

    /// <summary>An instance idle this long is stopped.</summary>
    public TimeSpan KeepAlive { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// An instance idle this long gives back the memory its transport holds for invocations (a channel's used response
    /// slots), once per idle spell, as its runtime gives back its heap (after runtime/nexus_runtime/heap.py's IDLE_SECONDS,
    /// 10 s, or IDLE_SECONDS_ON_HUGE_PAGES, 1 s, when malloc is on huge pages); zero never does. The next write faults the pages in again, so a call just after it pays for that.
    /// </summary>
    public TimeSpan IdleMemoryRelease { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Longest a new instance may take to import its handler and ask for work (Lambda's init limit is 10 s).</summary>
    public TimeSpan InitTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Instance ids start with this, so that the driver's leftover cleanup touches this node's instances only.</summary>
    public string InstanceIdPrefix { get; init; } = "nx";

    /// <summary>
    /// Wait before a new instance of a function starts once its last two instances in a row failed (crashed, ran out of
    /// memory, timed out, failed their init); it doubles with each further failure up to <see cref="MaxRestartBackoff"/>
    /// and is cleared by an invocation that ends normally. A tenant that makes its instances fail on purpose thus cannot
    /// keep the node busy starting and stopping sandboxes (their cost falls on every other function).
    /// </summary>
    public TimeSpan RestartBackoff { get; init; } = TimeSpan.FromMilliseconds(250);

    public TimeSpan MaxRestartBackoff { get; init; } = TimeSpan.FromSeconds(8);

    /// <summary>
    /// Memory that buys one CPU for a function whose manifest names no <c>cpus</c>: its instances get
    /// <c>memory / MemoryMbPerCpu</c> CPUs once ready (Lambda's model: 1,769 MB is one vCPU, 128 MB about 0.07), and a
    /// full CPU during their init (as Lambda's on-demand init). 0 gives every such instance one CPU.
    /// </summary>
    public int MemoryMbPerCpu { get; init; } = 1769;

    /// <summary>
    /// Least node CPU one warm invocation is charged on its function's invoke budget (<see cref="InvokeBudget"/>), even
    /// when its metered flow used less: the node's threads around the flow (the channel's reader, the log writer,
    /// the wake-ups between them and the sandbox) are not metered. 1 ms is Lambda's smallest billed duration.
    /// </summary>
    public TimeSpan MinInvocationCharge { get; init; } = TimeSpan.FromMilliseconds(1);

    /// <summary>
    /// EEVDF slice request of every thread of a ready instance, inherited by what it starts later (docs/node.md#cpu); 0
    /// leaves the kernel's default. Under the default (1.4 ms here) a throttled tenant picked to run keeps the core for
    /// its protected slice and then to the next 4 ms tick while a waking neighbour at the same request waits; at a short
    /// request for every sandbox the weights decide at once. Longer than the node threads' request, so that a waking
    /// node thread still ends a sandbox's slice at once.
    /// </summary>
    public long SandboxSliceNanoseconds { get; init; }

    /// <summary>Size of each sandbox's /tmp tmpfs.</summary>
    public int TmpMb { get; init; } = 64;
}
