// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net;
using Nexus.Interop;
using Nexus.Sandbox.Network;

namespace Nexus.Sandbox.Oci;

/// <summary>
/// One runc container. Its first process is our child (runc ran detached and we are a child subreaper),
/// so we reap it ourselves, read its exact exit status and the cgroup's OOM counter before anything is
/// removed, and kill it through a pidfd that cannot hit a recycled pid.
/// </summary>
public sealed class OciSandboxInstance : ISandboxInstance
{
    private const int SIGKILL = 9;

    /// <summary>How long output may trail the first process's exit (every writer is dead by then; this only bounds a bug).</summary>
    private static readonly TimeSpan s_outputDrain = TimeSpan.FromSeconds(2);

    private readonly OciSandboxDriver _driver;
    private readonly TaskCompletionSource<SandboxExit> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();
    private ChildProcess? _init;
    private OutputPump[] _pumps = [];
    private IDisposable? _memoryGuard;
    private Task? _stop;
    private volatile bool _outOfMemory;

    internal OciSandboxInstance(OciSandboxDriver driver, string instanceId, string bundle, CgroupV1 cgroup)
    {
        _driver = driver;
        InstanceId = instanceId;
        Bundle = bundle;
        Cgroup = cgroup;
    }

    public string InstanceId { get; }

    public IPAddress? Address => Veth?.SandboxAddress;

    public Task<SandboxExit> Exited => _exited.Task;

    public int Pid => _init?.Pid ?? throw new InvalidOperationException($"instance '{InstanceId}' has no process (it did not start)");

    /// <summary>The bundle directory (config.json, pid file).</summary>
    public string Bundle { get; }

    /// <summary>The veth slot, when the instance has the baseline network.</summary>
    public VethSlot? Veth { get; internal set; }

    internal CgroupV1 Cgroup { get; }

    public SandboxMemory ReadMemory()
    {
        var (rss, pss, uss) = Cgroup.ProcessMemory();
        return new SandboxMemory(Cgroup.MemoryUsage(), pss, uss, rss);
    }

    public long ReadPeakMemoryBytes() => Cgroup.MemoryPeak();

    public TimeSpan ReadCpuTime() => TimeSpan.FromTicks(Cgroup.CpuNanoseconds() / 100);

    public bool TrySetCpuLimit(double cpus)
    {
        Cgroup.SetCpuLimit(cpus);
        return true;
    }

    public bool TrySetSliceRequest(long nanoseconds)
    {
        Cgroup.SetSliceRequest(nanoseconds);
        return true;
    }

    public void DrainOutput(TimeSpan limit) => OutputPump.DrainAll(_pumps, limit);

    public Task StopAsync()
    {
        lock (_gate)
        {
            return _stop ??= StopCoreAsync();
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    /// <summary>Called once runc has started the container: from now on its first process is watched.</summary>
    internal void Attach(ChildProcess init, OutputPump[] pumps)
    {
        _init = init;
        _pumps = pumps;

        // runc left the kernel's OOM killer off (config.json disableOOMKiller): the node stops the container at its limit.
        _memoryGuard = OomWatcher.Shared.Watch(Cgroup.MemoryDirectory, () => _outOfMemory = true);
        _ = WatchAsync(init);
    }

    /// <summary>For a start that failed before the container ran: the pumps to drain and abort at teardown.</summary>
    internal void AttachOutput(OutputPump[] pumps) => _pumps = pumps;

    private async Task WatchAsync(ChildProcess init)
    {
        try
        {
            var status = await init.Exited;

            // The pid namespace died with its first process, so every writer of the output is gone.
            await Task.WhenAny(Task.WhenAll(_pumps.Select(p => p.Completion)), Task.Delay(s_outputDrain));

            // Read before the cgroup is removed (teardown waits for this task).
            var oom = _outOfMemory || Cgroup.OomKills() > 0;
            _exited.TrySetResult(new SandboxExit(status.ExitCode, status.Signal, oom));
        }
        catch (Exception e)
        {
            _exited.TrySetException(e);
        }
    }

    private async Task StopCoreAsync()
    {
        if (_init is not null)
        {
            _init.Signal(SIGKILL);

            // A container paused from outside (runc pause on cgroup v1) would hold the kill until thawed.
            CgroupFreezer.ThawV1(_init.Pid);
            try
            {
                await _exited.Task;
            }
            catch (InvalidOperationException)
            {
                // Exit status unknown; teardown goes on regardless.
            }
        }
        else
        {
            _exited.TrySetResult(new SandboxExit(null, null, false));
        }

        foreach (var pump in _pumps)
        {
            pump.Abort();
        }

        _memoryGuard?.Dispose();
        Cgroup.Dispose();
        await _driver.TeardownAsync(this);
    }
}
