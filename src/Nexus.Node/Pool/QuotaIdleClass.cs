// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Node.Pool;

/// <summary>What <see cref="QuotaIdleClass"/> does with one instance after a reading of its quota counter.</summary>
public enum QuotaIdleMove
{
    Stay,

    /// <summary>Put it in the idle class: it used up its quota since the last reading, and the instances are not saturated.</summary>
    Demote,

    /// <summary>Back to the normal class: it has not used up its quota for the release time, or the instances are saturated.</summary>
    Restore,
}

/// <summary>
/// Which ready instances run in the idle scheduling class among the instances (cgroup <c>cpu.idle</c>, docs/node.md#cpu).
/// An instance whose cgroup used up its CFS quota since the last reading (a CPU consumer at its quota) is demoted: a
/// waking task of any other instance then preempts it at once, where at equal class it could wait for the tenant's
/// slice or the next tick. Once it has gone <c>release</c> without using up its quota it is restored. While the
/// instances together use nearly all their CPUs (<see cref="ObserveSaturation"/>) nobody is demoted and the demoted are
/// restored: an idle-class task gets almost no CPU while normal ones want it all, and its quota, not the others'
/// demand, is what should limit a tenant. The first reading of an instance only sets its baseline (its init ran at a
/// full CPU and may have used up that quota). Not thread-safe: the pool reads and moves from one loop.
/// </summary>
public sealed class QuotaIdleClass(TimeSpan release, double saturatedCpus)
{
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>How long a demoted instance stays so after it last used up its quota.</summary>
    public TimeSpan ReleaseAfter { get; } = release;

    /// <summary>CPUs the instances together use, from which on they count as saturated.</summary>
    public double SaturatedCpus { get; } = saturatedCpus;

    /// <summary>Whether the last reading of the instances' CPU use found them saturated.</summary>
    public bool Saturated { get; private set; }

    /// <summary>
    /// Takes the instances' CPU use over the last period (<paramref name="cpus"/>, in CPUs) before a round of readings;
    /// returns the instances to restore now because the instances became saturated.
    /// </summary>
    public IReadOnlyList<string> ObserveSaturation(double cpus)
    {
        Saturated = cpus >= SaturatedCpus;
        if (!Saturated)
        {
            return [];
        }

        var restore = _entries.Where(e => e.Value.Demoted).Select(e => e.Key).ToList();
        foreach (var id in restore)
        {
            _entries[id].Demoted = false;
        }

        return restore;
    }

    /// <summary>
    /// Takes one reading of <paramref name="instanceId"/>'s throttled-periods counter (<paramref name="throttledPeriods"/>,
    /// monotonic) at <paramref name="now"/>; returns the move to make. The caller reports a move it could not make with
    /// <see cref="Forget"/>.
    /// </summary>
    public QuotaIdleMove Observe(string instanceId, long throttledPeriods, TimeSpan now)
    {
        if (!_entries.TryGetValue(instanceId, out var entry))
        {
            _entries[instanceId] = new Entry { Throttled = throttledPeriods };
            return QuotaIdleMove.Stay;
        }

        if (throttledPeriods > entry.Throttled)
        {
            entry.Throttled = throttledPeriods;
            entry.LastThrottled = now;
            if (!entry.Demoted && !Saturated)
            {
                entry.Demoted = true;
                return QuotaIdleMove.Demote;
            }

            return QuotaIdleMove.Stay;
        }

        if (entry.Demoted && now - entry.LastThrottled >= ReleaseAfter)
        {
            entry.Demoted = false;
            return QuotaIdleMove.Restore;
        }

        return QuotaIdleMove.Stay;
    }

    /// <summary>Whether <paramref name="instanceId"/> is demoted now.</summary>
    public bool IsDemoted(string instanceId) => _entries.TryGetValue(instanceId, out var entry) && entry.Demoted;

    /// <summary>Drops an instance (stopped, or a move failed): its next reading sets a new baseline.</summary>
    public void Forget(string instanceId) => _entries.Remove(instanceId);

    /// <summary>Drops every instance not in <paramref name="live"/>.</summary>
    public void Retain(IReadOnlySet<string> live)
    {
        foreach (var id in _entries.Keys.Where(id => !live.Contains(id)).ToList())
        {
            _entries.Remove(id);
        }
    }

    private sealed class Entry
    {
        public long Throttled { get; set; }

        public TimeSpan LastThrottled { get; set; }

        public bool Demoted { get; set; }
    }
}
