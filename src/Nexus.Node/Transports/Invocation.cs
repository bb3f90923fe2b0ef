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

    /// <summary>An error produced by the node itself (timeout, OOM, crash), shaped like the runtime's.</summary>
    public static InvocationResult Error(string errorType, string errorMessage) =>
        new(LambdaJson.ErrorPayload(errorType, errorMessage), errorType);
}
