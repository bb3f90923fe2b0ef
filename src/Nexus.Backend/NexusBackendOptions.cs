// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Backend.Services;

namespace Nexus.Backend;

/// <summary>Configuration of the node's one backend.</summary>
public sealed record NexusBackendOptions
{
    /// <summary>The object store (the embedded store by default).</summary>
    public required string ServiceUrl { get; init; }

    public required string AccessKey { get; init; }

    public required string SecretKey { get; init; }

    public string Region { get; init; } = "us-east-1";

    /// <summary>
    /// Services other than S3 that functions reach through the generic path, by the name botocore gives them (dynamodb,
    /// sqs, ...). A call to a service not listed here is refused (NotImplemented) before anything is sent.
    /// </summary>
    public IReadOnlyDictionary<string, ServiceEndpoint> Services { get; init; } = new Dictionary<string, ServiceEndpoint>();

    /// <summary>Storage requests running at once across all instances (the backend's worker budget).</summary>
    public int MaxConcurrentRequests { get; init; } = 64;

    /// <summary>Storage requests one instance may run at once; below the global budget so one instance cannot take it all.</summary>
    public int MaxInFlightPerInstance { get; init; } = 8;

    /// <summary>
    /// Storage requests all instances of one function may run at once: half the global budget, so that one tenant
    /// scaled out to many instances cannot take the shared backend from the others.
    /// </summary>
    public int MaxInFlightPerFunction { get; init; } = 32;

    /// <summary>
    /// Half-life of the backend CPU time charged to a function: when requests wait for the global budget, the function
    /// that used least (recent use weighing more) is served first.
    /// </summary>
    public TimeSpan FairShareHalfLife { get; init; } = TimeSpan.FromSeconds(5);

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
    /// Bytes of recently prefetched bodies the node keeps (<see cref="Prefetch.ObjectCache"/>), so that a prefetch of an
    /// object read before asks storage only for the revalidation every copy gets anyway. Used only with
    /// <see cref="RevalidatePrefetches"/> (otherwise a held body could answer without a check); 0 keeps none.
    /// The embedded store keeps no cache: its reads cross no network.
    /// </summary>
    public long PrefetchCacheBytes { get; init; } = 32L << 20;

    /// <summary>Whether uploads may use aws-chunked bodies (the SDK's default over http); false for stores that do not decode them.</summary>
    public bool ChunkedUploads { get; init; } = true;

    /// <summary>
    /// Whether GetObject bodies are checked against their MD5 ETag, as the AWS SDK does (default). The node turns it off
    /// for its embedded store, which runs in the same process: the body never crosses a network, and the check cost
    /// about 2 ms of CPU per MiB read (profiled in `nexus bench density`'s CPU split).
    /// </summary>
    public bool VerifyBodies { get; init; } = true;

    /// <summary>Where the backend reports node-level events (write-back retries, recovery); default: standard error.</summary>
    public Action<string>? Log { get; init; }
}
