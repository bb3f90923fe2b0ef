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
/// Callers of <see cref="Sync()"/> block their thread: a sync blocks its thread anyway, and handing the next batch over
/// by a futex wake-up instead of a thread-pool work item keeps the hand-off off a loaded CPU's run queue (on the 2-core
/// test machine the thread-pool hand-off made a put under 8 writers wait 1.2 to 3.2 ms at p50 instead of ~0.3-0.6 ms).
/// A thread-pool caller of <see cref="SyncAsync()"/> (a put in the node) that finds a sync running instead gives its
/// thread back while it waits: its sync is run by one of the group's own sync threads (<see cref="SyncThreads"/>, at
/// most one per slot; the one that ends a sync runs the next for the pool callers that came meanwhile), and it is
/// completed through its task, whose continuation runs on the pool. Blocking it would take a pool thread for every put
/// waiting, so a batch could hold no more puts than the pool had threads, and every other work item of the node would
/// queue behind the fdatasyncs. A pool caller that finds no sync running, and any other thread, keeps the blocking
/// path, which saves it two wake-ups per put: at most one pool thread per idle spell waits on a sync.
/// A waiting caller sleeps on its own event and is woken only when it has something to do: its sync completed (or
/// failed), or a slot came free for the next sync, which it is to run (one caller, the one that waited longest among
/// those no started sync covers; the slot is kept for it), instead of every waiter waking to re-check and contend for
/// the lock: on a 2-core guest each needless wake-up is a context switch ahead of the one thread that has work to do.
/// A failed sync fails every later one too: after fdatasync reports an error the kernel may have dropped the dirty
/// pages, and a later sync that succeeds would not mean the earlier bytes are on disk.
/// </summary>
internal sealed partial class GroupSync
{
    // Reused by every wait of its thread: a thread waits in one group at a time, and a waiter is signalled only while
    // it is in _waiting (taken out in the same step).
    [ThreadStatic]
    private static BlockingWaiter? s_waiter;

    private readonly Lock _lock = new();
    private readonly Action<int> _sync;
    private readonly bool[] _slotBusy;
    private readonly SyncThreads _threads;

    // Syncs that ended while an earlier one still ran: they count as completed once every earlier one has.
    private readonly HashSet<long> _endedEarly = [];

    // Callers waiting (asleep, or their task pending), oldest first, each with the sync it waits for.
    private readonly List<Waiter> _waiting = [];
    private long _started;
    private long _completed;
    private int _running;

    // A waiter was woken, or a sync thread asked, to run the next sync on a free slot: no one else starts one until it has.
    private bool _leaderWoken;
    private Exception? _failure;

    /// <summary>Group commit over <paramref name="sync"/>, which syncs the file on the slot it is given (0 to <paramref name="slots"/> - 1).</summary>
    public GroupSync(Action<int> sync, int slots)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slots, 1);
        _sync = sync;
        _slotBusy = new bool[slots];
        _threads = new SyncThreads(this, slots);
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

    /// <summary>
    /// Completes once every write made before this call is on disk. On a thread-pool thread that finds a sync running,
    /// the caller's thread is given back meanwhile and a sync thread of the group runs the next sync; otherwise this is
    /// <see cref="Sync()"/>.
    /// </summary>
    public ValueTask SyncAsync() => SyncUntilAsync(null);

    /// <summary>
    /// Completes once every sync up to number <paramref name="target"/> (from <see cref="NextTarget"/>) has completed,
    /// giving a thread-pool caller's thread back meanwhile as <see cref="SyncAsync()"/> does.
    /// </summary>
    public ValueTask SyncAsync(long target) => SyncUntilAsync(target);

    private ValueTask SyncUntilAsync(long? target)
    {
        // A pool caller that finds no sync running runs its own, as a caller off the pool does: it holds its thread for
        // that one sync, and pool callers that come meanwhile go to a sync thread when it ends. Handing a lone put to a
        // sync thread cost it two wake-ups (p50 0.17 -> 0.22 ms at one pool writer, docs/benchmarks.md). Should a sync
        // start between this look and the call, the caller runs or waits for the next one blocked, as every caller did.
        if (!Thread.CurrentThread.IsThreadPoolThread || NoSyncRuns())
        {
            SyncUntil(target);
            return ValueTask.CompletedTask;
        }

        AsyncWaiter waiter;
        bool askThread;
        lock (_lock)
        {
            ThrowIfFailed();

            // By default the next sync to start covers it; one running now may have missed its bytes. A sync thread is
            // asked only when no started sync covers it and none runs (it ended since the look above): else the thread
            // that ends it runs the next for every pool caller that came meanwhile, awake already. Starting a sync for
            // each (up to the slots) woke a thread per put and flushed once per put at 32 pool writers, with less
            // throughput on the 2-core machine (docs/benchmarks.md).
            var goal = target ?? _started + 1;
            if (_completed >= goal)
            {
                return ValueTask.CompletedTask;
            }

            waiter = new AsyncWaiter(goal);
            _waiting.Add(waiter);
            askThread = goal > _started && _running == 0 && !_leaderWoken;
            _leaderWoken |= askThread;
        }

        if (askThread)
        {
            _threads.Ask();
        }

        return new ValueTask(waiter.Done.Task);
    }

    private bool NoSyncRuns()
    {
        lock (_lock)
        {
            return _running == 0 && !_leaderWoken;
        }
    }

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
            BlockingWaiter? waiter = null;
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
    private BlockingWaiter? RunAndSettle(int slot, long number, long goal)
    {
        var (woken, waiter) = RunSync(slot, number, goal);
        Settle(woken);
        if (woken.Failure is not null)
        {
            throw Failed(woken.Failure);
        }

        return waiter;
    }

    /// <summary>
    /// A sync thread's turn (<see cref="SyncThreads"/>): runs the next sync for the pool callers no started sync covers,
    /// and the next after it while the next batch's oldest waiter is a pool caller too.
    /// </summary>
    private void Lead()
    {
        while (true)
        {
            int slot;
            long number;
            lock (_lock)
            {
                _leaderWoken = false;

                // Nobody left to sync for (a failure answered them all); a slot is free, as it was kept for this turn.
                if (_failure is not null || !_waiting.Exists(w => w.Goal > _started))
                {
                    return;
                }

                (slot, number) = StartLocked();
            }

            if (!Settle(RunSync(slot, number, goal: 0).Woken))
            {
                return;
            }
        }
    }

    /// <summary>
    /// Runs sync <paramref name="number"/> on <paramref name="slot"/> and counts it ended; returns the pool callers it
    /// answered and who runs the next sync (see <see cref="WakeLocked"/>), and, unless <paramref name="goal"/> has
    /// completed or a sync failed, the calling thread's waiter, queued for it.
    /// </summary>
    private (Woken Woken, BlockingWaiter? Waiter) RunSync(int slot, long number, long goal)
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

            var woken = WakeLocked();

            // Its own sync may have ended before an earlier one: the caller waits for those too, as its followers do.
            return (woken, _failure is not null || _completed >= goal ? null : EnlistLocked(goal));
        }
    }

    /// <summary>
    /// Outside the lock: completes the pool callers a sync answered, and when the next sync is a sync thread's, asks one
    /// (from a caller's thread) or returns true (from a sync thread: it runs it itself, awake already).
    /// </summary>
    private bool Settle(Woken woken)
    {
        foreach (var waiter in woken.Completed ?? [])
        {
            if (woken.Failure is null)
            {
                waiter.Done.SetResult();
            }
            else
            {
                waiter.Done.SetException(Failed(woken.Failure));
            }
        }

        if (woken.Next != NextLeader.SyncThread)
        {
            return false;
        }

        if (_threads.IsCurrent)
        {
            return true;
        }

        _threads.Ask();
        return false;
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
    private BlockingWaiter EnlistLocked(long goal)
    {
        var waiter = s_waiter ??= new BlockingWaiter();
        waiter.Goal = goal;
        waiter.Outcome = WaitOutcome.Waiting;
        waiter.Woken.Reset();
        _waiting.Add(waiter);
        return waiter;
    }

    /// <summary>
    /// Under the lock, after a sync ended: wakes the blocked waiters whose goal has completed (every waiter once a sync
    /// failed) and returns the pool callers to complete (outside the lock: a task's continuation may run inline). When
    /// a slot is free, the oldest waiter whose goal no started sync covers decides who runs the next sync: a blocked
    /// caller is woken to run it; for a pool caller a sync thread does. Nobody else is woken.
    /// </summary>
    private Woken WakeLocked()
    {
        List<AsyncWaiter>? completed = null;
        for (var i = 0; i < _waiting.Count;)
        {
            var waiter = _waiting[i];
            if (_failure is not null || waiter.Goal <= _completed)
            {
                _waiting.RemoveAt(i);
                if (waiter is BlockingWaiter blocked)
                {
                    blocked.Signal(_failure is null ? WaitOutcome.Completed : WaitOutcome.Failed);
                }
                else
                {
                    (completed ??= []).Add((AsyncWaiter)waiter);
                }
            }
            else
            {
                i++;
            }
        }

        if (_failure is not null || _running == _slotBusy.Length || _leaderWoken)
        {
            return new Woken(completed, _failure, NextLeader.None);
        }

        // Every waiter not covered by a started sync waits for the next one; one thread runs it, and that sync covers
        // them all. It is counted started only when that thread runs it, so callers that write meanwhile join its batch.
        var oldest = _waiting.Find(w => w.Goal > _started);
        if (oldest is null)
        {
            return new Woken(completed, _failure, NextLeader.None);
        }

        _leaderWoken = true;
        if (oldest is BlockingWaiter leader)
        {
            _waiting.Remove(leader);
            leader.Signal(WaitOutcome.Lead);
            return new Woken(completed, _failure, NextLeader.None);
        }

        return new Woken(completed, _failure, NextLeader.SyncThread);
    }

    private void ThrowIfFailed()
    {
        if (_failure is not null)
        {
            throw Failed(_failure);
        }
    }

    private static IOException Failed(Exception failure) => new("the write-back journal could not be synced to disk", failure);

    /// <summary>What a sync's end calls for outside the lock: pool callers to complete (with the failure, if one failed), and who runs the next sync.</summary>
    private readonly record struct Woken(List<AsyncWaiter>? Completed, Exception? Failure, NextLeader Next);

    /// <summary>Who runs the next sync once a sync ended: nobody new (a woken caller, or none needed), or a sync thread.</summary>
    private enum NextLeader
    {
        None,
        SyncThread,
    }

    private enum WaitOutcome
    {
        Waiting,
        Completed,
        Failed,

        /// <summary>A slot is free for the next sync, kept for this waiter to run it.</summary>
        Lead,
    }

    /// <summary>A waiting caller and the sync it waits for.</summary>
    private abstract class Waiter
    {
        public long Goal { get; set; }
    }

    /// <summary>A pool caller (<see cref="SyncAsync()"/>), completed through its task.</summary>
    private sealed class AsyncWaiter : Waiter
    {
        public AsyncWaiter(long goal) => Goal = goal;

        // Continuations go to the thread pool: run inline they would run the caller's reply on the sync thread, and
        // hold off the next sync it is to run.
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>A sleeping caller (<see cref="Sync()"/>): what it waits for, and what it is woken with.</summary>
    private sealed class BlockingWaiter : Waiter
    {
        // No spinning: a wait here lasts about one fdatasync (~0.1-0.5 ms), far longer than a spin would pay for.
        public ManualResetEventSlim Woken { get; } = new(initialState: false, spinCount: 0);

        public WaitOutcome Outcome { get; set; }

        /// <summary>Under the group's lock, with the waiter already taken out of the queue.</summary>
        public void Signal(WaitOutcome outcome)
        {
            Outcome = outcome;
            Woken.Set();
        }
    }
}
