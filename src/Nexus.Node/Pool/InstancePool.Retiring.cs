// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Node.Transports;

namespace Nexus.Node.Pool;

/// <summary>Instances leaving the pool: retired by a deploy, stopped when idle (keep-alive, on request), all at shutdown.</summary>
public sealed partial class InstancePool
{
    /// <summary>
    /// Marks every instance of <paramref name="name"/> retired (a new revision was deployed, or the function was
    /// removed): idle ones stop now, busy ones after their invocation. Waiting invocations move to
    /// <paramref name="replacement"/>, or fail when the function was removed. Completes when all of them stopped, and
    /// those an earlier retire is still stopping.
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

            // Also those an earlier retire (a redeploy just before a removal) is still stopping: their stop writes to the
            // function's log, which the node closes once a removal's retire completes.
            all.AddRange(state.Stopping.Select(i => i.Stopped.Task));
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

        try
        {
            await _idleRelease;
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

    private async Task ReapLoopAsync()
    {
        var period = TimeSpan.FromTicks(Math.Clamp(_options.KeepAlive.Ticks / 4, TimeSpan.FromMilliseconds(50).Ticks, TimeSpan.FromSeconds(30).Ticks));
        while (!_shutdown.IsCancellationRequested)
        {
            await Task.Delay(period, _time, _shutdown.Token);
            ReapIdle();
        }
    }

    /// <summary>
    /// Asks each instance idle for at least <see cref="PoolOptions.IdleMemoryRelease"/>, once per idle spell, to give
    /// back the memory its transport holds; returns how many were asked. The transport's release is safe while an
    /// invocation is being handed to the instance, so the pool's lock is not held across it.
    /// </summary>
    public int ReleaseIdleMemory()
    {
        var now = _time.GetUtcNow();
        var release = new List<IInvocationTransport>();
        lock (_lock)
        {
            foreach (var state in _functions.Values)
            {
                foreach (var instance in state.Idle)
                {
                    if (!instance.IdleMemoryReleased && now - instance.IdleSince >= _options.IdleMemoryRelease && instance.Transport is { } transport)
                    {
                        instance.IdleMemoryReleased = true;
                        release.Add(transport);
                    }
                }
            }
        }

        foreach (var transport in release)
        {
            transport.ReleaseIdleMemory();
        }

        return release.Count;
    }

    private async Task ReleaseIdleLoopAsync()
    {
        while (!_shutdown.IsCancellationRequested)
        {
            await Task.Delay(_options.IdleMemoryRelease, _time, _shutdown.Token);
            ReleaseIdleMemory();
        }
    }

    // Instance ids name containers, cgroups and netns: short, unique, [a-z0-9-].
}
