// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net;
using BenchmarkDotNet.Attributes;
using Nexus.Backend;
using Nexus.Channel;
using Nexus.Channel.Services;
using Nexus.Functions;
using Nexus.Node;
using Nexus.Node.Logs;
using Nexus.Node.Metrics;
using Nexus.Node.Pool;
using Nexus.Node.Transports;
using Nexus.Node.Transports.NexusChannel;
using Nexus.Sandbox;

namespace Nexus.Benchmarks;

/// <summary>
/// The node's own path of a warm nexus-mode invocation, with no sandbox process and no handler: the pool's entry,
/// the prefetch's search of the event, the hand-over through the channel's service host, the result's arrival, the
/// log lines, REPORT and metrics, the release. The runtime is <see cref="RuntimeEnd"/>, a C# thread that answers each
/// event at once, so the figure is the node's overhead per invocation plus two eventfd wake-ups (compare
/// <see cref="ChannelBenchmarks.RoundTrip64Bytes"/>). The event is hello-s3's S3 record; the function has no read
/// grant, so the prefetch finds its input denied and fetches nothing (a fetch is storage time, not the node's).
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 15)]
public class InvokePathBenchmarks
{
    private static readonly byte[] s_event = """
        {"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1","eventName":"ObjectCreated:Put","s3":{"s3SchemaVersion":"1.0","bucket":{"name":"nexus-examples","arn":"arn:aws:s3:::nexus-examples"},"object":{"key":"inputs/hello-1kib.bin"}}}]}
        """u8.ToArray();

    private readonly string _logs = Directory.CreateTempSubdirectory("nexus-invoke-bench-").FullName;
    private ChannelServiceHost _host = null!;
    private NexusBackend _backend = null!;
    private FunctionLogs _functionLogs = null!;
    private NodeMetrics _metrics = null!;
    private PrometheusExporter _exporter = null!;
    private InstancePool _pool = null!;
    private DeployedFunction _function = null!;
    private long _requests;

    /// <summary>Whether the function prefetches (the event is searched for inputs on every invocation).</summary>
    [Params(false, true)]
    public bool Prefetch { get; set; }

    [Benchmark]
    public async Task<int> WarmInvoke()
    {
        var outcome = await _pool.InvokeAsync(_function, s_event, new InvocationRequest(RequestId()), CancellationToken.None);
        return outcome.Outcome == "success" ? outcome.Result.Payload.Length : throw new InvalidOperationException(outcome.Outcome);
    }

    [GlobalSetup]
    public void Setup()
    {
        _host = new ChannelServiceHost();
        _backend = new NexusBackend(new NexusBackendOptions { ServiceUrl = "http://127.0.0.1:9", AccessKey = "benchmark", SecretKey = "benchmark", Log = _ => { } });
        _functionLogs = new FunctionLogs(_logs);
        _metrics = new NodeMetrics(() => _pool.Counts(), () => _pool.Waiting);
        _exporter = new PrometheusExporter(_metrics.Meter);
        _pool = new InstancePool(new RuntimeDriver(), _ => Task.FromResult("/"), [new ChannelTransportFactory(_host, _backend)], new PoolOptions(), _metrics, _functionLogs);
        var manifest = new FunctionManifest { Name = "hello-s3", Handler = "handler.handler", Io = IoMode.Nexus, Prefetch = Prefetch, Timeout = TimeSpan.FromSeconds(30), MemoryMb = 128 };
        _function = new DeployedFunction(manifest, "/var/empty", "r1", "sha", 1, DateTimeOffset.UnixEpoch);

        // The first invocation starts the instance; every measured one finds it warm.
        WarmInvoke().GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _pool.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _backend.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _host.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _exporter.Dispose();
        _metrics.Dispose();
        _functionLogs.Dispose();
        Directory.Delete(_logs, recursive: true);
    }

    private string RequestId() => "bench-" + Interlocked.Increment(ref _requests).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Starts a <see cref="RuntimeEnd"/> on the descriptors the pool hands a sandbox.</summary>
    private sealed class RuntimeDriver : ISandboxDriver
    {
        public string Name => "benchmark";

        public Task PrepareHostAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task<ISandboxInstance> StartAsync(SandboxSpec spec, CancellationToken cancellationToken) =>
            Task.FromResult<ISandboxInstance>(new RuntimeInstance(spec.InstanceId, RuntimeEnd.Start(spec.PassedFds, new ChannelLayout(new ChannelOptions()))));
    }

    private sealed class RuntimeInstance : ISandboxInstance
    {
        private readonly TaskCompletionSource<SandboxExit> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public RuntimeInstance(string instanceId, RuntimeEnd runtime)
        {
            InstanceId = instanceId;

            // A runtime whose loop ended (the channel closed, or it failed) is a sandbox that exited.
            runtime.Exited.ContinueWith(_ => _exited.TrySetResult(new SandboxExit(0, null, false)), TaskScheduler.Default);
        }

        public string InstanceId { get; }

        public IPAddress? Address => null;

        public Task<SandboxExit> Exited => _exited.Task;

        public int Pid => Environment.ProcessId;

        // The runtime runs in this process: it has no output stream of its own to take in.
        public void DrainOutput(TimeSpan limit)
        {
        }

        public SandboxMemory ReadMemory() => new(0, 0, 0, 0);

        public TimeSpan ReadCpuTime() => TimeSpan.Zero;

        public Task StopAsync()
        {
            _exited.TrySetResult(new SandboxExit(0, null, false));
            return Task.CompletedTask;
        }

        // The runtime's loop ends when the transport closes the channel, after this.
        public async ValueTask DisposeAsync() => await StopAsync();
    }
}
