// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Backend.WriteBack;

/// <summary>
/// Group commit for one file: <see cref="Sync()"/> returns once a sync that started after the call finished, and callers
/// that arrive while syncs run share the next one, which the first of them to find a free slot runs (leader and
/// followers). Up to <c>slots</c> syncs run at once, each on its own slot (the caller's sync action gets the slot's
/// number): the next batch's sync need not wait for the running one to end, so a put under many writers waits about
/// one sync instead of the rest of the running one and then its own.
/// Syncs count as completed in the order they started: sync k is done only once every sync up to k is. So a failure of
/// an earlier sync reaches the waiters of a later one that happened to end first (the rule below holds in start order),
/// and <see cref="Covers"/> and the waits need one counter only.
/// Callers block their thread: a sync blocks its thread anyway, and handing the next batch over by a futex wake-up
/// instead of a thread-pool work item keeps the hand-off off a loaded CPU's run queue (on the 2-core test machine the
/// thread-pool hand-off made a put under 8 writers wait 1.2 to 3.2 ms at p50 instead of ~0.3-0.6 ms).
/// A waiting caller sleeps on its own event and is woken only when it has something to do: its sync completed (or
/// failed), or a slot came free for the next sync, which it is to run (one caller, the one that waited longest among
/// those no started sync covers; the slot is kept for it), instead of every waiter waking to re-check and contend for
/// the lock: on a 2-core guest each needless wake-up is a context switch ahead of the one thread that has work to do.
/// A failed sync fails every later one too: after fdatasync reports an error the kernel may have dropped the dirty
/// pages, and a later sync that succeeds would not mean the earlier bytes are on disk.
/// </summary>
internal sealed class GroupSync
{
    // Reused by every wait of its thread: a thread waits in one group at a time, and a waiter is signalled only while
    // it is in _waiting (taken out in the same step).
    [ThreadStatic]
    private static Waiter? s_waiter;

    private readonly Lock _lock = new();
    private readonly Action<int> _sync;
    private readonly bool[] _slotBusy;

    // Syncs that ended while an earlier one still ran: they count as completed once every earlier one has.
    private readonly HashSet<long> _endedEarly = [];

    // Callers asleep, oldest first, each with the sync it waits for.
    private readonly List<Waiter> _waiting = [];
    private long _started;
    private long _completed;
    private int _running;

    // A waiter was woken to run the next sync on a free slot: no one else starts one until it has.
    private bool _leaderWoken;
    private Exception? _failure;

    /// <summary>Group commit over <paramref name="sync"/>, which syncs the file on the slot it is given (0 to <paramref name="slots"/> - 1).</summary>
    public GroupSync(Action<int> sync, int slots)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slots, 1);
        _sync = sync;
        _slotBusy = new bool[slots];
    }

    /// <summary>Syncs run so far (each answered every caller of its batch).</summary>
    public long Syncs
    {
        get
        {
            lock (_lock)
            {
                return _started;
            }
        }
    }

    /// <summary>
    /// The number of the next sync to start, which covers every write made before this call: pass it to
    /// <see cref="Sync(long)"/> or <see cref="Covers"/> later to ask about those writes alone.
    /// </summary>
    public long NextTarget()
    {
        lock (_lock)
        {
            return _started + 1;
        }
    }

    /// <summary>True once every sync up to <paramref name="target"/> has completed (and none failed).</summary>
    public bool Covers(long target)
    {
        lock (_lock)
        {
            return _failure is null && _completed >= target;
        }
    }

    /// <summary>Returns once every write made before this call is on disk.</summary>
    public void Sync() => SyncUntil(null);

    /// <summary>Returns once every sync up to number <paramref name="target"/> (from <see cref="NextTarget"/>) has completed.</summary>
    public void Sync(long target) => SyncUntil(target);

    private void SyncUntil(long? target)
    {
        // By default the sync that answers this call is the next one to start: one running now may have missed its bytes.
        long goal = 0;
        var first = true;
        var woken = false;
        while (true)
        {
            var slot = 0;
            long number = 0;
            Waiter? waiter = null;
            lock (_lock)
            {
                if (first)
                {
                    goal = target ?? _started + 1;
                    first = false;
                }

                // A woken leader's slot was kept free for it, and nobody started a sync meanwhile: it starts the next one.
                if (woken)
                {
                    _leaderWoken = false;
                    woken = false;
                }

                ThrowIfFailed();
                if (_completed >= goal)
                {
                    return;
                }

                // No sync that covers this call has started yet, and a slot is free: this caller runs it (unless a woken
                // leader is on its way to run it, which then covers this caller too).
                if (_started < goal && _running < _slotBusy.Length && !_leaderWoken)
                {
                    (slot, number) = StartLocked();
                }
                else
                {
                    waiter = EnlistLocked(goal);
                }
            }

            waiter ??= RunAndSettle(slot, number, goal);
            if (waiter is null)
            {
                return;
            }

            // Woken once its goal completed or failed, or to run the next sync on a freed slot (its goal is that sync).
            waiter.Woken.Wait();
            switch (waiter.Outcome)
            {
                case WaitOutcome.Completed:
                    return;
                case WaitOutcome.Failed:
                    // Set before the waiter was woken (the event orders it) and never cleared.
                    ThrowIfFailed();
                    return;
                default:
                    woken = true;
                    break;
            }
        }
    }

    /// <summary>
    /// Runs sync <paramref name="number"/> on <paramref name="slot"/>, counts it ended and wakes whom that concerns.
    /// Returns null once <paramref name="goal"/> has completed, else the caller's waiter, queued; throws once a sync failed.
    /// </summary>
    private Waiter? RunAndSettle(int slot, long number, long goal)
    {
        Exception? failure = null;
        try
        {
            _sync(slot);
        }
        catch (Exception e)
        {
            failure = e;
        }

        lock (_lock)
        {
            _slotBusy[slot] = false;
            _running--;
            _failure ??= failure;
            _endedEarly.Add(number);
            while (_endedEarly.Remove(_completed + 1))
            {
                _completed++;
            }

            WakeLocked();
            ThrowIfFailed();

            // Its own sync may have ended before an earlier one: the caller waits for those too, as its followers do.
            return _completed >= goal ? null : EnlistLocked(goal);
        }
    }

    /// <summary>Under the lock: takes a free slot for the next sync; returns the slot and the sync's number.</summary>
    private (int Slot, long Number) StartLocked()
    {
        var slot = Array.IndexOf(_slotBusy, false);
        _slotBusy[slot] = true;
        _running++;
        return (slot, ++_started);
    }

    /// <summary>Under the lock: the calling thread's waiter, reset and queued for <paramref name="goal"/>.</summary>
    private Waiter EnlistLocked(long goal)
    {
        var waiter = s_waiter ??= new Waiter();
        waiter.Goal = goal;
        waiter.Outcome = WaitOutcome.Waiting;
        waiter.Woken.Reset();
        _waiting.Add(waiter);
        return waiter;
    }

    /// <summary>
    /// Under the lock, after a sync ended: wakes the waiters whose goal has completed (every waiter once a sync failed),
    /// and wakes the oldest waiter whose goal no started sync covers to run the next sync when a slot is free. Nobody
    /// else is woken.
    /// </summary>
    private void WakeLocked()
    {
        for (var i = 0; i < _waiting.Count;)
        {
            var waiter = _waiting[i];
            if (_failure is not null || waiter.Goal <= _completed)
            {
                _waiting.RemoveAt(i);
                waiter.Signal(_failure is null ? WaitOutcome.Completed : WaitOutcome.Failed);
            }
            else
            {
                i++;
            }
        }

        if (_failure is not null || _running == _slotBusy.Length || _leaderWoken)
        {
            return;
        }

        // Every waiter not covered by a started sync waits for the next one; one of them runs it, and that sync covers
        // them all. It is counted started only when that thread runs it, so callers that write meanwhile join its batch.
        for (var i = 0; i < _waiting.Count; i++)
        {
            var waiter = _waiting[i];
            if (waiter.Goal > _started)
            {
                _waiting.RemoveAt(i);
                _leaderWoken = true;
                waiter.Signal(WaitOutcome.Lead);
                return;
            }
        }
    }

    private void ThrowIfFailed()
    {
        if (_failure is not null)
        {
            throw new IOException("the write-back journal could not be synced to disk", _failure);
        }
    }

    private enum WaitOutcome
    {
        Waiting,
        Completed,
        Failed,

        /// <summary>A slot is free for the next sync, kept for this waiter to run it.</summary>
        Lead,
    }

    /// <summary>A sleeping caller: what it waits for, and what it is woken with.</summary>
    private sealed class Waiter
    {
        // No spinning: a wait here lasts about one fdatasync (~0.1-0.5 ms), far longer than a spin would pay for.
        public ManualResetEventSlim Woken { get; } = new(initialState: false, spinCount: 0);

        public long Goal { get; set; }

        public WaitOutcome Outcome { get; set; }

        /// <summary>Under the group's lock, with the waiter already taken out of the queue.</summary>
        public void Signal(WaitOutcome outcome)
        {
            Outcome = outcome;
            Woken.Set();
        }
    }
}
