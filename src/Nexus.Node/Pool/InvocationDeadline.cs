// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Node.Pool;

/// <summary>
/// The time limit of one instance's invocations: one timer and one shutdown registration for the instance's life,
/// re-armed per invocation, instead of a timer, a delay task and a linked cancellation source per invocation (whose
/// set-up and cancel cost a warm invocation ~12 us on the test machine). An instance runs one invocation at a time.
/// </summary>
internal sealed class InvocationDeadline : IDisposable
{
    private readonly TimeProvider _time;
    private readonly ITimer _timer;
    private readonly CancellationTokenRegistration _shutdown;
    private Limit? _current;

    public InvocationDeadline(TimeProvider time, CancellationToken shutdown)
    {
        _time = time;
        _timer = time.CreateTimer(static d => ((InvocationDeadline)d!).Fire(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _shutdown = shutdown.Register(static d => Volatile.Read(ref ((InvocationDeadline)d!)._current)?.TrySetResult(), this);
    }

    /// <summary>
    /// Arms the limit for an invocation that starts now: the task completes once <paramref name="timeout"/> has passed
    /// or the pool shuts down, whichever is first (never unless one of them happens before <see cref="End"/>).
    /// </summary>
    public Task Begin(TimeSpan timeout)
    {
        // Completed inline, as a delay task is: the invocation resumes on the timer's or the shutdown's thread.
        var limit = new Limit(_time.GetTimestamp() + (long)(timeout.TotalSeconds * _time.TimestampFrequency));
        Volatile.Write(ref _current, limit);
        _timer.Change(timeout, Timeout.InfiniteTimeSpan);
        return limit.Task;
    }

    /// <summary>Disarms the limit of the invocation that ended.</summary>
    public void End()
    {
        Volatile.Write(ref _current, null);
        _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public void Dispose()
    {
        _shutdown.Dispose();
        _timer.Dispose();
    }

    private void Fire()
    {
        if (Volatile.Read(ref _current) is not { } limit)
        {
            return;
        }

        // A timer may fire a little early for the clock it is compared with, or late for an invocation that has
        // ended while a newer one runs: whatever is left of the current limit is waited for again.
        var left = limit.Deadline - _time.GetTimestamp();
        if (left > 0)
        {
            _timer.Change(TimeSpan.FromSeconds((double)left / _time.TimestampFrequency), Timeout.InfiniteTimeSpan);
            return;
        }

        limit.TrySetResult();
    }

    private sealed class Limit(long deadline) : TaskCompletionSource
    {
        public long Deadline { get; } = deadline;
    }
}
