// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Node.Pool;

/// <summary>
/// The function or the node is at its concurrency limit: no instance was free for the invocation (at once, or within
/// its timeout for one that waits: <see cref="Transports.InvocationRequest.WaitsAtLimit"/>).
/// </summary>
public sealed class ThrottledException : Exception
{
    /// <summary>Lambda's <c>Reason</c> for a throttle at a function's own concurrency limit (its reserved concurrency there).</summary>
    public const string FunctionLimit = "ReservedFunctionConcurrentInvocationLimitExceeded";

    /// <summary>Lambda's <c>Reason</c> for a throttle at the account's concurrency limit: the node's here.</summary>
    public const string NodeLimit = "ConcurrentInvocationLimitExceeded";

    public ThrottledException()
    {
    }

    public ThrottledException(string message)
        : base(message)
    {
    }

    public ThrottledException(string message, string reason)
        : base(message)
    {
        Reason = reason;
    }

    public ThrottledException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Which limit was reached, as Lambda names it in a 429's <c>Reason</c>: <see cref="FunctionLimit"/> or <see cref="NodeLimit"/>.</summary>
    public string Reason { get; } = NodeLimit;
}

/// <summary>The node could not start a sandbox for the function (not the function's fault).</summary>
public sealed class SandboxStartException : Exception
{
    public SandboxStartException()
    {
    }

    public SandboxStartException(string message)
        : base(message)
    {
    }

    public SandboxStartException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
