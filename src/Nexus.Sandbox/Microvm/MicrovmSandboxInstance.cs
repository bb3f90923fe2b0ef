// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net;
using Nexus.Interop;

namespace Nexus.Sandbox.Microvm;

/// <summary>
/// One microVM: a <c>nexus-vmm</c> process (our child, reaped by us) whose guest console and VMM messages are the
/// instance's output. Its exit code is the guest's (exit port), 1 for a guest crash (triple fault, KVM error), 2 when the
/// VM could not be built. Stopping kills the process; nothing of the VM outlives it but its run folder, removed here.
/// </summary>
public sealed class MicrovmSandboxInstance : ISandboxInstance
{
    private const int SIGKILL = 9;

    /// <summary>How long output may trail the VMM's exit (every writer is dead by then; this only bounds a bug).</summary>
    private static readonly TimeSpan s_outputDrain = TimeSpan.FromSeconds(2);

    private readonly TaskCompletionSource<SandboxExit> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();
    private readonly ChildProcess _vmm;
    private readonly OutputPump[] _pumps;
    private long _peakBytes;
    private Task? _stop;

    internal MicrovmSandboxInstance(string instanceId, string runFolder, ChildProcess vmm, OutputPump[] pumps, bool restored)
    {
        InstanceId = instanceId;
        RunFolder = runFolder;
        Restored = restored;
        _vmm = vmm;
        _pumps = pumps;
        _ = WatchAsync();
    }

    public string InstanceId { get; }

    /// <summary>No network: every byte in or out goes over the Nexus region.</summary>
    public IPAddress? Address => null;

    public Task<SandboxExit> Exited => _exited.Task;

    /// <summary>The VMM process.</summary>
    public int Pid => _vmm.Pid;

    /// <summary>True when the VM was restored from its function's ready snapshot; false when it booted.</summary>
    public bool Restored { get; }

    /// <summary>The instance's folder under the driver's run directory (the VMM's pid file).</summary>
    public string RunFolder { get; }

    /// <summary>
    /// The VMM process's memory: guest memory it touched plus the VMM itself (there is no cgroup per VM yet, so the
    /// "cgroup" figure is the process's RSS).
    /// </summary>
    public SandboxMemory ReadMemory()
    {
        var (rss, pss, uss) = ProcessFiles.SmapsRollup(_vmm.Pid);
        Interlocked.Exchange(ref _peakBytes, Math.Max(Interlocked.Read(ref _peakBytes), rss));
        return new SandboxMemory(rss, pss, uss, rss);
    }

    public long ReadPeakMemoryBytes() => Math.Max(ReadMemory().RssBytes, Interlocked.Read(ref _peakBytes));

    /// <summary>CPU time of the VMM process (its vCPU threads run the guest).</summary>
    public TimeSpan ReadCpuTime() => ProcessFiles.CpuTime(_vmm.Pid);

    public Task StopAsync()
    {
        lock (_gate)
        {
            return _stop ??= StopCoreAsync();
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    private async Task WatchAsync()
    {
        try
        {
            var status = await _vmm.Exited;
            await Task.WhenAny(Task.WhenAll(_pumps.Select(p => p.Completion)), Task.Delay(s_outputDrain));
            _exited.TrySetResult(new SandboxExit(status.ExitCode, status.Signal, OutOfMemory: false));
        }
        catch (Exception e)
        {
            _exited.TrySetException(e);
        }
    }

    private async Task StopCoreAsync()
    {
        _vmm.Signal(SIGKILL);
        try
        {
            await _exited.Task;
        }
        catch (InvalidOperationException)
        {
            // Exit status unknown; the folder goes regardless.
        }

        foreach (var pump in _pumps)
        {
            pump.Abort();
        }

        if (Directory.Exists(RunFolder))
        {
            Directory.Delete(RunFolder, recursive: true);
        }
    }
}
