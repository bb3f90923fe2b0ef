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
/// A failed sync fails every later one too: after fdatasync reports an error the kernel may have dropped the dirty
/// pages, and a later sync that succeeds would not mean the earlier bytes are on disk.
/// </summary>
internal sealed class GroupSync
{
    // A plain monitor: System.Threading.Lock has no Wait/PulseAll.
    private readonly object _lock = new();
    private readonly Action<int> _sync;
    private readonly bool[] _slotBusy;

    // Syncs that ended while an earlier one still ran: they count as completed once every earlier one has.
    private readonly HashSet<long> _endedEarly = [];
    private long _started;
    private long _completed;
    private int _running;
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
        long mine;
        int slot;
        long goal;
        lock (_lock)
        {
            // By default the sync that answers this call is the next one to start: one running now may have missed its bytes.
            goal = target ?? _started + 1;
            while (true)
            {
                ThrowIfFailed();
                if (_completed >= goal)
                {
                    return;
                }

                // No sync that covers this call has started yet, and a slot is free: this caller runs it.
                if (_started < goal && _running < _slotBusy.Length)
                {
                    slot = Array.IndexOf(_slotBusy, false);
                    _slotBusy[slot] = true;
                    _running++;
                    mine = ++_started;
                    break;
                }

                Monitor.Wait(_lock);
            }
        }

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
            _endedEarly.Add(mine);
            while (_endedEarly.Remove(_completed + 1))
            {
                _completed++;
            }

            Monitor.PulseAll(_lock);

            // Its own sync may have ended before an earlier one: the leader waits for those too, as its followers do.
            while (true)
            {
                ThrowIfFailed();
                if (_completed >= goal)
                {
                    return;
                }

                Monitor.Wait(_lock);
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
}
