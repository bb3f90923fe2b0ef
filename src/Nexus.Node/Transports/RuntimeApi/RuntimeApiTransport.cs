// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using Nexus.Backend.Prefetch;
using Nexus.Sandbox;

namespace Nexus.Node.Transports.RuntimeApi;

/// <summary>
/// Baseline transport of one instance: invocations wait in a mailbox until the runtime's long-poll
/// <c>GET .../invocation/next</c> takes them over the instance's veth; its response or error POST completes them.
/// </summary>
public sealed class RuntimeApiTransport : IInvocationTransport
{
    private readonly RuntimeApiRegistry _registry;
    private readonly Channel<Invocation> _mailbox = System.Threading.Channels.Channel.CreateBounded<Invocation>(1);
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _lock = new();
    private TaskCompletionSource<InvocationResult>? _pending;
    private string? _pendingId;
    private InvocationTimeline? _pendingTimeline;
    private IPAddress? _address;

    public RuntimeApiTransport(RuntimeApiRegistry registry, string function, IReadOnlyDictionary<string, string> environment)
    {
        _registry = registry;
        Function = function;
        Environment = environment;
    }

    /// <summary>The function this instance runs: the caller the node's signing proxy holds a request's key against.</summary>
    public string Function { get; }

    public SandboxNetwork Network => SandboxNetwork.Veth;

    public IReadOnlyDictionary<string, string> Environment { get; }

    public IReadOnlyList<SafeHandle> PassedFds => [];

    public Task Ready => _ready.Task;

    public InvocationResult? InitError { get; private set; }

    // 1 while a result, error or init error of this instance is being read (RuntimeApiServer).
    private int _readingResult;

    /// <summary>
    /// Takes the instance's one right to have a result, error or init error read (each may be 6 MiB buffered in the
    /// node); false when one is being read already. <see cref="EndResult"/> gives it back.
    /// </summary>
    internal bool TryBeginResult() => Interlocked.Exchange(ref _readingResult, 1) == 0;

    internal void EndResult() => Volatile.Write(ref _readingResult, 0);

    public Task AttachAsync(ISandboxInstance instance, CancellationToken cancellationToken)
    {
        _address = instance.Address ?? throw new InvalidOperationException($"instance {instance.InstanceId} has no network address; baseline mode needs a veth sandbox");
        _registry.Register(_address, this);
        return Task.CompletedTask;
    }

    // A baseline sandbox fetches its own inputs over its own network: the node has no part in its I/O.
    public void BeginPrefetch(PrefetchHints hints)
    {
    }

    // The Runtime API holds nothing per instance between invocations; the runtime trims its own heap when idle.
    public void ReleaseIdleMemory()
    {
    }

    public Task<InvocationResult> InvokeAsync(Invocation invocation, CancellationToken cancellationToken)
    {
        var pending = new TaskCompletionSource<InvocationResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (_pending is not null)
            {
                throw new InvalidOperationException("an invocation is already in progress on this instance");
            }

            _pending = pending;
            _pendingId = invocation.RequestId;
            _pendingTimeline = invocation.Timeline;
        }

        if (!_mailbox.Writer.TryWrite(invocation))
        {
            lock (_lock)
            {
                _pending = null;
                _pendingId = null;
                _pendingTimeline = null;
            }

            throw new InvalidOperationException("the instance's mailbox is full");
        }

        return pending.Task.WaitAsync(cancellationToken);
    }

    public ValueTask DisposeAsync()
    {
        if (_address is not null)
        {
            _registry.Unregister(_address, this);
        }

        _mailbox.Writer.TryComplete();
        lock (_lock)
        {
            _pending?.TrySetException(new ObjectDisposedException(nameof(RuntimeApiTransport), "the instance stopped"));
            _pending = null;
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>The runtime's long-poll: marks the instance ready (its init is done) and waits for the next invocation.</summary>
    internal async ValueTask<Invocation> NextAsync(CancellationToken cancellationToken)
    {
        _ready.TrySetResult();
        var invocation = await _mailbox.Reader.ReadAsync(cancellationToken);
        invocation.Timeline.Handed = Stopwatch.GetTimestamp();
        return invocation;
    }

    /// <summary>Completes the pending invocation; false when <paramref name="requestId"/> is not the one pending.</summary>
    internal bool Complete(string requestId, InvocationResult result)
    {
        var arrived = Stopwatch.GetTimestamp();
        TaskCompletionSource<InvocationResult>? pending;
        lock (_lock)
        {
            if (_pendingId != requestId || _pending is null)
            {
                return false;
            }

            pending = _pending;
            _pendingTimeline!.Arrived = arrived;
            _pendingTimeline.Completed = Stopwatch.GetTimestamp();
            _pending = null;
            _pendingId = null;
            _pendingTimeline = null;
        }

        pending.TrySetResult(result);
        return true;
    }

    internal void ReportInitError(InvocationResult error)
    {
        InitError = error;
        _ready.TrySetResult();
    }
}
