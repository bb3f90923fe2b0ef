// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Node.Pool;

/// <summary>What <see cref="QuotaIdleClass"/> does with one instance after a reading of its quota counter.</summary>
public enum QuotaIdleMove
{
    Stay,

    /// <summary>Put it in the idle class: it used up its quota since the last reading.</summary>
    Demote,

    /// <summary>Back to the normal class: in the idle class it no longer used up its quota.</summary>
    Restore,
}

/// <summary>
/// Which ready instances run in the idle scheduling class among the instances (cgroup <c>cpu.idle</c>, docs/node.md#cpu).
/// An instance whose cgroup used up its CFS quota since the last reading (a CPU consumer at its cap) is demoted: a
/// waking task of any other instance then preempts it at once, where at equal class it could wait for the next tick.
/// It stays demoted only while it still uses up its quota between readings: the idle class then costs it nothing,
/// since the quota, not the class, is what held it back. At the first reading in which it did not, whether it calmed
/// down or its neighbours left it too little CPU (an idle-class task gets almost none while others want it), it is
/// restored and not demoted again for <c>hold</c>, so that a tenant kept from its quota gets it back at once and keeps
/// it. The first reading of an instance only sets its baseline (its init ran at a full CPU and may have used up that
/// quota). Not thread-safe: the pool reads and moves from one loop.
/// </summary>
public sealed class QuotaIdleClass(TimeSpan hold)
{
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>How long a restored instance stays in the normal class, whatever it uses.</summary>
    public TimeSpan Hold { get; } = hold;

    /// <summary>
    /// Takes one reading of <paramref name="instanceId"/>'s throttled-periods counter (<paramref name="throttledPeriods"/>,
    /// monotonic) at <paramref name="now"/>; returns the move to make. The caller reports a move it could not make with
    /// <see cref="Forget"/>.
    /// </summary>
    public QuotaIdleMove Observe(string instanceId, long throttledPeriods, TimeSpan now)
    {
        if (!_entries.TryGetValue(instanceId, out var entry))
        {
            _entries[instanceId] = new Entry { Throttled = throttledPeriods, HeldUntil = TimeSpan.MinValue };
            return QuotaIdleMove.Stay;
        }

        var usedUp = throttledPeriods > entry.Throttled;
        entry.Throttled = throttledPeriods;
        if (entry.Demoted)
        {
            if (usedUp)
            {
                return QuotaIdleMove.Stay;
            }

            entry.Demoted = false;
            entry.HeldUntil = now + Hold;
            return QuotaIdleMove.Restore;
        }

        if (usedUp && now >= entry.HeldUntil)
        {
            entry.Demoted = true;
            return QuotaIdleMove.Demote;
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

        public TimeSpan HeldUntil { get; set; }

        public bool Demoted { get; set; }
    }
}
