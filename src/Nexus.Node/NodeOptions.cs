// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Nexus.Functions;

namespace Nexus.Node;

/// <summary>
/// Settings of a node. Defaults are the project's contracts; <see cref="Load"/> layers, in order:
/// defaults, <c>$NEXUS_HOME/node.json</c>, environment variables, then the caller's overrides (CLI flags).
/// </summary>
public sealed record NodeOptions
{
    public const string DefaultHome = "/var/lib/nexus";

    /// <summary>State root: store data, functions, logs, credentials, queued events.</summary>
    public string Home { get; init; } = DefaultHome;

    /// <summary>Lambda Invoke API, management API and /metrics.</summary>
    public string ApiUrl { get; init; } = "http://127.0.0.1:9700";

    /// <summary>The embedded store as users reach it.</summary>
    public string StoreUrl { get; init; } = "http://127.0.0.1:9780";

    /// <summary>The embedded store as baseline sandboxes reach it (on the host's service address).</summary>
    public string SandboxStoreUrl { get; init; } = "http://10.77.0.1:9780";

    /// <summary>Lambda Runtime API for baseline sandboxes.</summary>
    public string RuntimeApiUrl { get; init; } = "http://10.77.0.1:9701";

    /// <summary>
    /// The signing proxy through which baseline sandboxes reach Lambda and the <see cref="Services"/> within their
    /// function's grants (on the service address; always started, as Lambda is always proxied).
    /// </summary>
    public string ServiceProxyUrl { get; init; } = "http://10.77.0.1:9702";

    /// <summary>Use this S3 endpoint instead of the embedded store (with <see cref="S3AccessKeyId"/> and <see cref="S3SecretAccessKey"/>).</summary>
    public string? S3Endpoint { get; init; }

    public string? S3AccessKeyId { get; init; }

    public string? S3SecretAccessKey { get; init; }

    /// <summary>
    /// <see cref="S3Endpoint"/> is a <c>nexus store serve</c> and S3AccessKeyId one of its full-access keys: the node
    /// registers each function's own key with its grants there, so baseline sandboxes use their own key, limited to
    /// their grants, as with the embedded store. False (any other S3 service): baseline sandboxes get the node's key.
    /// </summary>
    public bool S3RegisterFunctionKeys { get; init; }

    /// <summary>
    /// Whether <see cref="S3Endpoint"/> takes aws-chunked uploads (the SDK's default over http: the body framed in
    /// signed chunks). False for S3 implementations that do not decode that framing (s3rver stores the frames as the
    /// object): the backend then signs each upload's whole body (the same SHA-256 over the bytes, read before sending).
    /// </summary>
    public bool S3ChunkedUploads { get; init; } = true;

    /// <summary>
    /// Whether a prefetched copy from <see cref="S3Endpoint"/> is checked with a conditional HEAD before it answers the
    /// function's GetObject (true: strong read-after-write consistency, one round trip to the store per hit). False:
    /// the copy, fetched after the invocation arrived, answers that invocation's first GetObject of the key as it was
    /// then, so a write by another client during the invocation is not seen by that read (writes the node acknowledges
    /// still are: they mark the copy stale). The embedded store needs neither: it tells the node of every write.
    /// </summary>
    public bool S3PrefetchRevalidation { get; init; } = true;

    /// <summary>
    /// MiB of recently prefetched bodies from <see cref="S3Endpoint"/> the node keeps while <see cref="S3PrefetchRevalidation"/>
    /// is on, so that a prefetch of an object read before sends only the revalidating HEAD every copy gets anyway (0: none).
    /// </summary>
    public int S3PrefetchCacheMiB { get; init; } = 32;

    /// <summary>
    /// Services other than S3 that functions call (ServiceRequest: the stand-in's clients and the generic path), by
    /// botocore's name for them, e.g. <c>"services": {"dynamodb": {"url": "http://127.0.0.1:8000"}}</c>; a service
    /// not listed is refused.
    /// </summary>
    public IReadOnlyDictionary<string, Nexus.Backend.Services.ServiceEndpoint> Services { get; init; } = new Dictionary<string, Nexus.Backend.Services.ServiceEndpoint>();

    /// <summary>Function image cache (NEXUS_IMAGE_CACHE).</summary>
    public string ImageCache { get; init; } = "/var/cache/nexus/images";

    /// <summary>Debian mirror for the image build; null: the host's apt sources.</summary>
    public string? Mirror { get; init; }

    /// <summary>The sandbox driver of functions whose manifest has no <c>sandbox:</c>: oci or microvm.</summary>
    public string Driver { get; init; } = "oci";

    /// <summary>
    /// The guest image <c>sandbox: microvm</c> functions boot (an uncompressed ELF kernel, or a freestanding test guest);
    /// null: microvm functions fail to start with a message saying so.
    /// </summary>
    public string? MicrovmKernel { get; init; }

    /// <summary>
    /// What <see cref="MicrovmKernel"/> is: <c>linux</c> (guest/kernel/build.sh's vmlinux, booted with the image's root
    /// and the function's code drive) or <c>freestanding</c> (a test guest that is its own runtime, such as guest/test/runtime.c).
    /// </summary>
    public string MicrovmGuest { get; init; } = "linux";

    /// <summary>The VMM executable for microVMs; null: the <c>nexus-vmm</c> scripts/setup built in this checkout.</summary>
    public string? MicrovmVmm { get; init; }

    /// <summary>Cold-start microVMs from a per-revision snapshot taken when the guest is ready (false: boot each one).</summary>
    public bool MicrovmSnapshots { get; init; } = true;

    /// <summary>
    /// Jail each microVM's VMM as Firecracker's jailer does (chroot with only its files, own mount/PID/network namespaces,
    /// its own unprivileged uid); needs the NativeAOT nexus-vmm. On by default: unjailed, a VMM runs as root in the node's
    /// namespaces, and an escape from a guest into it is root on the host. False saves a VM ~11 ms per cold start here.
    /// </summary>
    public bool MicrovmJail { get; init; } = true;

    /// <summary>The OCI runtime binary (runc, or another runc-compatible one).</summary>
    public string OciRuntime { get; init; } = "runc";

    public int MaxInstancesPerFunction { get; init; } = 16;

    /// <summary>
    /// The size at which a function's log file is rotated: it becomes &lt;name&gt;.log.1 (the one before is deleted), so a
    /// function's logs take at most twice this of the node's disk.
    /// </summary>
    public int FunctionLogMaxMiB { get; init; } = 64;

    /// <summary>
    /// The node daemon's own log (node.log) is rotated at this size (MiB), the last one kept as node.log.1: a storage
    /// outage logs a line per retry of each pending write.
    /// </summary>
    public int NodeLogMaxMiB { get; init; } = 64;

    public int MaxInstancesPerNode { get; init; } = 64;

    /// <summary>
    /// Memory that buys one CPU for functions whose manifest names no <c>cpus</c> (Lambda: 1,769 MB = 1 vCPU); 0 gives
    /// them one CPU each (docs/node.md#cpu).
    /// </summary>
    public int MemoryMbPerCpu { get; init; } = 1769;

    /// <summary>
    /// The most CPUs a function's manifest may name (<c>cpus:</c>); a deploy asking for more is refused as a manifest
    /// error. Default: the machine's CPUs, as a quota past them buys nothing but CPU weight (docs/node.md#cpu).
    /// </summary>
    public double MaxFunctionCpus { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// The CPU weight (cgroup v1 <c>cpu.shares</c>) of the node's own cpu cgroup, <c>nexus-node</c>, next to the
    /// instances' parent at 1024, so that a tenant's low weight counts against the node's threads too; 0 leaves the node
    /// where it was started (docs/node.md#cpu).
    /// </summary>
    public long NodeCpuShares { get; init; } = Nexus.Sandbox.Oci.NodeCpuGroup.DefaultShares;

    /// <summary>
    /// The EEVDF slice request, in microseconds, of every node thread (100 to 100000, the kernel's range), so that a
    /// waking node thread preempts a running tenant at once instead of after its protected slice; 0 leaves the kernel's
    /// default (docs/node.md#cpu).
    /// </summary>
    public long NodeThreadSliceMicroseconds { get; init; } = 100;

    /// <summary>
    /// How often, in seconds, the node process gives its free native heap (malloc arenas) back to the kernel; 0 never
    /// (docs/node.md, "Memory").
    /// </summary>
    public int NativeHeapTrimSeconds { get; init; } = 10;

    /// <summary>
    /// The EEVDF slice request, in microseconds, of every sandbox's threads once its init is over (100 to 100000), so
    /// that a waking function preempts a throttled tenant as its weight entitles it instead of after the tenant's
    /// protected slice; 0 leaves the kernel's default (docs/node.md#cpu).
    /// </summary>
    public long SandboxSliceMicroseconds { get; init; } = 200;

    /// <summary>Idle instances are stopped after this many seconds.</summary>
    public int KeepAliveSeconds { get; init; } = 600;

    /// <summary>Longest a new instance may take to import its handler.</summary>
    public int InitTimeoutSeconds { get; init; } = 10;

    /// <summary>
    /// Nexus-mode cold starts fork from a per-function template that has the runtime and handler loaded (oci driver);
    /// false starts every instance as its own container.
    /// </summary>
    public bool Templates { get; init; } = true;

    /// <summary>Asynchronous (Event) invocations run concurrently at most this many at a time.</summary>
    public int EventWorkers { get; init; } = 4;

    /// <summary>
    /// The most the spool of Event invocations waiting to run may hold (MiB of their files); past it an Event invocation
    /// is refused with 429 TooManyRequestsException, so callers that queue faster than functions run cannot fill the disk.
    /// One function's events may hold at most half of it: events that cannot run are kept up to eventMaxAgeSeconds, and
    /// one function's would otherwise leave no room for any other's that long.
    /// </summary>
    public int EventQueueMaxMiB { get; init; } = 1024;

    /// <summary>
    /// How long an Event invocation that cannot run (its function at its concurrency limit, no sandbox could start) is
    /// kept and tried again, with back-off from 1 s to 5 min, before it is dropped: Lambda's MaximumEventAgeInSeconds,
    /// 6 hours by default (60 to 21600).
    /// </summary>
    public int EventMaxAgeSeconds { get; init; } = 21600;

    /// <summary>
    /// The pauses before a failed Event invocation's second and third runs: Lambda's, about 1 and 2 minutes (a
    /// function's <c>eventRetries</c> takes as many as it allows).
    /// </summary>
    [JsonIgnore]
    public IReadOnlyList<TimeSpan> EventRetryDelays { get; init; } = [TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(2)];

    [JsonIgnore]
    public string FunctionsDirectory => Path.Combine(Home, "functions");

    [JsonIgnore]
    public string LogsDirectory => Path.Combine(Home, "logs");

    [JsonIgnore]
    public string StoreDirectory => Path.Combine(Home, "store");

    [JsonIgnore]
    public string EventsDirectory => Path.Combine(Home, "events");

    /// <summary>Acknowledged writes of <c>writeback: async</c> functions waiting for their upload.</summary>
    [JsonIgnore]
    public string WriteBackDirectory => Path.Combine(Home, "writeback");

    [JsonIgnore]
    public string CredentialsPath => Path.Combine(Home, "credentials.json");

    [JsonIgnore]
    public string ConfigPath => Path.Combine(Home, "node.json");

    /// <summary>Builds the options: defaults, then node.json, then environment, then <paramref name="overrides"/>.</summary>
    public static NodeOptions Load(Func<NodeOptions, NodeOptions>? overrides = null, IReadOnlyDictionary<string, string?>? environment = null)
    {
        string? Env(string name) => environment is not null ? environment.GetValueOrDefault(name) : System.Environment.GetEnvironmentVariable(name);

        var home = Env("NEXUS_HOME") is { Length: > 0 } h ? h : DefaultHome;
        var options = new NodeOptions { Home = home };
        if (overrides is not null)
        {
            // A --home flag decides which node.json applies.
            options = options with { Home = overrides(options).Home };
        }

        var config = options.ConfigPath;
        if (File.Exists(config))
        {
            options = NodeConfigFile.Read(config, options);
        }

        options = options with
        {
            ImageCache = Env("NEXUS_IMAGE_CACHE") is { Length: > 0 } cache ? cache : options.ImageCache,
            ApiUrl = Env("NEXUS_API_URL") is { Length: > 0 } api ? api : options.ApiUrl,
            OciRuntime = Env("NEXUS_OCI_RUNTIME") is { Length: > 0 } runtime ? runtime : options.OciRuntime,
            Mirror = Env("NEXUS_MIRROR") is { Length: > 0 } mirror ? mirror : options.Mirror,
            MicrovmKernel = Env("NEXUS_MICROVM_KERNEL") is { Length: > 0 } kernel ? kernel : options.MicrovmKernel,
            KeepAliveSeconds = IntEnv(Env("NEXUS_KEEP_ALIVE_SECONDS"), "NEXUS_KEEP_ALIVE_SECONDS") ?? options.KeepAliveSeconds,
            MaxInstancesPerFunction = IntEnv(Env("NEXUS_MAX_INSTANCES_PER_FUNCTION"), "NEXUS_MAX_INSTANCES_PER_FUNCTION") ?? options.MaxInstancesPerFunction,
            MaxInstancesPerNode = IntEnv(Env("NEXUS_MAX_INSTANCES"), "NEXUS_MAX_INSTANCES") ?? options.MaxInstancesPerNode,
        };
        options = overrides?.Invoke(options) ?? options;
        options.Validate();
        return options;
    }

    /// <summary>Throws <see cref="NodeSettingException"/> naming the setting (as node.json spells it) that is out of range.</summary>
    public void Validate()
    {
        static void Check(bool ok, string setting, string why)
        {
            if (!ok)
            {
                throw new NodeSettingException(JsonNamingPolicy.CamelCase.ConvertName(setting), why);
            }
        }

        Check(MaxInstancesPerFunction >= 1, nameof(MaxInstancesPerFunction), "must be at least 1");
        Check(MaxInstancesPerNode >= 1, nameof(MaxInstancesPerNode), "must be at least 1");
        Check(MemoryMbPerCpu >= 0, nameof(MemoryMbPerCpu), "must be 0 (one CPU per instance) or the MB that buy one CPU");
        Check(MaxFunctionCpus >= ManifestParser.MinCpus && MaxFunctionCpus <= ManifestParser.MaxCpus, nameof(MaxFunctionCpus), string.Create(CultureInfo.InvariantCulture, $"must be between {ManifestParser.MinCpus} and {ManifestParser.MaxCpus}"));
        Check(NodeThreadSliceMicroseconds == 0 || (NodeThreadSliceMicroseconds >= 100 && NodeThreadSliceMicroseconds <= 100_000), nameof(NodeThreadSliceMicroseconds), "must be 0 (the kernel's default slice) or 100 to 100000");
        Check(NativeHeapTrimSeconds >= 0, nameof(NativeHeapTrimSeconds), "must be 0 (never) or a number of seconds");
        Check(SandboxSliceMicroseconds == 0 || (SandboxSliceMicroseconds >= 100 && SandboxSliceMicroseconds <= 100_000), nameof(SandboxSliceMicroseconds), "must be 0 (the kernel's default slice) or 100 to 100000");
        Check(NodeCpuShares == 0 || (NodeCpuShares >= 2 && NodeCpuShares <= 262_144), nameof(NodeCpuShares), "must be 0 (the node stays where it was started) or a cpu.shares weight, 2 to 262144");
        Check(KeepAliveSeconds >= 1, nameof(KeepAliveSeconds), "must be at least 1");
        Check(InitTimeoutSeconds >= 1, nameof(InitTimeoutSeconds), "must be at least 1");
        Check(EventWorkers is >= 1 and <= 1024, nameof(EventWorkers), "must be 1 to 1024 (each runs one Event invocation at a time; more than the node's instances only wait)");
        Check(!string.IsNullOrWhiteSpace(ImageCache), nameof(ImageCache), "expected a directory (/var/cache/nexus/images by default), got an empty string");
        Check(!string.IsNullOrWhiteSpace(OciRuntime), nameof(OciRuntime), "expected a program name or path (runc by default), got an empty string");
        Check(EventMaxAgeSeconds is >= 60 and <= 21600, nameof(EventMaxAgeSeconds), "must be 60 to 21600 (seconds), as Lambda's maximum event age");
        Check(EventQueueMaxMiB is >= 1 and <= 1_048_576, nameof(EventQueueMaxMiB), "must be 1 to 1048576 (MiB)");
        Check(FunctionLogMaxMiB is >= 1 and <= 65536, nameof(FunctionLogMaxMiB), "must be 1 to 65536 (MiB)");
        Check(NodeLogMaxMiB is >= 1 and <= 65536, nameof(NodeLogMaxMiB), "must be 1 to 65536 (MiB)");
        Check(Driver is "oci" or "microvm", nameof(Driver), $"'{Driver}' is not a known driver (known: oci, microvm)");
        Check(MicrovmGuest is "linux" or "freestanding", nameof(MicrovmGuest), $"'{MicrovmGuest}' is not a kind of guest (known: linux, freestanding)");
        foreach (var (name, url) in new[] { (nameof(ApiUrl), ApiUrl), (nameof(StoreUrl), StoreUrl), (nameof(SandboxStoreUrl), SandboxStoreUrl), (nameof(RuntimeApiUrl), RuntimeApiUrl), (nameof(ServiceProxyUrl), ServiceProxyUrl) })
        {
            Check(Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme == "http", name, $"expected an http:// URL, got '{url}'");
        }

        Check(S3Endpoint is null || (S3AccessKeyId is not null && S3SecretAccessKey is not null), nameof(S3Endpoint), "an external S3 endpoint needs S3AccessKeyId and S3SecretAccessKey");
        Check(S3Endpoint is null || (Uri.TryCreate(S3Endpoint, UriKind.Absolute, out var s3) && s3.Scheme == "http" && System.Net.IPAddress.TryParse(s3.Host, out _)), nameof(S3Endpoint), $"expected http://IP:PORT (baseline sandboxes are routed to exactly that address), got '{S3Endpoint}'");
        Check(S3ChunkedUploads || S3Endpoint is not null, nameof(S3ChunkedUploads), "applies to S3Endpoint only (the embedded store decodes aws-chunked uploads)");
        Check(S3PrefetchRevalidation || S3Endpoint is not null, nameof(S3PrefetchRevalidation), "applies to S3Endpoint only (the embedded store tells the node of every write)");
        Check(S3PrefetchCacheMiB >= 0, nameof(S3PrefetchCacheMiB), $"expected 0 or more, got {S3PrefetchCacheMiB}");
        Check(Services is not null, nameof(Services), "expected an object of service endpoints, got null");
        foreach (var (service, endpoint) in Services!)
        {
            Check(endpoint is not null, $"{nameof(Services)}.{service}", "expected an endpoint object ({\"url\": ...}), got null");
            Check(Uri.TryCreate(endpoint!.Url, UriKind.Absolute, out var url) && url.Scheme is "http" or "https" && url.AbsolutePath == "/", $"{nameof(Services)}.{service}", $"expected an http:// or https:// URL without path, got '{endpoint.Url}'");
        }

        // The signing proxy tells services apart by the signature's service name.
        var signingNames = Services.GroupBy(s => s.Value.SigningNameOf(s.Key)).FirstOrDefault(g => g.Count() > 1);
        Check(signingNames is null, nameof(Services), $"{string.Join(" and ", signingNames?.Select(s => s.Key) ?? [])} have the same signing name '{signingNames?.Key}'");

        Check(!S3RegisterFunctionKeys || S3Endpoint is not null, nameof(S3RegisterFunctionKeys), "needs S3Endpoint (the embedded store takes function keys in process)");
    }

    private static int? IntEnv(string? value, string name) =>
        value is null or ""
            ? null
            : int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
                ? n
                : throw new ArgumentException($"environment variable {name}: expected a whole number, got '{value}'");
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow, WriteIndented = true, AllowDuplicateProperties = false, RespectNullableAnnotations = true)]
[JsonSerializable(typeof(NodeOptions))]
internal sealed partial class NodeOptionsJson : JsonSerializerContext;
