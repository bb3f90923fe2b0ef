// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Functions;

/// <summary>How a function's storage calls and invocations leave its sandbox.</summary>
public enum IoMode
{
    /// <summary>Frontend in the sandbox, fabric in the shared backend, over the Nexus channel.</summary>
    Nexus,

    /// <summary>Real boto3 and the Lambda Runtime API over the sandbox's own network, as production does today.</summary>
    Baseline,
}

/// <summary>When a function's writes reach storage.</summary>
public enum WriteBackMode
{
    /// <summary>A write is acknowledged once the backend holds it durably (spooled and fsynced); it is uploaded after.</summary>
    Async,

    /// <summary>A write is acknowledged only once storage has it.</summary>
    Sync,
}

/// <summary>What a grant allows on its bucket and prefix.</summary>
[Flags]
public enum StorageAccess
{
    None = 0,
    Read = 1,
    Write = 2,
    ReadWrite = Read | Write,
}

/// <summary>One storage permission of a function: a bucket, a key prefix ("" = whole bucket), and the access.</summary>
public sealed record StorageGrant(string Bucket, string Prefix, StorageAccess Access)
{
    /// <summary>True when this grant covers <paramref name="access"/> on <paramref name="bucket"/>/<paramref name="key"/>.</summary>
    public bool Allows(string bucket, string key, StorageAccess access) =>
        string.Equals(Bucket, bucket, StringComparison.Ordinal)
        && key.StartsWith(Prefix, StringComparison.Ordinal)
        && (Access & access) == access;
}

/// <summary>
/// One permission of a function on a service other than S3 (the generic path), IAM-like: the service (as botocore names
/// it, e.g. "dynamodb"), the actions (operation names, e.g. GetItem; "*" for all), and the resource ("table/orders";
/// a trailing "*" matches any rest; "*" alone matches every resource, and is the only grant that covers calls whose
/// resource the node cannot name).
/// </summary>
public sealed record ServiceGrant(string Service, IReadOnlyList<string> Actions, string Resource)
{
    /// <summary>True when this grant covers <paramref name="action"/> of <paramref name="service"/> on <paramref name="resource"/>.</summary>
    public bool Allows(string service, string action, string resource) =>
        string.Equals(Service, service, StringComparison.Ordinal)
        && Actions.Any(a => a == "*" || string.Equals(a, action, StringComparison.Ordinal))
        && (Resource.EndsWith('*')
            ? resource.StartsWith(Resource[..^1], StringComparison.Ordinal)
            : string.Equals(Resource, resource, StringComparison.Ordinal));
}

/// <summary>A validated function manifest (the function folder's <c>function.yaml</c>).</summary>
public sealed record FunctionManifest
{
    public required string Name { get; init; }

    /// <summary>"module.function", as Lambda's Python runtime takes it.</summary>
    public required string Handler { get; init; }

    /// <summary>Lambda's Description of the function (what GetFunctionConfiguration answers); null when none was given.</summary>
    public string? Description { get; init; }

    public int MemoryMb { get; init; } = 128;

    /// <summary>
    /// CPU limit in cores (cgroup quota / period) when the manifest names one; null: the node derives it from
    /// <see cref="MemoryMb"/> (Lambda's model, docs/node.md#cpu).
    /// </summary>
    public double? Cpus { get; init; }

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How many times a failed Event (asynchronous) invocation runs again, 0 to 2: Lambda's MaximumRetryAttempts, whose
    /// default is 2.
    /// </summary>
    public int EventRetries { get; init; } = 2;

    public IoMode Io { get; init; } = IoMode.Nexus;

    /// <summary>The sandbox driver the function runs in ("oci" or "microvm"); null: the node's default.</summary>
    public string? Sandbox { get; init; }

    public IReadOnlyList<StorageGrant> Storage { get; init; } = [];

    /// <summary>Permissions on services other than S3, checked by the backend before a generic-path call is sent.</summary>
    public IReadOnlyList<ServiceGrant> Services { get; init; } = [];

    /// <summary>Nexus mode: when writes are acknowledged (default: after the backend spooled them durably).</summary>
    public WriteBackMode WriteBack { get; init; } = WriteBackMode.Async;

    /// <summary>Nexus mode: whether inputs named by the event are fetched while the invocation is dispatched.</summary>
    public bool Prefetch { get; init; } = true;

    /// <summary>Objects the function reads, named by the event or literally, besides the S3 event records it gets.</summary>
    public IReadOnlyList<InputHint> Inputs { get; init; } = [];

    /// <summary>The log format and levels (function.yaml <c>logging:</c>); Lambda's default, Text, when not given.</summary>
    public FunctionLogging Logging { get; init; } = FunctionLogging.Text;

    /// <summary>Environment variables the function's code sees (never credentials: those are the node's business).</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>Bucket-level reads (HeadBucket, and which buckets ListBuckets shows): allowed when some grant names the bucket.</summary>
    public bool AllowsBucket(string bucket) => Storage.Any(g => string.Equals(g.Bucket, bucket, StringComparison.Ordinal));

    /// <summary>True when some service grant allows <paramref name="action"/> on <paramref name="resource"/>.</summary>
    public bool AllowsService(string service, string action, string resource) =>
        Services.Any(g => g.Allows(service, action, resource));

    /// <summary>True when some grant allows <paramref name="access"/> on the object.</summary>
    public bool Allows(string bucket, string key, StorageAccess access) =>
        Storage.Any(g => g.Allows(bucket, key, access));
}
