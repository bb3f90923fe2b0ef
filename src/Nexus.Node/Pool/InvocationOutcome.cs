// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Node.Transports;

namespace Nexus.Node.Pool;

/// <summary>What one invocation produced, and how. Outcome: success, error (handler error), timeout, oom, crashed, init_error.</summary>
public sealed record InvocationOutcome(InvocationResult Result, string Outcome, bool ColdStart, TimeSpan Duration, string InstanceId, byte[] LogTail)
{
    /// <summary>Where the invocation's stages were stamped (pool, transport, sandbox).</summary>
    public InvocationTimeline Timeline { get; init; } = new();

    /// <summary>Time in the sandbox (handler, its storage calls, the runtime); the rest of the wall time is the node's.</summary>
    public TimeSpan SandboxTime => Timeline.SandboxTime;
}

/// <summary>Instance counts of one function.</summary>
public sealed record FunctionPoolStatus(string Function, int Starting, int Idle, int Busy, int Waiting);
