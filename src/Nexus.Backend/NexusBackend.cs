// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Collections.Concurrent;
using Amazon.Runtime;
using Amazon.S3;
using Nexus.Backend.Storage;
using Nexus.Backend.WriteBack;
using Nexus.Channel.Services;
using Nexus.Functions;

namespace Nexus.Backend;

/// <summary>
/// The node's one storage backend: one S3 client (pooled connections, the only credentials), the write-back spool, and a
/// bounded budget of concurrent storage requests shared fairly between instances (in-flight caps per instance and
/// per function) and between functions (by backend time used, <see cref="FairShareGate"/>). It serves each instance's channel
/// through a <see cref="StorageService"/> registered on that channel's session.
/// </summary>
public sealed partial class NexusBackend : IAsyncDisposable
{
    private readonly ConcurrentDictionary<StorageService, byte> _services = new();
    private readonly Action<string> _log;
    private volatile bool _stopping;

    public NexusBackend(NexusBackendOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.MaxInFlightPerInstance < 1 || options.MaxInFlightPerInstance > options.MaxConcurrentRequests)
        {
            throw new ArgumentException($"MaxInFlightPerInstance ({options.MaxInFlightPerInstance}) must be in [1, MaxConcurrentRequests ({options.MaxConcurrentRequests})]", nameof(options));
        }

        if (options.MaxInFlightPerFunction < options.MaxInFlightPerInstance || options.MaxInFlightPerFunction > options.MaxConcurrentRequests)
        {
            throw new ArgumentException($"MaxInFlightPerFunction ({options.MaxInFlightPerFunction}) must be in [MaxInFlightPerInstance ({options.MaxInFlightPerInstance}), MaxConcurrentRequests ({options.MaxConcurrentRequests})]", nameof(options));
        }

        Options = options;
        InputCache = options.RevalidatePrefetches && options.PrefetchCacheBytes > 0 ? new Prefetch.ObjectCache(options.PrefetchCacheBytes) : null;
        var config = new AmazonS3Config
        {
            ServiceURL = options.ServiceUrl,
            ForcePathStyle = true,
            AuthenticationRegion = options.Region,
            UseHttp = options.ServiceUrl.StartsWith("http:", StringComparison.OrdinalIgnoreCase),
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            MaxErrorRetry = 3,
            MaxConnectionsPerServer = options.MaxConnections,
            LogMetrics = false,
            LogResponse = false,
            DisableLogging = true,
        };
        S3 = new AmazonS3Client(new BasicAWSCredentials(options.AccessKey, options.SecretKey), config);

        // The client installs its rule-set provider when it is created; each request reads it from the config. The
        // backend's own case (path-style, the configured endpoint) is answered without running or compiling the rules.
        config.EndpointProvider = new PathStyleEndpointProvider(config.ServiceURL, options.Region, new CachedEndpointProvider(config.EndpointProvider));
        Workers = new FairShareGate(options.MaxConcurrentRequests, options.MaxInFlightPerFunction, options.FairShareHalfLife);
        Http = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            AutomaticDecompression = System.Net.DecompressionMethods.None,
            MaxConnectionsPerServer = options.MaxConnections,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
        })
        {
            Timeout = TimeSpan.FromMinutes(5),
        };
        WaitingHttp = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            AutomaticDecompression = System.Net.DecompressionMethods.None,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        Direct = new DirectS3(options, Http);
        Buckets = new KnownBuckets(Direct);
        _log = options.Log ?? (line => Console.Error.WriteLine("nexus: " + line));
        if (options.SpoolDirectory is { } spool)
        {
            WriteBack = new WriteBackQueue(S3, Direct, Buckets, spool, options.MaxSpoolBytes, options.Uploaders, ObjectChanged, _log, options.ChunkedUploads);
        }
    }

    public NexusBackendOptions Options { get; }

    /// <summary>Instances whose storage calls this backend serves now.</summary>
    public int AttachedCount => _services.Count;

    /// <summary>Acknowledged writes waiting for their upload; null when the backend has no spool (all writes are synchronous).</summary>
    public WriteBackQueue? WriteBack { get; }

    internal IAmazonS3 S3 { get; }

    /// <summary>Buckets known to exist, asked before the first spooled put to each.</summary>
    internal KnownBuckets Buckets { get; }

    /// <summary>The global and per-function request budgets, the global one shared between functions by the backend time each used.</summary>
    internal FairShareGate Workers { get; }

    /// <summary>
    /// The connections of the requests the backend signs itself (pooled, no redirects, no cookies): the generic path's
    /// calls to the services of <see cref="NexusBackendOptions.Services"/>, and <see cref="Direct"/>'s to the store.
    /// </summary>
    internal HttpClient Http { get; }

    /// <summary>
    /// The connections of calls that wait on other work of the node (synchronous Lambda invokes): no connection cap,
    /// so callers waiting never hold the connections their callees' own invokes need, and no client timeout (each call
    /// sets its own, <see cref="Services.ServiceCalls.MaxInvokeWait"/>).
    /// </summary>
    internal HttpClient WaitingHttp { get; }

    /// <summary>The backend's own hot storage requests, sent without the SDK's pipeline.</summary>
    internal DirectS3 Direct { get; }

    /// <summary>
    /// Serves the storage operations of <paramref name="session"/> (one instance) under <paramref name="manifest"/>'s
    /// grants: registers a <see cref="StorageService"/> on it, to be started by the session's owner.
    /// </summary>
    public StorageService Serve(ChannelSession session, FunctionManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(manifest);
        ObjectDisposedException.ThrowIf(_stopping, this);
        var service = new StorageService(this, session, manifest);
        session.Register(service);
        _services[service] = 0;
        session.Closing.Register(service.Detach);
        return service;
    }

    public async ValueTask DisposeAsync()
    {
        if (_stopping)
        {
            return;
        }

        _stopping = true;
        foreach (var service in _services.Keys)
        {
            service.Session.Close("the backend stopped");
        }

        if (WriteBack is not null)
        {
            var pending = WriteBack.Stats.Pending;
            var left = await WriteBack.DrainAsync(Options.DrainTimeout).ConfigureAwait(false);
            await WriteBack.DisposeAsync().ConfigureAwait(false);
            if (pending > 0 || left > 0)
            {
                _log($"write-back: drained {Math.Max(0, pending - left)} upload(s); {left} left in the spool for the next start");
            }
        }

        S3.Dispose();
        Http.Dispose();
        WaitingHttp.Dispose();
    }

    internal void Forget(StorageService service) => _services.TryRemove(service, out _);
}
