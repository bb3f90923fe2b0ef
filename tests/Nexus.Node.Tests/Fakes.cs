// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Collections.Concurrent;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using Nexus.Functions;
using Nexus.Node.Logs;
using Nexus.Node.Metrics;
using Nexus.Node.Pool;
using Nexus.Node.Transports;
using Nexus.Sandbox;

namespace Nexus.Node.Tests;

/// <summary>A sandbox driver that runs nothing: instances live until the test makes them exit or the pool stops them.</summary>
internal sealed class FakeDriver : ISandboxDriver
{
    public ConcurrentQueue<FakeInstance> Started { get; } = new();

    public Exception? FailStart { get; set; }

    public string Name => "fake";

    public int Running => Started.Count(i => !i.Stopped);

    /// <summary>Every instance's disposal waits for this (a slow teardown: runc delete, a netns going, under load).</summary>
    public Task StopGate { get; set; } = Task.CompletedTask;

    public Task PrepareHostAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<ISandboxInstance> StartAsync(SandboxSpec spec, CancellationToken cancellationToken)
    {
        if (FailStart is { } e)
        {
            throw e;
        }

        var instance = new FakeInstance(spec, this);
        Started.Enqueue(instance);
        return Task.FromResult<ISandboxInstance>(instance);
    }
}

internal sealed class FakeInstance(SandboxSpec spec, FakeDriver? driver = null) : ISandboxInstance
{
    private readonly TaskCompletionSource<SandboxExit> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public SandboxSpec Spec { get; } = spec;

    public bool Stopped { get; private set; }

    public string InstanceId => Spec.InstanceId;

    public IPAddress? Address => IPAddress.Loopback;

    public Task<SandboxExit> Exited => _exited.Task;

    public int Pid => 1;

    public void Exit(SandboxExit exit) => _exited.TrySetResult(exit);

    public SandboxMemory ReadMemory() => new(20 << 20, 10 << 20, 8 << 20, 12 << 20);

    public TimeSpan ReadCpuTime() => TimeSpan.Zero;

    /// <summary>The CPU limit the pool set after the instance's init (null: never set; it runs on <see cref="SandboxSpec.Cpus"/>).</summary>
    public double? CpuLimit { get; private set; }

    public bool TrySetCpuLimit(double cpus)
    {
        CpuLimit = cpus;
        return true;
    }

    /// <summary>
    /// Output the fake sandbox wrote that its output reader has not taken in yet: it reaches the spec's OnOutput only
    /// when the pool drains the instance (as a real pump that is behind the sandbox).
    /// </summary>
    public ConcurrentQueue<string> UnreadOutput { get; } = new();

    public void DrainOutput(TimeSpan limit)
    {
        while (UnreadOutput.TryDequeue(out var line))
        {
            Spec.OnOutput?.Invoke(line, true);
        }
    }

    public Task StopAsync()
    {
        Stopped = true;
        _exited.TrySetResult(new SandboxExit(null, 9, false));
        return Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await (driver?.StopGate ?? Task.CompletedTask);
    }
}

/// <summary>What a fake runtime does with one invocation.</summary>
internal delegate Task<InvocationResult> FakeHandler(Invocation invocation, FakeTransport transport, CancellationToken cancellationToken);

internal sealed class FakeTransport(FakeTransportFactory factory, string instanceId) : IInvocationTransport
{
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _idleReleases;

    public string InstanceId { get; } = instanceId;

    public FakeInstance? Instance { get; private set; }

    public SandboxNetwork Network => SandboxNetwork.LoopbackOnly;

    public IReadOnlyDictionary<string, string> Environment { get; } = new Dictionary<string, string> { ["FAKE_TRANSPORT"] = "1" };

    public IReadOnlyList<SafeHandle> PassedFds => [];

    public Task Ready => _ready.Task;

    /// <summary>Ends the init (for a factory that is not <see cref="FakeTransportFactory.ReadyOnAttach"/>).</summary>
    public void MarkReady() => _ready.TrySetResult();

    public InvocationResult? InitError { get; set; }

    public bool Disposed { get; private set; }

    /// <summary>Payloads handed to <see cref="BeginPrefetch"/>, and whether the sandbox was running then.</summary>
    public List<(string Payload, bool SandboxRunning)> Prefetches { get; } = [];

    public void BeginPrefetch(Nexus.Backend.Prefetch.PrefetchHints hints)
    {
        lock (Prefetches)
        {
            Prefetches.Add((System.Text.Encoding.UTF8.GetString(hints.Event.Span), Instance is not null));
        }
    }

    /// <summary>How many times the pool asked this idle instance to give memory back.</summary>
    public int IdleReleases => Volatile.Read(ref _idleReleases);

    public void ReleaseIdleMemory() => Interlocked.Increment(ref _idleReleases);

    public Task AttachAsync(ISandboxInstance instance, CancellationToken cancellationToken)
    {
        Instance = (FakeInstance)instance;
        factory.OnAttach?.Invoke(this);
        if (factory.ReadyOnAttach)
        {
            _ready.TrySetResult();
        }

        return Task.CompletedTask;
    }

    public Task<InvocationResult> InvokeAsync(Invocation invocation, CancellationToken cancellationToken) =>
        factory.Handler(invocation, this, cancellationToken).WaitAsync(cancellationToken);

    public ValueTask DisposeAsync()
    {
        Disposed = true;
        return ValueTask.CompletedTask;
    }
}

internal sealed class FakeTransportFactory : IInvocationTransportFactory
{
    public IoMode Mode { get; init; } = IoMode.Baseline;

    public bool ReadyOnAttach { get; set; } = true;

    public Action<FakeTransport>? OnAttach { get; set; }

    /// <summary>Default: echo the event back.</summary>
    public FakeHandler Handler { get; set; } = (invocation, _, _) => Task.FromResult(new InvocationResult(invocation.Payload.ToArray(), null));

    public ConcurrentQueue<FakeTransport> Created { get; } = new();

    public Task<IInvocationTransport> CreateAsync(DeployedFunction function, string instanceId, CancellationToken cancellationToken)
    {
        var transport = new FakeTransport(this, instanceId);
        Created.Enqueue(transport);
        return Task.FromResult<IInvocationTransport>(transport);
    }
}

/// <summary>A pool over the fakes, with a temp log directory.</summary>
internal sealed class PoolFixture : IAsyncDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nexus-pool-").FullName;

    public PoolFixture(PoolOptions? options = null, TimeProvider? time = null)
    {
        Logs = new FunctionLogs(_dir);
        Metrics = new NodeMetrics(() => Pool!.Counts(), () => Pool!.Waiting);
        Exporter = new PrometheusExporter(Metrics.Meter);
        Pool = new InstancePool(Driver, _ => Task.FromResult("/rootfs"), [Transports], options ?? new PoolOptions(), Metrics, Logs, time);
    }

    public FakeDriver Driver { get; } = new();

    public FakeTransportFactory Transports { get; } = new();

    public FunctionLogs Logs { get; }

    public NodeMetrics Metrics { get; }

    public PrometheusExporter Exporter { get; }

    public InstancePool Pool { get; }

    public static DeployedFunction Function(string name = "f", int timeoutSeconds = 30, string revision = "r1", int memory = 128) =>
        new(new FunctionManifest { Name = name, Handler = "handler.handler", Io = IoMode.Baseline, Timeout = TimeSpan.FromSeconds(timeoutSeconds), MemoryMb = memory }, "/code/" + name, revision, "sha", 10, DateTimeOffset.UnixEpoch);

    /// <summary>Makes every invocation wait for <c>Release</c> before it answers its payload; <c>Started</c> completes when the first one runs.</summary>
    public (Task Started, TaskCompletionSource Release) HoldInvocations()
    {
        var release = new TaskCompletionSource();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Transports.Handler = async (inv, _, ct) =>
        {
            started.TrySetResult();
            await release.Task.WaitAsync(ct);
            return new InvocationResult(inv.Payload.ToArray(), null);
        };
        return (started.Task, release);
    }

    /// <summary>Invokes as the Invoke API does: throttled at once at the concurrency limit unless <paramref name="waitsAtLimit"/> (as the event queue's).</summary>
    public Task<InvocationOutcome> InvokeAsync(DeployedFunction function, string json = """{"n":1}""", bool waitsAtLimit = false) =>
        Pool.InvokeAsync(function, Encoding.UTF8.GetBytes(json), new InvocationRequest(Guid.NewGuid().ToString()) { WaitsAtLimit = waitsAtLimit }, CancellationToken.None);

    public async ValueTask DisposeAsync()
    {
        await Pool.DisposeAsync();
        Exporter.Dispose();
        Metrics.Dispose();
        Logs.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
