// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Node.Pool;

/// <summary>Ready instances at their CPU quota run in the idle class among the instances (<see cref="QuotaIdleClass"/>).</summary>
public sealed partial class InstancePool
{
    private readonly Lock _quotaIdleLock = new();

    /// <summary>
    /// Reads every ready instance's quota counter once, and demotes or restores instances as
    /// <see cref="QuotaIdleClass"/> says; returns how many moved. The loop calls it every
    /// <see cref="PoolOptions.QuotaIdlePeriod"/>. A move that fails (the instance stopped meanwhile) is logged and forgotten.
    /// </summary>
    public int SortQuotaIdle()
    {
        if (_quotaIdle is null)
        {
            return 0;
        }

        List<Instance> ready;
        lock (_lock)
        {
            ready = [.. _functions.Values.SelectMany(f => f.Instances).Where(i => i.State is InstanceState.Idle or InstanceState.Busy && i.Sandbox is not null)];
        }

        var moved = 0;
        lock (_quotaIdleLock)
        {
            _quotaIdle.Retain(ready.Select(i => i.Id).ToHashSet(StringComparer.Ordinal));
            var now = _time.GetElapsedTime(_quotaIdleEpoch);
            foreach (var instance in ready)
            {
                if (instance.Sandbox!.ReadThrottledPeriods() is not { } throttled)
                {
                    continue;
                }

                var move = _quotaIdle.Observe(instance.Id, throttled, now);
                if (move != QuotaIdleMove.Stay)
                {
                    moved += Move(instance, move) ? 1 : 0;
                }
            }
        }

        return moved;
    }

    /// <summary>Whether <paramref name="instanceId"/> runs in the idle class now (for tests and figures).</summary>
    public bool IsInQuotaIdleClass(string instanceId)
    {
        lock (_quotaIdleLock)
        {
            return _quotaIdle?.IsDemoted(instanceId) ?? false;
        }
    }

    private bool Move(Instance instance, QuotaIdleMove move)
    {
        var idle = move == QuotaIdleMove.Demote;
        try
        {
            if (instance.Sandbox!.TrySetCpuIdle(idle))
            {
                _metrics.QuotaIdleMove(instance.Function.Name, idle ? "demote" : "restore");
                return true;
            }

            _quotaIdle!.Forget(instance.Id);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _quotaIdle!.Forget(instance.Id);
            _logs.Write(instance.Function.Name, instance.Id, null, $"could not {(idle ? "put the instance in the idle CPU class" : "put the instance back in the normal CPU class")}: {e.Message}");
        }

        return false;
    }

    // The quota counter's baseline as the instance becomes ready (its init ran at a full CPU and may have used that quota
    // up), so that the next reading already sees a first throttle at its share.
    private void BaselineQuotaIdle(Instance instance)
    {
        if (_quotaIdle is null || instance.Sandbox!.ReadThrottledPeriods() is not { } throttled)
        {
            return;
        }

        lock (_quotaIdleLock)
        {
            _quotaIdle.Observe(instance.Id, throttled, _time.GetElapsedTime(_quotaIdleEpoch));
        }
    }

    private async Task QuotaIdleLoopAsync()
    {
        while (!_shutdown.IsCancellationRequested)
        {
            await Task.Delay(_options.QuotaIdlePeriod, _time, _shutdown.Token);
            SortQuotaIdle();
        }
    }
}
