// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Nexus.Functions;
using Nexus.Node.Logs;
using Nexus.Node.Metrics;
using Nexus.Node.Transports;
using Nexus.Sandbox;

namespace Nexus.Node.Pool;

/// <summary>What one invocation produced, and how. Outcome: success, error (handler error), timeout, oom, crashed, init_error.</summary>
public sealed record InvocationOutcome(InvocationResult Result, string Outcome, bool ColdStart, TimeSpan Duration, string InstanceId, byte[] LogTail)
{
    /// <summary>Where the invocation's stages were stamped (pool, transport, sandbox).</summary>
    public InvocationTimeline Timeline { get; init; } = new();

    /// <summary>Time in the sandbox (handler, its storage calls, the runtime); the rest of the wall time is the node's.</summary>
    public TimeSpan SandboxTime => Timeline.SandboxTime;
}

/// <summary>Instance counts of one function.</summary>
public sealed record FunctionPoolStatus(string Function, int Starting, int Idle, int Busy, int Waiting);

/// <summary>
/// The node's instances, per function: reuses warm idle instances, starts new ones under concurrency (bounded per
/// function and per node, evicting idle instances of other functions when the node is full), queues invocations
/// beyond that for at most their timeout, enforces timeouts by killing the instance, and reaps idle instances after
/// the keep-alive. An instance that failed an invocation (timeout, crash, OOM) is never used again.
/// One lock guards all bookkeeping; sandbox starts and stops run outside it.
/// </summary>
public sealed class InstancePool : IAsyncDisposable
{
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
        _reaper = ReapLoopAsync();
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
    /// Runs one invocation. Throws <see cref="ThrottledException"/> when no instance became available within the
    /// function's timeout and <see cref="SandboxStartException"/> when the node could not start a sandbox.
    /// </summary>
    public async Task<InvocationOutcome> InvokeAsync(DeployedFunction function, ReadOnlyMemory<byte> payload, string requestId, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        var timeline = new InvocationTimeline { Entered = Stopwatch.GetTimestamp() };
        var (instance, cold) = await AcquireAsync(function, cancellationToken);
        timeline.Acquired = Stopwatch.GetTimestamp();
        if (cold)
        {
            var failure = await StartAsync(instance, requestId, payload);
            if (failure is not null)
            {
                var duration = _time.GetElapsedTime(started);
                _metrics.Invocation(function.Name, "init_error", cold: true, duration);
                return new InvocationOutcome(failure, "init_error", true, duration, instance.Id, instance.EndCapture()) { Timeline = timeline };
            }
        }

        else
        {
            instance.Transport!.BeginPrefetch(payload);
            timeline.PrefetchBegun = Stopwatch.GetTimestamp();
        }

        return await RunAsync(instance, payload, requestId, cold, started, timeline);
    }

    /// <summary>
    /// Marks every instance of <paramref name="name"/> retired (a new revision was deployed, or the function was
    /// removed): idle ones stop now, busy ones after their invocation. Waiting invocations move to
    /// <paramref name="replacement"/>, or fail when the function was removed. Completes when all of them stopped.
    /// </summary>
    public Task RetireAsync(string name, DeployedFunction? replacement)
    {
        var stop = new List<Instance>();
        var all = new List<Task>();
        lock (_lock)
        {
            if (!_functions.TryGetValue(name, out var state))
            {
                return Task.CompletedTask;
            }

            foreach (var instance in state.Instances.ToList())
            {
                instance.Retired = true;
                all.Add(instance.Stopped.Task);
                if (instance.State == InstanceState.Idle)
                {
                    RemoveLocked(instance);
                    stop.Add(instance);
                }
            }

            state.Current = replacement;
            if (replacement is null)
            {
                foreach (var waiter in _waiters.Where(w => w.State == state).ToList())
                {
                    _waiters.Remove(waiter);
                    state.Waiting--;
                    waiter.Result.TrySetException(new InvalidOperationException($"function '{name}' was removed while the invocation waited for an instance"));
                }
            }

            DispatchWaitersLocked();
        }

        foreach (var instance in stop)
        {
            BeginStop(instance, "retired");
        }

        return Task.WhenAll(all);
    }

    /// <summary>The sandbox of a live instance (for measurement), or null when no such instance runs.</summary>
    public ISandboxInstance? FindSandbox(string instanceId)
    {
        lock (_lock)
        {
            return _functions.Values.SelectMany(f => f.Instances).FirstOrDefault(i => i.Id == instanceId)?.Sandbox;
        }
    }

    /// <summary>
    /// Stops the idle instances of <paramref name="name"/> now, as the keep-alive would later, so that its next invocation
    /// is a cold start (benchmarks measure those); completes when they are gone.
    /// </summary>
    public Task StopIdleAsync(string name)
    {
        List<Instance> stop;
        lock (_lock)
        {
            if (!_functions.TryGetValue(name, out var state))
            {
                return Task.CompletedTask;
            }

            stop = [.. state.Idle];
            foreach (var instance in stop)
            {
                RemoveLocked(instance);
            }

            DispatchWaitersLocked();
        }

        foreach (var instance in stop)
        {
            BeginStop(instance, "stopped_idle");
        }

        return Task.WhenAll(stop.Select(i => i.Stopped.Task));
    }

    /// <summary>Stops instances idle for longer than the keep-alive; returns how many.</summary>
    public int ReapIdle()
    {
        var now = _time.GetUtcNow();
        var stop = new List<Instance>();
        lock (_lock)
        {
            foreach (var state in _functions.Values)
            {
                stop.AddRange(state.Idle.Where(i => now - i.IdleSince >= _options.KeepAlive));
            }

            foreach (var instance in stop)
            {
                RemoveLocked(instance);
            }

            DispatchWaitersLocked();
        }

        foreach (var instance in stop)
        {
            BeginStop(instance, "keep_alive");
        }

        return stop.Count;
    }

    /// <summary>Stops every instance (busy ones are interrupted) and waits until all sandboxes are removed.</summary>
    public async ValueTask DisposeAsync()
    {
        var stop = new List<Instance>();
        lock (_lock)
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
            foreach (var state in _functions.Values)
            {
                foreach (var instance in state.Instances)
                {
                    instance.Retired = true;
                }

                stop.AddRange(state.Idle);
            }

            foreach (var instance in stop)
            {
                RemoveLocked(instance);
            }

            foreach (var waiter in _waiters)
            {
                waiter.Result.TrySetException(new ObjectDisposedException(nameof(InstancePool), "the node is shutting down"));
            }

            _waiters.Clear();
        }

        foreach (var instance in stop)
        {
            BeginStop(instance, "shutdown");
        }

        await _shutdown.CancelAsync();
        try
        {
            await _reaper;
        }
        catch (OperationCanceledException)
        {
        }

        // Busy and starting instances notice the cancellation and stop themselves; wait for all of them.
        while (true)
        {
            Task[] pending;
            lock (_lock)
            {
                pending = [.. _functions.Values.SelectMany(f => f.Instances).Select(i => i.Stopped.Task).Concat(_stopping.Values).Where(t => !t.IsCompleted)];
            }

            if (pending.Length == 0)
            {
                break;
            }

            await Task.WhenAll(pending);
        }

        _shutdown.Dispose();
    }

    private async Task<(Instance Instance, bool Cold)> AcquireAsync(DeployedFunction function, CancellationToken cancellationToken)
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

            if (state.Idle.Count > 0)
            {
                var warm = state.Idle[^1];
                state.Idle.RemoveAt(state.Idle.Count - 1);
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

            waiter = new Waiter(state);
            _waiters.AddLast(waiter.Node);
            state.Waiting++;
        }

        using var timeout = new CancellationTokenSource(function.Manifest.Timeout, _time);
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
                            $"function '{function.Name}' is at its concurrency limit ({_options.MaxInstancesPerFunction} per function, {_options.MaxInstancesPerNode} per node) and no instance became free within its timeout of {function.Manifest.Timeout.TotalSeconds:0.##} s");
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
            var exited = instance.Sandbox?.Exited.IsCompleted ?? true;
            if (!reusable || instance.Retired || _closed || exited)
            {
                RemoveLocked(instance);
                stop = true;
            }
            else if (_waiters.FirstOrDefault(w => w.State.Name == instance.Function.Name) is { } mine)
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

    // Starts the sandbox of a reserved instance and waits until its runtime's init is over (transport.Ready).
    // Returns null when ready, else the error the invocation gets.
    private async Task<InvocationResult?> StartAsync(Instance instance, string requestId, ReadOnlyMemory<byte> payload)
    {
        var function = instance.Function;
        var started = _time.GetTimestamp();
        instance.BeginCapture();
        instance.CurrentRequestId = requestId;
        try
        {
            if (!_transports.TryGetValue(function.Manifest.Io, out var factory))
            {
                throw new SandboxStartException($"function '{function.Name}' uses io: {function.Manifest.Io.ToString().ToLowerInvariant()}, which this node does not offer (available: {string.Join(", ", _transports.Keys.Select(k => k.ToString().ToLowerInvariant()))})");
            }

            instance.Transport = await factory.CreateAsync(function, instance.Id, _shutdown.Token);

            // Inputs are fetched while the sandbox starts.
            instance.Transport.BeginPrefetch(payload);
            var rootfs = await _rootfs(_shutdown.Token);
            var spec = BuildSpec(instance, rootfs);
            instance.Sandbox = await _driver.StartAsync(spec, _shutdown.Token);
            await instance.Transport.AttachAsync(instance.Sandbox, _shutdown.Token);
        }
        catch (Exception e)
        {
            _metrics.Error("sandbox_start");
            _logs.Write(function.Name, instance.Id, requestId, "instance failed to start: " + e.Message);
            lock (_lock)
            {
                RemoveLocked(instance);
                DispatchWaitersLocked();
            }

            BeginStop(instance, "start_failed");
            throw e as SandboxStartException ?? new SandboxStartException($"could not start an instance of '{function.Name}': {e.Message}", e);
        }

        _metrics.InstanceStarted(function.Name);
        _ = WatchAsync(instance);
        var transport = instance.Transport;
        var sandbox = instance.Sandbox;
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(_shutdown.Token);
        var initLimit = Task.Delay(_options.InitTimeout, _time, cancel.Token);
        var first = await Task.WhenAny(transport.Ready, sandbox.Exited, initLimit);
        await cancel.CancelAsync();
        if (first == transport.Ready && transport.InitError is null)
        {
            instance.PendingInitDuration = _time.GetElapsedTime(started);
            lock (_lock)
            {
                instance.State = InstanceState.Busy;
            }

            return null;
        }

        InvocationResult error;
        if (transport.InitError is { } reported)
        {
            error = reported;
        }
        else if (first == sandbox.Exited)
        {
            error = ExitError(requestId, await sandbox.Exited, instance);
        }
        else if (_shutdown.IsCancellationRequested)
        {
            error = InvocationResult.Error("Runtime.NodeShutdown", $"RequestId: {requestId} Error: the node is shutting down");
        }
        else
        {
            error = InvocationResult.Error("Sandbox.Timedout", $"RequestId: {requestId} Error: Init timed out after {_options.InitTimeout.TotalSeconds:0.00} seconds");
        }

        _logs.Write(function.Name, instance.Id, requestId, "init failed: " + System.Text.Encoding.UTF8.GetString(error.Payload.Span));
        Release(instance, reusable: false, "init_failed");
        return error;
    }

    private SandboxSpec BuildSpec(Instance instance, string rootfs)
    {
        var function = instance.Function;
        var manifest = function.Manifest;
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PATH"] = "/usr/local/bin:/usr/bin:/bin",
            ["LANG"] = "C.UTF-8",
            ["HOME"] = "/tmp",
            ["PYTHONPATH"] = "/opt/nexus/runtime",
            ["PYTHONUNBUFFERED"] = "1",
            ["PYTHONDONTWRITEBYTECODE"] = "1",
            ["NEXUS_IO"] = manifest.Io == IoMode.Baseline ? "baseline" : "nexus",
            ["_HANDLER"] = manifest.Handler,
            ["LAMBDA_TASK_ROOT"] = "/var/task",
            ["AWS_LAMBDA_FUNCTION_NAME"] = manifest.Name,
            ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = manifest.MemoryMb.ToString(CultureInfo.InvariantCulture),
            ["AWS_LAMBDA_FUNCTION_VERSION"] = "$LATEST",
            ["AWS_LAMBDA_LOG_GROUP_NAME"] = "/aws/lambda/" + manifest.Name,
            ["AWS_LAMBDA_LOG_STREAM_NAME"] = instance.Id,
            ["AWS_REGION"] = LambdaJson.Region,
            ["AWS_DEFAULT_REGION"] = LambdaJson.Region,
        };
        foreach (var (name, value) in manifest.Environment)
        {
            environment[name] = value;
        }

        // What the transport adds or changes differs per instance (the channel's descriptors, say); the rest is the function's.
        var instanceVariables = new HashSet<string>(StringComparer.Ordinal) { "AWS_LAMBDA_LOG_STREAM_NAME" };
        foreach (var (name, value) in instance.Transport!.Environment)
        {
            if (!environment.TryGetValue(name, out var shared) || shared != value)
            {
                instanceVariables.Add(name);
            }

            environment[name] = value;
        }

        return new SandboxSpec
        {
            InstanceId = instance.Id,
            Driver = manifest.Sandbox,
            RootfsPath = rootfs,
            ReadOnlyMounts = new Dictionary<string, string> { [function.CodeDirectory] = "/var/task" },
            Command = ["python3", "-m", "nexus_runtime"],
            WorkingDirectory = "/var/task",
            Environment = environment,
            MemoryMb = manifest.MemoryMb,
            Cpus = manifest.Cpus,
            TmpMb = _options.TmpMb,
            Network = instance.Transport.Network,
            PassedFds = instance.Transport.PassedFds,

            // Nexus-mode instances of one revision differ only in their channel and log stream; baseline instances
            // each need their own network, so they always start afresh.
            TemplateKey = instance.Transport.Network == SandboxNetwork.LoopbackOnly ? $"{function.Name}-{function.Revision}" : null,
            InstanceVariables = instanceVariables,
            OnOutput = (line, _) =>
            {
                _logs.Write(function.Name, instance.Id, instance.CurrentRequestId, line);
                instance.Capture(line);
            },
        };
    }

    private async Task<InvocationOutcome> RunAsync(Instance instance, ReadOnlyMemory<byte> payload, string requestId, bool cold, long started, InvocationTimeline timeline)
    {
        var function = instance.Function;
        var timeout = function.Manifest.Timeout;
        if (!cold)
        {
            instance.BeginCapture();
        }

        instance.CurrentRequestId = requestId;
        Log(instance, requestId, $"START RequestId: {requestId} Version: $LATEST");
        var runStarted = _time.GetTimestamp();
        var invocation = new Invocation(requestId, payload, _time.GetUtcNow() + timeout, function.Arn) { Timeline = timeline };
        var sandbox = instance.Sandbox!;
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(_shutdown.Token);
        var result = instance.Transport!.InvokeAsync(invocation, cancel.Token);
        var limit = Task.Delay(timeout, _time, cancel.Token);
        var first = await Task.WhenAny(result, sandbox.Exited, limit);
        await cancel.CancelAsync();

        InvocationResult answer;
        string outcome;
        var reusable = false;
        if (result.IsCompletedSuccessfully)
        {
            answer = result.Result;
            outcome = answer.IsError ? "error" : "success";
            reusable = true;
        }
        else if (first == sandbox.Exited)
        {
            var exit = await sandbox.Exited;
            answer = ExitError(requestId, exit, instance);
            outcome = exit.OutOfMemory ? "oom" : "crashed";
        }
        else if (first == limit && !_shutdown.IsCancellationRequested)
        {
            answer = InvocationResult.Error("Sandbox.Timedout", $"RequestId: {requestId} Error: Task timed out after {timeout.TotalSeconds:0.00} seconds");
            outcome = "timeout";
            _metrics.Error("timeout");
        }
        else
        {
            var why = result.Exception?.GetBaseException().Message ?? "the node is shutting down";
            answer = InvocationResult.Error("Runtime.TransportError", $"RequestId: {requestId} Error: the invocation was lost: {why}");
            outcome = "crashed";
        }

        var runTime = _time.GetElapsedTime(runStarted);
        if (answer.IsError && outcome != "error")
        {
            Log(instance, requestId, System.Text.Encoding.UTF8.GetString(answer.Payload.Span));
        }

        try
        {
            instance.MaxMemoryBytes = Math.Max(instance.MaxMemoryBytes, sandbox.ReadPeakMemoryBytes());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            // The instance is gone (crash, OOM): its last figure stands.
        }

        Log(instance, requestId, $"END RequestId: {requestId}");
        var report = string.Create(
            CultureInfo.InvariantCulture,
            $"REPORT RequestId: {requestId}\tDuration: {runTime.TotalMilliseconds:0.00} ms\tBilled Duration: {Math.Ceiling(runTime.TotalMilliseconds):0} ms\tMemory Size: {function.Manifest.MemoryMb} MB\tMax Memory Used: {instance.MaxMemoryBytes / (1024 * 1024)} MB");
        if (instance.PendingInitDuration is { } init)
        {
            report += string.Create(CultureInfo.InvariantCulture, $"\tInit Duration: {init.TotalMilliseconds:0.00} ms");
            instance.PendingInitDuration = null;
        }

        if (outcome is "timeout" or "oom" or "crashed")
        {
            report += "\tStatus: " + outcome;
        }

        Log(instance, requestId, report);
        var tail = instance.EndCapture();
        Release(instance, reusable, outcome);
        var duration = _time.GetElapsedTime(started);
        _metrics.Invocation(function.Name, outcome, cold, duration);
        timeline.Finished = Stopwatch.GetTimestamp();
        return new InvocationOutcome(answer, outcome, cold, duration, instance.Id, tail) { Timeline = timeline };
    }

    private static InvocationResult ExitError(string requestId, SandboxExit exit, Instance instance)
    {
        var how = exit.Signal is { } signal ? $"signal: {SignalName(signal)}" : $"exit status {exit.ExitCode ?? -1}";
        return exit.OutOfMemory
            ? InvocationResult.Error("Runtime.OutOfMemory", $"RequestId: {requestId} Error: Runtime exited with error: {how} (out of memory: the function exceeded its {instance.Function.Manifest.MemoryMb} MB)")
            : InvocationResult.Error("Runtime.ExitError", $"RequestId: {requestId} Error: Runtime exited with error: {how}");
    }

    private static string SignalName(int signal) => signal switch
    {
        9 => "killed",
        6 => "aborted",
        11 => "segmentation fault",
        15 => "terminated",
        _ => signal.ToString(CultureInfo.InvariantCulture),
    };

    // An idle instance that dies is dropped; busy and starting ones are handled by their invocation.
    private async Task WatchAsync(Instance instance)
    {
        var exit = await instance.Sandbox!.Exited;
        var drop = false;
        lock (_lock)
        {
            if (instance.State == InstanceState.Idle)
            {
                RemoveLocked(instance);
                DispatchWaitersLocked();
                drop = true;
            }
        }

        if (drop)
        {
            _metrics.Error(exit.OutOfMemory ? "idle_oom" : "idle_exit");
            BeginStop(instance, "exited");
        }
    }

    private void BeginStop(Instance instance, string reason)
    {
        var stop = StopAsync(instance, reason);
        _stopping[instance] = stop;
        _ = stop.ContinueWith(_ => _stopping.TryRemove(instance, out Task? _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private async Task StopAsync(Instance instance, string reason)
    {
        await Task.Yield();
        try
        {
            if (instance.Sandbox is { } sandbox)
            {
                await sandbox.DisposeAsync();
            }

            if (instance.Transport is { } transport)
            {
                await transport.DisposeAsync();
            }

            _metrics.InstanceStopped(instance.Function.Name, reason);
            _logs.Write(instance.Function.Name, instance.Id, null, $"instance stopped ({reason})");
        }
        catch (Exception e)
        {
            _metrics.Error("sandbox_stop");
            _logs.Write(instance.Function.Name, instance.Id, null, $"instance stop failed ({reason}): {e.Message}");
        }
        finally
        {
            instance.Stopped.TrySetResult();
        }
    }

    private void Log(Instance instance, string requestId, string line)
    {
        _logs.Write(instance.Function.Name, instance.Id, requestId, line);
        instance.Capture(line);
    }

    private async Task ReapLoopAsync()
    {
        var period = TimeSpan.FromTicks(Math.Clamp(_options.KeepAlive.Ticks / 4, TimeSpan.FromMilliseconds(50).Ticks, TimeSpan.FromSeconds(30).Ticks));
        while (!_shutdown.IsCancellationRequested)
        {
            await Task.Delay(period, _time, _shutdown.Token);
            ReapIdle();
        }
    }

    // Instance ids name containers, cgroups and netns: short, unique, [a-z0-9-].
    private string NewInstanceId() => _options.InstanceIdPrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    private sealed class FunctionState(string name)
    {
        public string Name { get; } = name;

        public DeployedFunction? Current { get; set; }

        /// <summary>Instances not stopping: starting, idle or busy.</summary>
        public List<Instance> Instances { get; } = [];

        /// <summary>Idle instances, most recently used last.</summary>
        public List<Instance> Idle { get; } = [];

        public int Waiting { get; set; }
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
