// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using Nexus.Interop;

namespace Nexus.Node;

/// <summary>
/// Keeps every thread of the node process at a short EEVDF slice request (docs/node.md#cpu). Why: the node's weight
/// (<c>/nexus-node</c>) decides who runs next, not when the running task stops; a tenant's task keeps its protected slice
/// (about 1.5 ms here) and then runs to the next tick (4 ms) while a waking node thread that serves every other function
/// waits behind it. A waking task with a shorter slice than the running one's preempts it at once (PREEMPT_SHORT).
/// <para>
/// Each thread is set with reset-on-fork, so nothing the node starts (runc and the sandboxes, helpers) inherits the short
/// slice; threads the runtime starts later (thread-pool workers) are caught by a sweep of /proc/self/task every second.
/// Dispose gives the threads the default slice back (the process may outlive the node: tests).
/// </para>
/// </summary>
internal sealed class NodeThreadSlices : IDisposable
{
    private static readonly TimeSpan s_sweepInterval = TimeSpan.FromSeconds(1);
    private readonly long _nanoseconds;
    private readonly Lock _lock = new();
    private readonly Timer _timer;
    private bool _disposed;

    public NodeThreadSlices(long nanoseconds)
    {
        _nanoseconds = nanoseconds;
        Sweep();
        _timer = new Timer(_ => SweepLogged(), null, s_sweepInterval, s_sweepInterval);
    }

    public void Dispose()
    {
        _timer.Dispose();
        lock (_lock)
        {
            _disposed = true;
            foreach (var tid in Threads())
            {
                ThreadSlice.Reset(tid);
            }
        }
    }

    private void SweepLogged()
    {
        try
        {
            Sweep();
        }
        catch (UnixException e)
        {
            // A timer callback's exception would end the process; the node runs on at the slices it has.
            Console.Error.WriteLine($"nexus: node thread slices: {e.Message}");
        }
    }

    private void Sweep()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            foreach (var tid in Threads())
            {
                if (ThreadSlice.Get(tid) is { } current && (current.Nanoseconds != _nanoseconds || !current.ResetOnFork))
                {
                    ThreadSlice.Set(tid, _nanoseconds);
                }
            }
        }
    }

    private static IEnumerable<int> Threads() =>
        Directory.EnumerateDirectories("/proc/self/task").Select(d => int.Parse(Path.GetFileName(d), CultureInfo.InvariantCulture));
}
