// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Node.Transports;

/// <summary>One invocation handed to an instance: the event JSON and the deadline the runtime reports to the handler.</summary>
public sealed record Invocation(string RequestId, ReadOnlyMemory<byte> Payload, DateTimeOffset Deadline, string FunctionArn);

/// <summary>
/// What the runtime answered: the result JSON, or (when <see cref="ErrorType"/> is set) a Lambda-shaped error
/// payload <c>{"errorMessage","errorType","stackTrace"}</c>.
/// </summary>
public sealed record InvocationResult(ReadOnlyMemory<byte> Payload, string? ErrorType)
{
    public bool IsError => ErrorType is not null;

    /// <summary>
    /// Time the invocation spent in the sandbox: from the moment the transport handed the event over (pushed into the
    /// channel, or written to the runtime's long-poll) to the moment its result arrived. Holds the handler, its storage
    /// calls and the runtime's own work; the node's overhead is the rest of an invocation's wall time. Zero when the
    /// node produced the result itself.
    /// </summary>
    public TimeSpan SandboxTime { get; init; }

    /// <summary>An error produced by the node itself (timeout, OOM, crash), shaped like the runtime's.</summary>
    public static InvocationResult Error(string errorType, string errorMessage) =>
        new(LambdaJson.ErrorPayload(errorType, errorMessage), errorType);
}
