// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net;
using Nexus.Interop;
using Nexus.Sandbox.Oci;

namespace Nexus.Sandbox.Template;

/// <summary>
/// An instance forked from a template: its own process (held by a pidfd), its own cgroup (limits, memory, CPU and the
/// OOM counter are per instance), its own output and its own /tmp (<see cref="InstanceRoots"/>); it shares the template
/// container's read-only root, namespaces and seccomp filter. Its parent is the template, which reports how it ended.
/// </summary>
internal sealed class ForkedInstance : ISandboxInstance
{
    private const int SIGKILL = 9;

    private static readonly TimeSpan s_outputDrain = TimeSpan.FromSeconds(2);

    private readonly InstanceCgroup _cgroup;
    private readonly OutputPump[] _pumps;
    private readonly ForkTemplate _template;
    private readonly TaskCompletionSource<SandboxExit> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();
    private ProcessHandle? _process;
    private IDisposable? _memoryGuard;
    private Task? _stop;
    private int _exitReported;
    private volatile bool _outOfMemory;

    public ForkedInstance(string instanceId, int namespacePid, InstanceCgroup cgroup, OutputPump[] pumps, ForkTemplate template, string? root)
    {
        Root = root;
        InstanceId = instanceId;
        NamespacePid = namespacePid;
        _cgroup = cgroup;
        _pumps = pumps;
        _template = template;
    }

    public string InstanceId { get; }

    /// <summary>The root of its own it runs in (its own /tmp; <see cref="InstanceRoots"/>), as the template sees it; null: the template's.</summary>
    public string? Root { get; }

    /// <summary>The pid inside the template's namespace (how the template names it).</summary>
    public int NamespacePid { get; }

    public IPAddress? Address => null;

    public Task<SandboxExit> Exited => _exited.Task;

    public int Pid => _process?.Pid ?? throw new InvalidOperationException($"instance '{InstanceId}' is not placed yet");

    /// <summary>The template this instance was forked from (for the driver's figures).</summary>
    public string TemplateId => _template.Sandbox.InstanceId;

    public SandboxMemory ReadMemory()
    {
        var (rss, pss, uss) = _cgroup.Reader.ProcessMemory();
        return new SandboxMemory(_cgroup.Reader.MemoryUsage(), pss, uss, rss);
    }

    public long ReadPeakMemoryBytes() => _cgroup.Reader.MemoryPeak();

    public SandboxMemory? ReadTemplateMemory() => _template.Sandbox.ReadMemory();

    public TimeSpan ReadCpuTime() => TimeSpan.FromTicks(_cgroup.Reader.CpuNanoseconds() / 100);

    public bool TrySetCpuLimit(double cpus)
    {
        _cgroup.Reader.SetCpuLimit(cpus);
        return true;
    }

    public bool TrySetSliceRequest(long nanoseconds)
    {
        _cgroup.Reader.SetSliceRequest(nanoseconds);
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

    /// <summary>
    /// Before the process is moved into its cgroup: from then on the node, not the kernel's OOM killer, stops the
    /// instance at its memory limit (<see cref="OomWatcher"/>).
    /// </summary>
    internal void GuardMemory() => _memoryGuard = OomWatcher.Shared.Watch(_cgroup.MemoryDirectory, () => _outOfMemory = true);

    /// <summary>The host pid was found and the process moved into its cgroup: it is this instance from now on.</summary>
    internal void Bind(int hostPid)
    {
        _process = ProcessHandle.TryOpen(hostPid);
        if (_process is null)
        {
            OnExit(null, SIGKILL);
        }
    }

    /// <summary>The template reaped the process (or died, taking it along).</summary>
    internal void OnExit(int? code, int? signal)
    {
        if (Interlocked.Exchange(ref _exitReported, 1) != 0)
        {
            return;
        }

        _ = CompleteExitAsync(code, signal);
    }

    private async Task CompleteExitAsync(int? code, int? signal)
    {
        await Task.WhenAny(Task.WhenAll(_pumps.Select(p => p.Completion)), Task.Delay(s_outputDrain));
        bool oom;
        try
        {
            oom = _outOfMemory || _cgroup.Reader.OomKills() > 0;
        }
        catch (IOException)
        {
            oom = _outOfMemory;
        }

        _exited.TrySetResult(new SandboxExit(code, signal, oom));
    }

    private async Task StopCoreAsync()
    {
        if (_process is not null && _process.Signal(SIGKILL))
        {
            // Frozen from outside (its template's container paused on cgroup v1), it would hold the kill until thawed.
            CgroupFreezer.ThawV1(_process.Pid);

            // The template reaps it and says so; if the template itself is gone, the process went with it.
            await Task.WhenAny(_exited.Task, Task.Delay(TimeSpan.FromSeconds(5)));
        }

        OnExit(null, SIGKILL);
        await _exited.Task;
        foreach (var pump in _pumps)
        {
            pump.Abort();
        }

        _process?.Dispose();
        _memoryGuard?.Dispose();
        _cgroup.Reader.Dispose();
        await _cgroup.RemoveAsync();
        _template.Forget(this);
    }
}
