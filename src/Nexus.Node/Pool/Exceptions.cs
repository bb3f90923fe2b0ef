// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Node.Pool;

/// <summary>No instance became free for an invocation within its timeout: the function is at its concurrency limit.</summary>
public sealed class ThrottledException : Exception
{
    public ThrottledException()
    {
    }

    public ThrottledException(string message)
        : base(message)
    {
    }

    public ThrottledException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
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
