// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Cli;

/// <summary>Exit codes of the <c>nexus</c> command (documented in docs/cli.md).</summary>
public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The function ran and returned an error (its error payload is printed), or a command failed.</summary>
    public const int Failed = 1;

    /// <summary>Bad arguments or input (a bad manifest, an unreadable payload file).</summary>
    public const int Usage = 2;

    /// <summary>The node is not running (or its API is unreachable).</summary>
    public const int NodeNotRunning = 3;

    /// <summary>No such function.</summary>
    public const int NotFound = 4;

    /// <summary>The node could not start, or a prerequisite (root, debootstrap, runc) is missing.</summary>
    public const int StartFailed = 5;

    /// <summary>Stopped by Ctrl+C or SIGTERM after cleaning up (128 + SIGINT, as shells report it).</summary>
    public const int Interrupted = 130;
}

/// <summary>A failure with a message for the user and the exit code it maps to.</summary>
public sealed class CliException : Exception
{
    public CliException(int exitCode, string message)
        : base(message)
    {
        ExitCode = exitCode;
    }

    public CliException()
    {
    }

    public CliException(string message)
        : base(message)
    {
        ExitCode = ExitCodes.Failed;
    }

    public CliException(string message, Exception innerException)
        : base(message, innerException)
    {
        ExitCode = ExitCodes.Failed;
    }

    public int ExitCode { get; }
}
