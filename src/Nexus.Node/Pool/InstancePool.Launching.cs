// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Backend.Prefetch;
using Nexus.Functions;
using Nexus.Node.Transports;
using Nexus.Sandbox;

namespace Nexus.Node.Pool;

/// <summary>The pool's sandboxes: starting one for a reserved instance up to the end of its init, watching it, stopping it.</summary>
public sealed partial class InstancePool
{
    // Starts the sandbox of a reserved instance and waits until its runtime's init is over (transport.Ready).
    // Returns null when ready, else the error the invocation gets.
    private async Task<InvocationResult?> StartAsync(Instance instance, string requestId, PrefetchHints hints)
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
            instance.Transport.BeginPrefetch(hints);
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
        // The init limit counts from the start of the sandbox: a fork template's wait (given up at the limit) included.
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(_shutdown.Token);
        var initLimit = Task.Delay(Max(_options.InitTimeout - _time.GetElapsedTime(started), TimeSpan.Zero), _time, cancel.Token);
        var first = await Task.WhenAny(transport.Ready, sandbox.Exited, initLimit);
        var overrunLimit = function.Manifest.Timeout;
        if (first == initLimit && !_shutdown.IsCancellationRequested)
        {
            // Lambda retries an init that passes its 10 s limit at the first invocation, within the function's timeout
            // (a module that loads a large model works there, its first call slower). This init goes on instead of
            // starting over: the same outcome, sooner, and its import's side effects happen once.
            Log(instance, requestId, $"init not done within the {_options.InitTimeout.TotalSeconds:0.##} s init limit: it goes on within the invocation's timeout ({overrunLimit.TotalSeconds:0.##} s), as Lambda retries such an init at the first invocation");
            first = await Task.WhenAny(transport.Ready, sandbox.Exited, Task.Delay(overrunLimit, _time, cancel.Token));
        }

        cancel.Cancel();
        if (first == transport.Ready && transport.InitError is null && LimitCpuAfterInit(instance) is null)
        {
            SetSliceAfterInit(instance);
            instance.PendingInitDuration = _time.GetElapsedTime(started);
            instance.InitOverrun = Max(instance.PendingInitDuration.Value - _options.InitTimeout, TimeSpan.Zero);
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
        else if (first == transport.Ready)
        {
            // Ready, but its CPU limit could not be lowered: it must not run with the init's full CPU.
            error = InvocationResult.Error("Runtime.ExitError", $"RequestId: {requestId} Error: the node could not set the instance's CPU limit");
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
            // The init went past the init limit and then the invocation's timeout: the invocation timed out, as Lambda's does.
            error = InvocationResult.Error("Sandbox.Timedout", $"RequestId: {requestId} Error: Task timed out after {overrunLimit.TotalSeconds:0.00} seconds (the init, past the {_options.InitTimeout.TotalSeconds:0.##} s init limit, ran on into the invocation's timeout)");
        }

        // In the invocation's --log tail too: an init that timed out or whose sandbox exited printed nothing, and its
        // X-Amz-Log-Result was empty.
        Log(instance, requestId, "init failed: " + System.Text.Encoding.UTF8.GetString(error.Payload.Span));
        Release(instance, reusable: false, "init_failed");
        return error;
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>
    /// CPUs an instance of <paramref name="manifest"/> gets once ready: the manifest's <c>cpus</c>, else its memory's
    /// share (<see cref="PoolOptions.MemoryMbPerCpu"/>).
    /// </summary>
    public double CpuShare(FunctionManifest manifest) =>
        manifest.Cpus ?? (_options.MemoryMbPerCpu > 0 ? (double)manifest.MemoryMb / _options.MemoryMbPerCpu : 1.0);

    // CPUs during init: at least one, as Lambda's on-demand init runs unthrottled (a 128 MB share, 0.07 CPU, would
    // need ~14 s of wall time for a second of imports, past the init limit).
    private double InitCpus(FunctionManifest manifest) => Math.Max(1.0, CpuShare(manifest));

    // Lowers a ready instance's CPU limit from its init's to its share; returns why it could not, or null.
    private string? LimitCpuAfterInit(Instance instance)
    {
        var manifest = instance.Function.Manifest;
        var share = CpuShare(manifest);
        if (share >= InitCpus(manifest))
        {
            return null;
        }

        try
        {
            // A sandbox without a per-instance quota (a microVM's jail) keeps the one its driver set.
            instance.Sandbox!.TrySetCpuLimit(share);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logs.Write(instance.Function.Name, instance.Id, instance.CurrentRequestId, $"could not set the CPU limit to {share:0.###}: {e.Message}");
            return e.Message;
        }
    }

    // Gives a ready instance's threads the sandboxes' slice request (its init ran at the default: it is alone then, with
    // a full CPU). Not fatal: the request changes when a waking thread gets in, not how much CPU the instance gets.
    private void SetSliceAfterInit(Instance instance)
    {
        if (_options.SandboxSliceNanoseconds == 0)
        {
            return;
        }

        try
        {
            instance.Sandbox!.TrySetSliceRequest(_options.SandboxSliceNanoseconds);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logs.Write(instance.Function.Name, instance.Id, instance.CurrentRequestId, $"could not set the scheduler slice: {e.Message}");
        }
    }

    /// <summary>The fork template key of one revision of a function (its instances share the template).</summary>
    public static string TemplateKey(string function, string revision) => $"{function}-{revision}";

    private SandboxSpec BuildSpec(Instance instance, string rootfs)
    {
        var function = instance.Function;
        var manifest = function.Manifest;
        var (environment, instanceVariables) = LambdaEnvironment.For(manifest, instance.Id, instance.Transport!.Environment);
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
            Cpus = InitCpus(manifest),
            TmpMb = _options.TmpMb,
            Network = instance.Transport.Network,
            PassedFds = instance.Transport.PassedFds,

            // Nexus-mode instances of one revision differ only in their channel and log stream; baseline instances
            // each need their own network, so they always start afresh.
            TemplateKey = instance.Transport.Network == SandboxNetwork.LoopbackOnly ? TemplateKey(function.Name, function.Revision) : null,
            InstanceVariables = instanceVariables,
            OnOutput = (line, _) =>
            {
                _logs.Write(function.Name, instance.Id, instance.CurrentRequestId, line);
                instance.Capture(line);
            },
        };
    }

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

            instance.Deadline?.Dispose();

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
            lock (_lock)
            {
                _functions[instance.Function.Name].Stopping.Remove(instance);
            }
        }
    }
}
