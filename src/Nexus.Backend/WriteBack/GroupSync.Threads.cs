// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Backend.WriteBack;

internal sealed partial class GroupSync
{
    /// <summary>
    /// The group's own threads that run syncs for pool callers (<see cref="SyncAsync()"/>), at most one per slot. Started
    /// when first asked for and ended after a while without work, so a group no pool caller uses (a sealed segment, a
    /// journal in a test) holds none, and a disposed journal leaves none behind.
    /// </summary>
    private sealed class SyncThreads(GroupSync group, int most)
    {
        // Long enough that a segment taking puts keeps its threads between bursts; short enough not to pile up threads
        // of segments filled long ago.
        private static readonly TimeSpan s_idleEnd = TimeSpan.FromSeconds(10);

        [ThreadStatic]
        private static SyncThreads? s_current;

        private readonly Lock _lock = new();

        // Threads asleep with nothing to do, each on its own event: an ask wakes exactly one of them.
        private readonly List<ManualResetEventSlim> _idle = [];
        private int _threads;
        private int _asked;

        /// <summary>True on one of these threads.</summary>
        public bool IsCurrent => s_current == this;

        /// <summary>Has a thread run the group's next sync (<see cref="Lead"/>): an idle one is woken, or one started.</summary>
        public void Ask()
        {
            lock (_lock)
            {
                _asked++;
                if (_idle.Count > 0)
                {
                    _idle[^1].Set();
                    _idle.RemoveAt(_idle.Count - 1);
                    return;
                }

                // Every thread is busy: the next to finish takes the turn, or a new one while there are fewer than slots.
                if (_threads == most)
                {
                    return;
                }

                _threads++;
            }

            new Thread(Run) { IsBackground = true, Name = "spool sync" }.UnsafeStart();
        }

        private void Run()
        {
            s_current = this;

            // No spinning: a wait here is for the next batch of puts, or for nothing.
            using var woken = new ManualResetEventSlim(initialState: false, spinCount: 0);
            while (true)
            {
                var idle = false;
                lock (_lock)
                {
                    if (_asked > 0)
                    {
                        _asked--;
                    }
                    else
                    {
                        woken.Reset();
                        _idle.Add(woken);
                        idle = true;
                    }
                }

                if (!idle)
                {
                    group.Lead();
                    continue;
                }

                // Set by an ask that took it off the idle list (the ask is counted, for whichever thread comes first);
                // after the idle time without one, it ends.
                if (!woken.Wait(s_idleEnd))
                {
                    lock (_lock)
                    {
                        if (_idle.Remove(woken))
                        {
                            _threads--;
                            return;
                        }
                    }
                }
            }
        }
    }
}
