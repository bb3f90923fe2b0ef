// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Vmm.VState;

/// <summary>
/// The run state shared by the vCPU threads and the host: stop (first reason wins), pause and resume.
/// vCPUs park only between exits, after completing any pending I/O, so a paused vCPU's registers are
/// consistent for a snapshot.
/// </summary>
public sealed class RunControl
{
    private readonly object _gate = new();
    private readonly TaskCompletionSource<VmExitResult> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<Vcpu> _vcpus = [];
    private bool _pauseRequested;
    private int _parked;
    private int _running;

    /// <summary>Completes when the VM stops, with the reason.</summary>
    public Task<VmExitResult> Exited => _exited.Task;

    public bool IsStopping => _exited.Task.IsCompleted;

    /// <summary>Ends the VM with <paramref name="result"/> unless it already ended.</summary>
    public void RequestStop(VmExitResult result)
    {
        if (!_exited.TrySetResult(result))
        {
            return;
        }

        lock (_gate)
        {
            Monitor.PulseAll(_gate);
        }

        KickAll();
    }

    /// <summary>Parks every vCPU between exits; returns once all are parked (or the VM stopped).</summary>
    public void Pause()
    {
        lock (_gate)
        {
            _pauseRequested = true;
        }

        KickAll();
        lock (_gate)
        {
            while (_parked < _running && !IsStopping)
            {
                Monitor.Wait(_gate);
            }
        }
    }

    public void Resume()
    {
        lock (_gate)
        {
            _pauseRequested = false;
            Monitor.PulseAll(_gate);
        }
    }

    internal void Register(Vcpu vcpu)
    {
        lock (_gate)
        {
            _vcpus.Add(vcpu);
            _running++;
        }
    }

    internal void Unregister()
    {
        lock (_gate)
        {
            _running--;
            Monitor.PulseAll(_gate);
        }
    }

    internal bool PauseRequested
    {
        get
        {
            lock (_gate)
            {
                return _pauseRequested;
            }
        }
    }

    /// <summary>Called by a vCPU thread at a pause point; blocks until resumed or stopped.</summary>
    internal void Park()
    {
        lock (_gate)
        {
            _parked++;
            Monitor.PulseAll(_gate);
            while (_pauseRequested && !IsStopping)
            {
                Monitor.Wait(_gate);
            }

            _parked--;
        }
    }

    private void KickAll()
    {
        Vcpu[] vcpus;
        lock (_gate)
        {
            vcpus = [.. _vcpus];
        }

        foreach (var v in vcpus)
        {
            v.Kick();
        }
    }
}
