// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Collections.Concurrent;
using System.Net;
using System.Reflection;
using Microsoft.AspNetCore.Http;
using Nexus.Backend;
using Nexus.Backend.Services;
using Nexus.Backend.WriteBack;
using Nexus.Channel.Services;
using Nexus.Image;
using Nexus.Node.Api;
using Nexus.Node.Logs;
using Nexus.Node.Metrics;
using Nexus.Node.Pool;
using Nexus.Node.Registry;
using Nexus.Node.Transports;
using Nexus.Node.Transports.NexusChannel;
using Nexus.Node.Transports.RuntimeApi;
using Nexus.Sandbox;
using Nexus.Sandbox.Oci;
using Nexus.Store;

namespace Nexus.Node;

/// <summary>Parts of a node a test (or another deployment) supplies instead of the defaults.</summary>
public sealed record NodeComponents
{
    /// <summary>Default: the oci driver (runc).</summary>
    public ISandboxDriver? Driver { get; init; }

    /// <summary>Gives the image rootfs; default: <see cref="ImageBuilder.EnsureAsync"/> at start.</summary>
    public Func<IProgress<string>?, CancellationToken, Task<string>>? Image { get; init; }
}

/// <summary>
/// One serverless node: the embedded store (or an external S3 endpoint), the function image, the sandbox driver,
/// the function registry, the instance pool, the shared nexus backend, the Runtime API for baseline sandboxes and
/// the node API. Start with <see cref="StartAsync"/>; <see cref="DisposeAsync"/> stops every instance.
/// </summary>
public sealed partial class NexusNode : INodeOperations, IAsyncDisposable
{
    private readonly NodeOptions _options;
    private readonly List<IAsyncDisposable> _owned = [];
    private readonly TaskCompletionSource _shutdownRequested = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly StoreCredentials _storeCredentials = new();

    // Function keys alone (no node key): what the signing proxy accepts.
    private readonly StoreCredentials _serviceKeys = new();
    private readonly Dictionary<string, string> _functionsByKey = new(StringComparer.Ordinal);
    private readonly Dictionary<string, KeyPair> _functionKeys = new(StringComparer.Ordinal);
    private readonly Lock _keysLock = new();
    private readonly DateTimeOffset _startedAt = DateTimeOffset.UtcNow;
    private FunctionRegistry _registry = null!;
    private FunctionLogs _logs = null!;
    private InstancePool _pool = null!;
    private NodeMetrics _metrics = null!;
    private PrometheusExporter _exporter = null!;
    private EventQueue _events = null!;
    private SigV4Verifier _verifier = null!;
    private ISandboxDriver _driver = null!;
    private NexusBackend _backend = null!;
    private StoreAdminClient? _remoteKeys;
    private NodeCpuGroup? _cpuGroup;
    private NodeThreadSlices? _threadSlices;
    private NativeHeapTrimmer? _heapTrimmer;
    private string? _imagePath;
    private string _sandboxStoreUrl = "";
    private bool _hostPrepared;
    private HostLock? _hostLock;
    private int _disposed;

    private NexusNode(NodeOptions options)
    {
        _options = options;
    }

    /// <summary>Every instance id of a node starts with this; the driver cleans up leftovers with it only.</summary>
    public const string InstancePrefix = "nx";

    public static string Version => typeof(NexusNode).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "dev";

    public NodeOptions Options => _options;

    public KeyPair AdminKey { get; private set; } = null!;

    private string _managementToken = "";

    /// <summary>The full-access key the node uses on its store (the admin key, or S3AccessKeyId of an external endpoint).</summary>
    public KeyPair StoreKey { get; private set; } = null!;

    /// <summary>Where the node API listens (the bound address, also when the port was 0).</summary>
    public Uri ApiAddress { get; private set; } = null!;

    /// <summary>Where users reach the store.</summary>
    public Uri StoreAddress { get; private set; } = null!;

    /// <summary>Problems met while loading deployed functions at start (a function whose manifest no longer loads).</summary>
    public IReadOnlyList<string> LoadProblems { get; private set; } = [];

    /// <summary>Completes when a client asked the node to shut down (POST /nexus/v1/shutdown).</summary>
    public Task ShutdownRequested => _shutdownRequested.Task;

    public IReadOnlyCollection<DeployedFunction> Functions => _registry.All;

    public FunctionLogs Logs => _logs;

    public static async Task<NexusNode> StartAsync(NodeOptions options, NodeComponents? components = null, IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        var node = new NexusNode(options);
        try
        {
            await node.StartCoreAsync(components ?? new NodeComponents(), progress, cancellationToken);
            return node;
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }
    }

    public bool TryGetFunction(string name, out DeployedFunction function) => _registry.TryGet(name, out function);

    /// <summary>
    /// For measurement (`nexus bench compare`): sees each synchronous invocation's outcome by request id as the pool
    /// returns it; the Invoke API stamps its own stages into the same timeline afterwards. Null (the default) costs nothing.
    /// </summary>
    public Action<string, InvocationOutcome>? InvocationObserver { get; set; }

    /// <summary>
    /// Runs one invocation with request id <paramref name="requestId"/>, a new trace and no client context, waiting for
    /// an instance at the concurrency limit (<see cref="InvocationRequest.WaitsAtLimit"/>): for the in-process
    /// benchmarks, whose replayed traces were measured so; the Invoke API throttles at once.
    /// </summary>
    public Task<InvocationOutcome> InvokeAsync(DeployedFunction function, ReadOnlyMemory<byte> payload, string requestId, CancellationToken cancellationToken) =>
        InvokeAsync(function, payload, new InvocationRequest(requestId) { WaitsAtLimit = true }, cancellationToken);

    public Task<InvocationOutcome> InvokeAsync(DeployedFunction function, ReadOnlyMemory<byte> payload, InvocationRequest request, CancellationToken cancellationToken)
    {
        return InvocationObserver is { } observer ? ObservedAsync(observer) : _pool.InvokeAsync(function, payload, request, cancellationToken);

        async Task<InvocationOutcome> ObservedAsync(Action<string, InvocationOutcome> observer)
        {
            var outcome = await _pool.InvokeAsync(function, payload, request, cancellationToken);
            observer(request.RequestId, outcome);
            return outcome;
        }
    }

    public Task EnqueueEventAsync(DeployedFunction function, ReadOnlyMemory<byte> payload, InvocationRequest request, CancellationToken cancellationToken) =>
        _events.EnqueueAsync(function.Name, payload, request.RequestId, request.TraceId, cancellationToken);

    public Task<DeployedFunction> DeployAsync(Stream package, CancellationToken cancellationToken) => DeployAsync(package, null, null, cancellationToken);

    public Task<FunctionChange> BeginChangeAsync(string name, CancellationToken cancellationToken) => _registry.BeginChangeAsync(name, cancellationToken);

    public async Task<DeployedFunction> DeployAsync(Stream package, Func<string?, string>? manifestOf, FunctionChange? change, CancellationToken cancellationToken)
    {
        // Unpacking and fsync are blocking file work. The package is unpacked before the function's change begins, so a
        // large upload does not hold off the function's other changes; the install and its key are made under it, so
        // two deploys' grants reach the key store in the order their revisions were installed.
        using var staged = await Task.Run(() => _registry.Stage(package, manifestOf), cancellationToken);
        using var own = change is null ? await _registry.BeginChangeAsync(staged.Name, cancellationToken) : null;
        var function = await Task.Run(() => _registry.Install(staged, change ?? own!), CancellationToken.None);
        await RegisterKeyAsync(function, cancellationToken);
        _logs.Write(function.Name, "node", null, $"deployed revision {function.Revision} (io: {function.Manifest.Io.ToString().ToLowerInvariant()}, sandbox: {function.Manifest.Sandbox ?? _driver.Name}, memory {function.Manifest.MemoryMb} MB, timeout {function.Manifest.Timeout.TotalSeconds:0} s)");
        _ = RetireThenPruneAsync(function.Name, function);
        return function;
    }

    /// <summary>Stops the function's idle instances now (its next invocation is a cold start); completes when they are gone.</summary>
    public Task StopIdleInstancesAsync(string name) => _pool.StopIdleAsync(name);

    public async Task<bool> RemoveAsync(string name, CancellationToken cancellationToken)
    {
        using (var change = await _registry.BeginChangeAsync(name, cancellationToken))
        {
            if (!_registry.Remove(name, change))
            {
                return false;
            }

            var discarded = _events.Discard(name);
            _logs.Write(name, "node", null, discarded == 0 ? "removed" : $"removed; {discarded} queued event invocation(s) discarded with it");
        }

        _ = RetireThenPruneAsync(name, null);
        return true;
    }

    public NodeStatus Status() => new(
        Version,
        _startedAt,
        _driver.Name,
        _imagePath,
        new Dictionary<string, string>
        {
            ["api"] = ApiAddress.ToString().TrimEnd('/'),
            ["s3"] = StoreAddress.ToString().TrimEnd('/'),
            ["runtimeApi"] = _options.RuntimeApiUrl,
            ["sandboxS3"] = _sandboxStoreUrl,
            ["metrics"] = new Uri(ApiAddress, "/metrics").ToString(),
        },
        _registry.All.Count,
        _events.Pending,
        _pool.Waiting,
        _pool.Status(),
        _backend.WriteBack?.Stats,
        TemplateStatuses());

    /// <summary>Every running fork template, named by the function revision its key stands for.</summary>
    private List<TemplateStatus> TemplateStatuses()
    {
        var usage = _driver.ReadTemplateUsage();
        if (usage.Count == 0)
        {
            return [];
        }

        var current = _registry.All.Select(f => (f.Name, f.Revision)).ToHashSet();
        var revisions = _registry.All.Concat(_pool.Revisions())
            .DistinctBy(f => (f.Name, f.Revision))
            .ToDictionary(f => InstancePool.TemplateKey(f.Name, f.Revision), StringComparer.Ordinal);
        return [.. usage
            .Select(t => revisions.TryGetValue(t.Key, out var f)
                ? new TemplateStatus(f.Name, f.Revision, current.Contains((f.Name, f.Revision)), t.LiveInstances, t.Memory.PssBytes)
                : new TemplateStatus(null, null, false, t.LiveInstances, t.Memory.PssBytes))
            .OrderBy(t => t.Function, StringComparer.Ordinal)
            .ThenBy(t => t.Revision, StringComparer.Ordinal)];
    }

    /// <summary>The node CPU charged to a function's invoke budget and the time its invocations waited for it (docs/node.md#cpu).</summary>
    public (TimeSpan Charged, TimeSpan Waited) InvokePathTotals(string function) => _pool.InvokePathTotals(function);

    /// <summary>Memory and CPU time of a live instance's sandbox, or null when it no longer runs.</summary>
    public (SandboxMemory Memory, TimeSpan Cpu)? ReadInstanceUsage(string instanceId) =>
        _pool.FindSandbox(instanceId) is { } sandbox ? (sandbox.ReadMemory(), sandbox.ReadCpuTime()) : null;

    /// <summary>Memory of the fork template an instance was forked from (null when it was not, or is gone).</summary>
    public SandboxMemory? ReadInstanceTemplateMemory(string instanceId) => _pool.FindSandbox(instanceId)?.ReadTemplateMemory();

    /// <summary>Memory and CPU of the running fork templates (docs/templates.md); none when templates are off.</summary>
    public IReadOnlyList<TemplateUsage> ReadTemplateUsage() => _driver.ReadTemplateUsage();

    public string ScrapeMetrics() => _exporter.Scrape();

    public (string Code, string Message)? VerifySignature(HttpRequest request, string payloadSha256Hex, bool adminOnly = false)
    {
        var result = _verifier.Verify(request, payloadSha256Hex);
        if (!result.Succeeded)
        {
            return (result.Error!.Code, result.Error.Message);
        }

        return adminOnly && result.Credential.AccessKeyId != AdminKey.AccessKeyId
            ? (INodeOperations.NotAdminKey, $"key {result.Credential.AccessKeyId} is not the node's admin key")
            : null;
    }

    public Api.CodeLinks CodeLinks { get; private set; } = null!;

    public bool IsManagementToken(string? token) =>
        token is not null && System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.ASCII.GetBytes(token), System.Text.Encoding.ASCII.GetBytes(_managementToken));

    public void RequestShutdown() => _shutdownRequested.TrySetResult();

    public WriteBackQueue? WriteBack => _backend.WriteBack;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // Stop in reverse order of start: the API first (no new work), the store last (instances use it).
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            try
            {
                await _owned[i].DisposeAsync();
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or OperationCanceledException)
            {
                Console.Error.WriteLine($"nexus: shutdown: {_owned[i].GetType().Name}: {e.Message}");
            }
        }

        if (_hostPrepared)
        {
            try
            {
                await _driver.ReleaseHostAsync();
            }
            catch (IOException e)
            {
                Console.Error.WriteLine($"nexus: shutdown: host network: {e.Message}");
            }
        }

        _remoteKeys?.Dispose();
        _threadSlices?.Dispose();
        _heapTrimmer?.Dispose();
        _cpuGroup?.Dispose();
        _exporter?.Dispose();
        _metrics?.Dispose();
        _logs?.Dispose();
        _hostLock?.Dispose();
        _shutdownRequested.TrySetResult();
    }

    private async Task StartCoreAsync(NodeComponents components, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        // Before anything of the host's is touched: a second node must not clear what a running one uses.
        _hostLock = HostLock.Acquire(HostLock.DefaultPath, _options.Home);
        Directory.CreateDirectory(_options.Home);

        // The store's objects, queued events, logs and function code (with its environment) are the node's: other local
        // users may not read them (they were 0644 in 0755 folders).
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(_options.Home, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        AdminKey = KeyPair.LoadOrCreateAdmin(_options.CredentialsPath);
        _managementToken = AdminKey.ManagementToken();
        CodeLinks = Api.CodeLinks.Of(AdminKey.SecretAccessKey);
        _storeCredentials.Add(new StoreCredential(AdminKey.AccessKeyId, AdminKey.SecretAccessKey));
        _verifier = new SigV4Verifier(_storeCredentials, LambdaJson.Region, "lambda", TimeSpan.FromMinutes(15));
        _logs = new FunctionLogs(_options.LogsDirectory, maxFileBytes: (long)_options.FunctionLogMaxMiB << 20);

        EnterCpuGroup(progress);
        SetThreadSlices(progress);
        _heapTrimmer = _options.NativeHeapTrimSeconds > 0 ? new NativeHeapTrimmer(TimeSpan.FromSeconds(_options.NativeHeapTrimSeconds)) : null;
        _driver = components.Driver ?? DefaultDriver();
        if (_driver is IAsyncDisposable ownedDriver)
        {
            // Stopped last: its templates outlive the instances forked from them.
            _owned.Add(ownedDriver);
        }

        progress?.Report("preparing the host (sandbox network, leftovers of an earlier run)");
        await _driver.PrepareHostAsync(cancellationToken);
        _hostPrepared = true;

        string storeUrl, storeKey, storeSecret;
        S3StoreServer? embeddedStore = null;
        if (_options.S3Endpoint is { } external)
        {
            (storeUrl, storeKey, storeSecret) = (external, _options.S3AccessKeyId!, _options.S3SecretAccessKey!);
            StoreAddress = new Uri(external);
            if (_options.S3RegisterFunctionKeys)
            {
                _remoteKeys = new StoreAdminClient(StoreAddress, storeKey, storeSecret);
            }
        }
        else
        {
            progress?.Report("starting the embedded S3 store");
            var store = await S3StoreServer.StartAsync(
                new StoreOptions { DataDirectory = _options.StoreDirectory, Urls = [_options.StoreUrl, _options.SandboxStoreUrl] },
                _storeCredentials,
                ct: cancellationToken);
            _owned.Add(store);
            embeddedStore = store;
            StoreAddress = store.BoundAddresses[0];
            var sandboxHost = new Uri(_options.SandboxStoreUrl).Host;
            _sandboxStoreUrl = store.BoundAddresses.FirstOrDefault(a => a.Host == sandboxHost)?.ToString().TrimEnd('/') ?? _options.SandboxStoreUrl;
            (storeUrl, storeKey, storeSecret) = (StoreAddress.ToString().TrimEnd('/'), AdminKey.AccessKeyId, AdminKey.SecretAccessKey);
        }

        StoreKey = new KeyPair(storeKey, storeSecret);

        var image = components.Image ?? (async (p, ct) =>
        {
            var builder = new ImageBuilder(new ImageOptions { CacheDirectory = _options.ImageCache, Mirror = _options.Mirror });
            return (await builder.EnsureAsync(p, ct)).RootfsPath;
        });
        progress?.Report("ensuring the function image");
        _imagePath = await image(progress, cancellationToken);

        // The services of node.json, and Lambda: the node's own API, for functions that invoke functions (added once the
        // API has its address, below, unless node.json names another Lambda endpoint).
        var services = new ConcurrentDictionary<string, ServiceEndpoint>(_options.Services, StringComparer.Ordinal);
        progress?.Report("starting the backend (and uploading writes left in the write-back spool)");
        var backend = new NexusBackend(new NexusBackendOptions
        {
            ServiceUrl = storeUrl,
            AccessKey = storeKey,
            SecretKey = storeSecret,
            SpoolDirectory = _options.WriteBackDirectory,
            Services = services,

            // An external endpoint does not tell the node of writes by others: prefetched copies are checked on use
            // unless the operator took invocation-time snapshots instead.
            RevalidatePrefetches = embeddedStore is null && _options.S3PrefetchRevalidation,
            PrefetchCacheBytes = (long)_options.S3PrefetchCacheMiB << 20,

            // The embedded store is in this process: an integrity check of its bodies guards no network.
            VerifyBodies = embeddedStore is null,
            ChunkedUploads = _options.S3ChunkedUploads,
            Log = line => Console.Error.WriteLine("nexus: " + line),
        });
        _backend = backend;
        _owned.Add(backend);

        // Every nexus-mode instance's channel is served from here (invocations and storage calls); stopped before the
        // backend, so no storage call outlives it.
        var channels = new ChannelServiceHost();
        _owned.Add(channels);
        if (embeddedStore is not null)
        {
            // Every write to the store (also by users and baseline functions) drops prefetched copies of the object.
            embeddedStore.ObjectChanged += backend.ObjectChanged;
        }

        var runtimeApiRegistry = new RuntimeApiRegistry();
        var runtimeApi = await RuntimeApiServer.StartAsync([_options.RuntimeApiUrl], runtimeApiRegistry, cancellationToken);
        _owned.Add(runtimeApi);
        // The bound address, so that port 0 (tests) works too.
        var runtimeApiHost = runtimeApi.Addresses[0].Authority;
        var sandboxStore = _options.S3Endpoint ?? _sandboxStoreUrl;

        // Baseline sandboxes reach the services of the node config, and Lambda (the node's own API), only through the
        // node's signing proxy, which holds each call to the grants of the function whose key signed it and the instance
        // that sent it, and signs it with the node's key; the service endpoints themselves stay closed to them
        // (docs/frontend.md).
        var proxy = await ServiceProxy.StartAsync(
            new ServiceProxyOptions
            {
                Urls = [_options.ServiceProxyUrl],
                Backend = backend,
                FunctionKeys = _serviceKeys,
                ManifestOfKey = ManifestOfKey,
                FunctionAt = async (address, ct) => (await runtimeApiRegistry.FindAsync(address, RuntimeApiServer.RegistrationGrace, ct))?.Function,
            },
            cancellationToken);
        _owned.Add(proxy);
        var proxyUrl = proxy.Addresses[0].ToString().TrimEnd('/');
        var proxiedServices = _options.Services.Keys.Append(ServiceTarget.LambdaService).Distinct().ToDictionary(service => service, _ => proxyUrl, StringComparer.Ordinal);
        List<int> servicePorts = [runtimeApi.Addresses[0].Port, proxy.Addresses[0].Port];

        if (_options.S3Endpoint is { } remote)
        {
            // Baseline sandboxes reach the remote store through the host (routed and masqueraded to that endpoint only).
            var endpoint = new Uri(remote);
            await _driver.RestrictSandboxTrafficAsync(servicePorts, new IPEndPoint(IPAddress.Parse(endpoint.Host), endpoint.Port), cancellationToken);
        }
        else
        {
            await _driver.RestrictSandboxTrafficAsync([.. servicePorts, new Uri(sandboxStore).Port], null, cancellationToken);
        }

        _registry = new FunctionRegistry(_options.FunctionsDirectory, _options.MaxFunctionCpus, _driver.WhyHostCannotRun);
        LoadProblems = _registry.Load();
        foreach (var function in _registry.All)
        {
            await RegisterKeyAsync(function, cancellationToken);
        }

        _metrics = new NodeMetrics(() => _pool.Counts(), () => _pool.Waiting + _events.Pending, () => backend.WriteBack?.Stats, () => backend.PrefetchStats.Snapshot());
        _exporter = new PrometheusExporter(_metrics.Meter);
        var rootfs = _imagePath;
        _pool = new InstancePool(
            _driver,
            _ => Task.FromResult(rootfs),
            [
                new RuntimeApiTransportFactory(runtimeApiRegistry, runtimeApiHost, sandboxStore, KeyOf, proxiedServices),
                new ChannelTransportFactory(channels, backend),
            ],
            new PoolOptions
            {
                MaxInstancesPerFunction = _options.MaxInstancesPerFunction,
                MaxInstancesPerNode = _options.MaxInstancesPerNode,
                KeepAlive = TimeSpan.FromSeconds(_options.KeepAliveSeconds),
                InitTimeout = TimeSpan.FromSeconds(_options.InitTimeoutSeconds),
                MemoryMbPerCpu = _options.MemoryMbPerCpu,
                SandboxSliceNanoseconds = _options.SandboxSliceMicroseconds * 1000,
                InstanceIdPrefix = InstancePrefix,
            },
            _metrics,
            _logs);
        _owned.Add(_pool);

        _events = new EventQueue(_options.EventsDirectory, _options.EventWorkers, RunEventAsync, (long)_options.EventQueueMaxMiB << 20, (long)_options.EventQueueMaxMiB << 19);
        _owned.Add(_events);

        progress?.Report("starting the node API");
        var api = await NodeApi.StartAsync([_options.ApiUrl], this, cancellationToken);
        _owned.Add(api);
        ApiAddress = api.Addresses[0];

        // Signed with the admin key, which the API's signature check takes; the API is on loopback, the backend in this
        // process.
        services.TryAdd(ServiceTarget.LambdaService, new ServiceEndpoint
        {
            Url = ApiAddress.GetLeftPart(UriPartial.Authority),
            Region = LambdaJson.Region,
            AccessKey = AdminKey.AccessKeyId,
            SecretKey = AdminKey.SecretAccessKey,
        });

        // Only now: an event replayed from the spool may invoke another function, through the endpoint just added.
        _events.Start();
    }

    /// <summary>How long an Event invocation waits for room at its function's (or the node's) limit before it is deferred.</summary>
    internal static readonly TimeSpan EventWaitAtLimit = TimeSpan.FromSeconds(1);

    // Null when the event is done; else when it runs again: after a failed run (as Lambda retries one), or when it found
    // no room or no sandbox, with back-off until it is eventMaxAgeSeconds old (Lambda retries those for 6 hours; it was
    // tried three times in 3 s and then dropped, though its 202 had been sent).
    private async Task<EventRerun?> RunEventAsync(QueuedEvent queued, CancellationToken cancellationToken)
    {
        if (!_registry.TryGet(queued.Function, out var function))
        {
            // The node's log, not the function's: its log file is closed once it is removed.
            Console.Error.WriteLine($"nexus: event invocation {queued.RequestId} of {queued.Function} dropped: the function is not deployed");
            return null;
        }

        try
        {
            // Waits at the concurrency limit for a moment only, then is deferred with back-off (Lambda returns a throttled
            // event to its queue and retries it, 1 s doubling to 5 minutes): waiting out the function's timeout held one of
            // the few workers, and every other function's events queued behind a function at its limit.
            var request = new InvocationRequest(queued.RequestId, queued.TraceId) { WaitsAtLimit = true, WaitAtLimitAtMost = EventWaitAtLimit };
            var outcome = await _pool.InvokeAsync(function, queued.Payload, request, cancellationToken);
            var retries = Math.Min(function.Manifest.EventRetries, _options.EventRetryDelays.Count);
            if (outcome.Outcome != "success" && queued.Attempt <= retries)
            {
                var pause = _options.EventRetryDelays[queued.Attempt - 1];
                _logs.Write(function.Name, "node", queued.RequestId, $"event invocation finished: {outcome.Outcome} (attempt {queued.Attempt} of {retries + 1}); runs again in {pause.TotalSeconds:0.##} s");
                return new EventRerun(pause);
            }

            _logs.Write(function.Name, "node", queued.RequestId, $"event invocation finished: {outcome.Outcome}" + (queued.Attempt > 1 ? $" (attempt {queued.Attempt} of {retries + 1})" : ""));
            return null;
        }
        catch (Exception e) when (e is ThrottledException or Pool.SandboxStartException)
        {
            // Its age counts from its acknowledgement: the spool file is written once, before the 202, and survives restarts.
            var age = DateTime.UtcNow - File.GetLastWriteTimeUtc(queued.SpoolPath);
            var maxAge = TimeSpan.FromSeconds(_options.EventMaxAgeSeconds);
            if (EventDeferral.Next(queued.Deferrals, age, maxAge) is { } rerun)
            {
                _logs.Write(function.Name, "node", queued.RequestId, $"event invocation could not run: {e.Message}; runs again in {rerun.Pause.TotalSeconds:0} s (queued {age.TotalSeconds:0} s ago, kept up to {maxAge.TotalSeconds:0} s)");
                return rerun;
            }

            _logs.Write(function.Name, "node", queued.RequestId, $"event invocation dropped: {e.Message}; it could not run for {age.TotalSeconds:0} s (eventMaxAgeSeconds {maxAge.TotalSeconds:0})");
            return null;
        }
    }

    private async Task RetireThenPruneAsync(string name, DeployedFunction? replacement)
    {
        try
        {
            await _pool.RetireAsync(name, replacement);
            foreach (var revision in _registry.Prune(name))
            {
                _driver.ReleaseTemplate(InstancePool.TemplateKey(name, revision));
            }

            if (replacement is null && !_registry.TryGet(name, out _))
            {
                UnregisterKey(name);
                _logs.Close(name);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logs.Write(name, "node", null, "could not remove old code: " + e.Message);
        }
    }
}
