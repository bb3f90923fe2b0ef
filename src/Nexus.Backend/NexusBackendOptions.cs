// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Backend;

/// <summary>Configuration of the node's one backend.</summary>
public sealed record NexusBackendOptions
{
    /// <summary>The object store (the embedded store by default).</summary>
    public required string ServiceUrl { get; init; }

    public required string AccessKey { get; init; }

    public required string SecretKey { get; init; }

    public string Region { get; init; } = "us-east-1";

    /// <summary>Storage requests running at once across all instances (the backend's worker budget).</summary>
    public int MaxConcurrentRequests { get; init; } = 64;

    /// <summary>Storage requests one instance may run at once; below the global budget so one instance cannot take it all.</summary>
    public int MaxInFlightPerInstance { get; init; } = 8;

    /// <summary>Requests one instance may have outstanding (running or queued); more are refused with SlowDown (503).</summary>
    public int MaxOutstandingPerInstance { get; init; } = 256;

    /// <summary>
    /// How long the backend waits on a sandbox (a free response slot, completion-ring space, the next request chunk)
    /// before it closes that sandbox's channel.
    /// </summary>
    public TimeSpan SandboxStallTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Largest invocation response or error the backend takes from a sandbox (Lambda's limit is 6 MB).</summary>
    public int MaxInvocationPayloadBytes { get; init; } = 6 << 20;

    /// <summary>Connections the S3 client keeps to the store.</summary>
    public int MaxConnections { get; init; } = 64;

    /// <summary>
    /// Where acknowledged writes of <c>writeback: async</c> functions wait for their upload (survives restarts: the
    /// next start uploads what is left). Null: no write-back, every write goes to storage before it is acknowledged.
    /// </summary>
    public string? SpoolDirectory { get; init; }

    /// <summary>Bytes the spool may hold; a write beyond it is written synchronously instead.</summary>
    public long MaxSpoolBytes { get; init; } = 2L << 30;

    /// <summary>Uploads of spooled writes running at once.</summary>
    public int Uploaders { get; init; } = 4;

    /// <summary>How long disposal waits for pending uploads; what is left stays spooled for the next start.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Largest object prefetched (an invocation also never holds more than half of its instance's response slots).</summary>
    public long MaxPrefetchObjectBytes { get; init; } = 16L << 20;

    /// <summary>
    /// Whether a prefetched object is checked against storage (a conditional HEAD) before it is served. Needed when the
    /// backend is not told of every write (an external S3 endpoint); the embedded store reports changes instead.
    /// </summary>
    public bool RevalidatePrefetches { get; init; }

    /// <summary>
    /// Whether GetObject bodies are checked against their MD5 ETag, as the AWS SDK does (default). The node turns it off
    /// for its embedded store, which runs in the same process: the body never crosses a network, and the check cost
    /// about 2 ms of CPU per MiB read (profiled in `nexus bench density`'s CPU split).
    /// </summary>
    public bool VerifyBodies { get; init; } = true;

    /// <summary>Where the backend reports node-level events (write-back retries, recovery); default: standard error.</summary>
    public Action<string>? Log { get; init; }
}

/// <summary>How an invocation ended.</summary>
public enum InvocationStatus
{
    /// <summary>The handler returned; the payload is its JSON result.</summary>
    Success,

    /// <summary>The handler raised; the payload is the Lambda error JSON (errorMessage, errorType, stackTrace).</summary>
    FunctionError,

    /// <summary>The runtime could not load the handler; the payload is the Lambda error JSON.</summary>
    InitError,
}

/// <summary>The outcome of one invocation delivered over a channel.</summary>
public sealed record InvocationResult(InvocationStatus Status, ReadOnlyMemory<byte> Payload, string? ErrorType);

/// <summary>The instance's channel closed (protocol violation, stall, or shutdown) before the operation finished.</summary>
public sealed class InstanceClosedException : Exception
{
    public InstanceClosedException()
    {
    }

    public InstanceClosedException(string message)
        : base(message)
    {
    }

    public InstanceClosedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Counters of one instance session (read with Interlocked/Volatile semantics; approximate under load).</summary>
public sealed class SessionStats
{
    internal long _requests;
    internal long _rejected;
    internal long _bytesToSandbox;
    internal long _bytesFromSandbox;

    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Requests failed by validation (bad record, header, parameters, permissions).</summary>
    public long Rejected => Interlocked.Read(ref _rejected);

    public long BytesToSandbox => Interlocked.Read(ref _bytesToSandbox);

    public long BytesFromSandbox => Interlocked.Read(ref _bytesFromSandbox);
}
