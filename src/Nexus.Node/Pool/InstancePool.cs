// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using Nexus.Backend;
using Nexus.Backend.Prefetch;
using Nexus.Functions;
using Nexus.Node.Logs;
using Nexus.Node.Metrics;
using Nexus.Node.Transports;
using Nexus.Sandbox;

namespace Nexus.Node.Pool;

/// <summary>
/// The node's instances, per function: reuses warm idle instances, starts new ones under concurrency (bounded per
/// function and per node, evicting idle instances of other functions when the node is full), throttles invocations
/// beyond that at once, as Lambda does, or queues them for at most their timeout when they ask to wait
/// (<see cref="InvocationRequest.WaitsAtLimit"/>: the event queue's), enforces timeouts by killing the instance, and reaps idle instances after
/// the keep-alive. An instance that failed an invocation (timeout, crash, OOM) is never used again.
/// One lock guards all bookkeeping; sandbox starts and stops run outside it. This file is the scheduling; launching and
/// stopping sandboxes is in InstancePool.Launching.cs, running one invocation and its log lines in InstancePool.Running.cs,
/// retiring, reaping and shutting down in InstancePool.Retiring.cs.
/// </summary>
public sealed partial class InstancePool : IAsyncDisposable
{
    /// <summary>How long an instance is idle before it is checked for being stopped when it is handed an invocation.</summary>
    internal static readonly TimeSpan StoppedCheckAfterIdle = TimeSpan.FromSeconds(1);

    private readonly ISandboxDriver _driver;
    private readonly Func<CancellationToken, Task<string>> _rootfs;
    private readonly Dictionary<IoMode, IInvocationTransportFactory> _transports;
    private readonly PoolOptions _options;
    private readonly NodeMetrics _metrics;
    private readonly FunctionLogs _logs;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, FunctionState> _functions = new(StringComparer.Ordinal);
    private readonly LinkedList<Waiter> _waiters = new();
    private readonly ConcurrentDictionary<Instance, Task> _stopping = new();
    private readonly CancellationTokenSource _shutdown = new();
    private readonly Task _reaper;
    private readonly Task _idleRelease;
    private readonly InvokeBudget _budget;
    private int _total;
    private bool _closed;

    public InstancePool(
        ISandboxDriver driver,
        Func<CancellationToken, Task<string>> rootfs,
        IEnumerable<IInvocationTransportFactory> transports,
        PoolOptions options,
        NodeMetrics metrics,
        FunctionLogs logs,
        TimeProvider? time = null)
    {
        _driver = driver;
        _rootfs = rootfs;
        _transports = transports.ToDictionary(t => t.Mode);
        _options = options;
        _metrics = metrics;
        _logs = logs;
        _time = time ?? TimeProvider.System;
        _budget = new InvokeBudget(_time);
        _reaper = ReapLoopAsync();
        _idleRelease = _options.IdleMemoryRelease > TimeSpan.Zero ? ReleaseIdleLoopAsync() : Task.CompletedTask;
    }

    /// <summary>Instances by function and state, for the nexus_instances gauge.</summary>
    public IEnumerable<(string Function, string State, int Count)> Counts()
    {
        foreach (var s in Status())
        {
            yield return (s.Function, "starting", s.Starting);
            yield return (s.Function, "idle", s.Idle);
            yield return (s.Function, "busy", s.Busy);
        }
    }

    public IReadOnlyList<FunctionPoolStatus> Status()
    {
        lock (_lock)
        {
            return [.. _functions.Values
                .Where(f => f.Instances.Count > 0 || f.Waiting > 0)
                .OrderBy(f => f.Name, StringComparer.Ordinal)
                .Select(f => new FunctionPoolStatus(
                    f.Name,
                    f.Instances.Count(i => i.State == InstanceState.Starting),
                    f.Idle.Count,
                    f.Instances.Count(i => i.State == InstanceState.Busy),
                    f.Waiting))];
        }
    }

    /// <summary>
    /// The function revisions the pool holds instances of, and each function's current one: what a fork template's key
    /// (<see cref="TemplateKey"/>) may name. A retired revision is here while an instance of it still runs or stops.
    /// </summary>
    public IReadOnlyCollection<DeployedFunction> Revisions()
    {
        lock (_lock)
        {
            return [.. _functions.Values
                .SelectMany(f => f.Instances.Concat(f.Stopping).Select(i => i.Function).Append(f.Current))
                .OfType<DeployedFunction>()
                .DistinctBy(f => (f.Name, f.Revision))];
        }
    }

    /// <summary>Invocations waiting for an instance.</summary>
    public int Waiting
    {
        get
        {
            lock (_lock)
            {
                return _waiters.Count;
            }
        }
    }

    /// <summary>
    /// Runs one invocation. Throws <see cref="ThrottledException"/> when the function or the node is at its concurrency
    /// limit (at once, or when no instance became free within the function's timeout for a request that
    /// <see cref="InvocationRequest.WaitsAtLimit"/>) and <see cref="SandboxStartException"/> when the node could not
    /// start a sandbox.
    /// </summary>
    public async Task<InvocationOutcome> InvokeAsync(DeployedFunction function, ReadOnlyMemory<byte> payload, InvocationRequest request, CancellationToken cancellationToken)
    {
        var requestId = request.RequestId;
        var started = _time.GetTimestamp();
        var timeline = new InvocationTimeline { Entered = Stopwatch.GetTimestamp() };
        var waited = await _budget.EnterAsync(function.Name, InvokeRate(function), cancellationToken);
        var charged = TimeSpan.Zero;
        try
        {
            // Before the pool is asked: the event's inputs are searched for on another thread while an instance is found.
            var hints = PrefetchHints.Start(function.Manifest, payload);
            timeline.HintsSearched = Stopwatch.GetTimestamp();
            var (instance, cold) = await AcquireAsync(function, request, cancellationToken);
            timeline.Acquired = Stopwatch.GetTimestamp();
            if (cold)
            {
                // Not cancellable: the instance is reserved, and StartAsync is what hands a reservation back.
                if (RestartDelay(function.Name) is var backoff && backoff > TimeSpan.Zero)
                {
                    await Task.Delay(backoff, _time, CancellationToken.None);
                }

                var failure = await StartAsync(instance, requestId, hints);
                if (failure is not null)
                {
                    var duration = _time.GetElapsedTime(started);
                    _metrics.Invocation(function.Name, "init_error", cold: true, duration);
                    return new InvocationOutcome(failure, "init_error", true, duration, instance.Id, instance.EndCapture()) { Timeline = timeline };
                }
            }

            // The invoke budget is charged from here: a cold start is not (see InvokeBudget). Below the least charge
            // the meter reads no thread CPU clock: whatever it measures there is charged the least charge anyway.
            var meter = CpuMeter.Start(_options.MinInvocationCharge, _budget.LateCharges(function.Name, _options.MinInvocationCharge));
            try
            {
                if (!cold)
                {
                    instance.Transport!.BeginPrefetch(hints);
                    timeline.PrefetchBegun = Stopwatch.GetTimestamp();
                }

                return await RunAsync(instance, payload, request, cold, started, timeline);
            }
            finally
            {
                charged = meter.Stop();
                charged = charged > _options.MinInvocationCharge ? charged : _options.MinInvocationCharge;
            }
        }
        finally
        {
            _budget.Exit(function.Name, charged);
            _metrics.InvokePath(function.Name, charged, waited);
        }
    }

    /// <summary>The node CPU charged to <paramref name="function"/>'s invoke budget and the time its invocations waited for it.</summary>
    public (TimeSpan Charged, TimeSpan Waited) InvokePathTotals(string function) => _budget.Totals(function);

    /// <summary>
    /// The node CPU (in CPUs) <paramref name="function"/>'s invocations may use on the invoke path while other functions
    /// are present: its CPU share per instance it has (see <see cref="InvokeBudget"/>).
    /// </summary>
    public double InvokeRate(DeployedFunction function)
    {
        lock (_lock)
        {
            var instances = _functions.TryGetValue(function.Name, out var state) ? state.Instances.Count : 0;
            return CpuShare(function.Manifest) * Math.Max(1, instances);
        }
    }

    /// <summary>How long a new instance of <paramref name="function"/> waits before it starts (see <see cref="PoolOptions.RestartBackoff"/>).</summary>
    public TimeSpan RestartDelay(string function)
    {
        lock (_lock)
        {
            if (!_functions.TryGetValue(function, out var state) || state.FailuresInARow < 2)
            {
                return TimeSpan.Zero;
            }

            var doubled = _options.RestartBackoff.Ticks << Math.Min(state.FailuresInARow - 2, 20);
            return TimeSpan.FromTicks(Math.Min(doubled, _options.MaxRestartBackoff.Ticks));
        }
    }

    /// <summary>The sandbox of a live instance (for measurement), or null when no such instance runs.</summary>
    public ISandboxInstance? FindSandbox(string instanceId)
    {
        lock (_lock)
        {
            return _functions.Values.SelectMany(f => f.Instances).FirstOrDefault(i => i.Id == instanceId)?.Sandbox;
        }
    }

    private async Task<(Instance Instance, bool Cold)> AcquireAsync(DeployedFunction function, InvocationRequest request, CancellationToken cancellationToken)
    {
        Waiter waiter;
        Instance? evicted = null;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            if (!_functions.TryGetValue(function.Name, out var state))
            {
                _functions[function.Name] = state = new FunctionState(function.Name);
            }

            if (state.Current is null || state.Current.Revision != function.Revision)
            {
                state.Current = function;
            }

            while (state.Idle.Count > 0)
            {
                var warm = state.Idle[^1];
                state.Idle.RemoveAt(state.Idle.Count - 1);

                // One idle for a while may have been stopped meanwhile (SIGSTOP, a debugger): it would hold the invocation
                // until its timeout. Back-to-back calls skip the look in /proc.
                if (_time.GetUtcNow() - warm.IdleSince > StoppedCheckAfterIdle && warm.Sandbox!.IsStopped())
                {
                    _logs.Write(function.Name, warm.Id, null, "instance stopped while idle (SIGSTOP or a debugger): replaced");
                    RemoveLocked(warm);
                    BeginStop(warm, "stopped_while_idle");
                    continue;
                }

                warm.State = InstanceState.Busy;
                return (warm, false);
            }

            if (TryReserveLocked(state, out var fresh, out evicted))
            {
                if (evicted is not null)
                {
                    BeginStop(evicted, "evicted");
                }

                return (fresh, true);
            }

            if (!request.WaitsAtLimit)
            {
                _metrics.Throttled(function.Name);
                throw state.Instances.Count >= _options.MaxInstancesPerFunction
                    ? new ThrottledException(
                        $"function '{function.Name}' is at its concurrency limit: {_options.MaxInstancesPerFunction} instances (maxInstancesPerFunction), all busy or starting",
                        ThrottledException.FunctionLimit)
                    : new ThrottledException(
                        $"the node is at its concurrency limit: {_options.MaxInstancesPerNode} instances (maxInstancesPerNode), none idle to make room for '{function.Name}'",
                        ThrottledException.NodeLimit);
            }

            waiter = new Waiter(state);
            _waiters.AddLast(waiter.Node);
            state.Waiting++;
        }

        var wait = request.WaitAtLimitAtMost is { } most && most < function.Manifest.Timeout ? most : function.Manifest.Timeout;
        using var timeout = new CancellationTokenSource(wait, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token, _shutdown.Token);
        try
        {
            var instance = await waiter.Result.Task.WaitAsync(linked.Token);
            return (instance, instance.State == InstanceState.Starting);
        }
        catch (OperationCanceledException)
        {
            lock (_lock)
            {
                if (waiter.Node.List is not null)
                {
                    _waiters.Remove(waiter.Node);
                    waiter.State.Waiting--;
                    if (timeout.IsCancellationRequested)
                    {
                        _metrics.Throttled(function.Name);
                        throw new ThrottledException(
                            $"function '{function.Name}' is at its concurrency limit ({_options.MaxInstancesPerFunction} per function, {_options.MaxInstancesPerNode} per node) and no instance became free within {wait.TotalSeconds:0.##} s",
                            waiter.State.Instances.Count >= _options.MaxInstancesPerFunction ? ThrottledException.FunctionLimit : ThrottledException.NodeLimit);
                    }

                    throw;
                }
            }

            // An instance was handed over just as the wait ended: use it rather than leak it.
            var instance = await waiter.Result.Task;
            return (instance, instance.State == InstanceState.Starting);
        }
    }

    // Reserves a slot for a new instance of state's function; when the node is full, evicts the longest-idle
    // instance of any function.
    private bool TryReserveLocked(FunctionState state, out Instance fresh, out Instance? evicted)
    {
        fresh = null!;
        evicted = null;
        if (state.Instances.Count >= _options.MaxInstancesPerFunction || state.Current is null)
        {
            return false;
        }

        if (_total >= _options.MaxInstancesPerNode)
        {
            evicted = _functions.Values.SelectMany(f => f.Idle).MinBy(i => i.IdleSince);
            if (evicted is null)
            {
                return false;
            }

            RemoveLocked(evicted);
        }

        fresh = new Instance(NewInstanceId(), state.Current);
        state.Instances.Add(fresh);
        _total++;
        return true;
    }

    private void RemoveLocked(Instance instance)
    {
        var state = _functions[instance.Function.Name];
        if (state.Instances.Remove(instance))
        {
            _total--;
        }

        state.Idle.Remove(instance);
        state.Stopping.Add(instance);
        instance.State = InstanceState.Stopping;
    }

    // Gives free slots to waiting invocations, oldest first.
    private void DispatchWaitersLocked()
    {
        for (var node = _waiters.First; node is not null;)
        {
            var next = node.Next;
            var waiter = node.Value;
            if (_total >= _options.MaxInstancesPerNode)
            {
                break;
            }

            if (waiter.State.Instances.Count < _options.MaxInstancesPerFunction && TryReserveLocked(waiter.State, out var fresh, out _))
            {
                _waiters.Remove(node);
                waiter.State.Waiting--;
                waiter.Result.TrySetResult(fresh);
            }

            node = next;
        }
    }

    private void Release(Instance instance, bool reusable, string reason)
    {
        var stop = false;
        lock (_lock)
        {
            instance.CurrentRequestId = null;
            if (_functions.TryGetValue(instance.Function.Name, out var function))
            {
                function.FailuresInARow = reason is "timeout" or "oom" or "crashed" or "init_failed" ? function.FailuresInARow + 1 : 0;
            }

            var exited = instance.Sandbox?.Exited.IsCompleted ?? true;
            if (!reusable || instance.Retired || _closed || exited)
            {
                RemoveLocked(instance);
                stop = true;

                // A reusable instance stops for what happened around it, not for its invocation's outcome (a redeploy's
                // in-flight instance was logged and counted as "instance stopped (success)").
                reason = reusable ? (_closed ? "shutdown" : instance.Retired ? "retired" : "exited") : reason;
            }
            else if (FirstWaiterLocked(instance.Function.Name) is { } mine)
            {
                _waiters.Remove(mine);
                mine.State.Waiting--;
                mine.Result.TrySetResult(instance);
                return;
            }
            else if (_total >= _options.MaxInstancesPerNode
                     && _waiters.Any(w => w.State.Instances.Count < _options.MaxInstancesPerFunction))
            {
                // Another function waits only because the node is full: this instance's slot serves it better.
                RemoveLocked(instance);
                stop = true;
                reason = "evicted";
            }
            else
            {
                instance.State = InstanceState.Idle;
                instance.IdleSince = _time.GetUtcNow();
                instance.IdleMemoryReleased = false;
                _functions[instance.Function.Name].Idle.Add(instance);
            }

            if (stop)
            {
                DispatchWaitersLocked();
            }
        }

        if (stop)
        {
            BeginStop(instance, reason);
        }
    }

    // A loop, not LINQ: runs on every release (a lambda capturing the name and a boxed enumerator each time).
    private Waiter? FirstWaiterLocked(string function)
    {
        for (var node = _waiters.First; node is not null; node = node.Next)
        {
            if (node.Value.State.Name == function)
            {
                return node.Value;
            }
        }

        return null;
    }

    private string NewInstanceId() => _options.InstanceIdPrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    private sealed class FunctionState(string name)
    {
        public string Name { get; } = name;

        public DeployedFunction? Current { get; set; }

        /// <summary>Instances not stopping: starting, idle or busy.</summary>
        public List<Instance> Instances { get; } = [];

        /// <summary>Idle instances, most recently used last.</summary>
        public List<Instance> Idle { get; } = [];

        /// <summary>Instances taken out of the pool whose stop has not ended (a retire waits for these too).</summary>
        public HashSet<Instance> Stopping { get; } = [];

        public int Waiting { get; set; }

        /// <summary>Invocations in a row whose instance failed (the restart backoff); an invocation that ends normally clears it.</summary>
        public int FailuresInARow { get; set; }
    }

    private sealed class Waiter
    {
        public Waiter(FunctionState state)
        {
            State = state;
            Node = new LinkedListNode<Waiter>(this);
        }

        public FunctionState State { get; }

        public LinkedListNode<Waiter> Node { get; }

        public TaskCompletionSource<Instance> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
