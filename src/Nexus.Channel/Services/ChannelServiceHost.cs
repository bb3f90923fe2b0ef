// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Collections.Concurrent;
using System.Diagnostics;
using Nexus.Interop;

namespace Nexus.Channel.Services;

/// <summary>
/// Serves every channel of a node from one doorbell thread: it waits on all host doorbells with one epoll set and,
/// when a sandbox rings, drains that channel's submissions and hands each request to its service right there (no
/// thread-pool hop before a service sees its request), a ring's worth of records at a time. What the services are is
/// up to whoever opens a session. A session that keeps ringing with nothing submitted is not watched for the rest of a
/// short window (<see cref="DoorbellStormGuard"/>), so a doorbell storm cannot take this thread from the others.
/// </summary>
public sealed class ChannelServiceHost : IAsyncDisposable
{
    private const ulong StopToken = 0;

    private readonly FdPoller _poller = new();
    private readonly EventFd _stop = EventFd.Create(0, EventFdFlags.CloseOnExec | EventFdFlags.NonBlocking);
    private readonly ConcurrentDictionary<ulong, ChannelSession> _sessions = new();
    private readonly Thread _doorbells;
    private readonly List<(ChannelSession Session, long Until)> _muted = [];

    // Touched by the doorbell thread only.
    private readonly List<ChannelSession> _backlog = [];
    private long _nextToken;
    private volatile bool _stopping;
    private bool _releaseOnExit;

    public ChannelServiceHost(ChannelSessionOptions? options = null)
    {
        Options = options ?? new ChannelSessionOptions();
        _poller.Add(_stop.Handle, StopToken);
        _doorbells = new Thread(DoorbellLoop) { IsBackground = true, Name = "nexus-doorbells" };
        _doorbells.Start();
    }

    public ChannelSessionOptions Options { get; }

    /// <summary>Sessions currently served.</summary>
    public int SessionCount => _sessions.Count;

    /// <summary>
    /// A session for <paramref name="channel"/>: register its services, then <see cref="ChannelSession.Start"/> it.
    /// The caller keeps owning the channel (dispose it after the session).
    /// </summary>
    public ChannelSession Open(HostChannel channel)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ObjectDisposedException.ThrowIf(_stopping, this);
        return new ChannelSession(this, channel, (ulong)Interlocked.Increment(ref _nextToken));
    }

    public async ValueTask DisposeAsync()
    {
        if (_stopping)
        {
            return;
        }

        _stopping = true;
        foreach (var session in _sessions.Values)
        {
            await session.DisposeAsync().ConfigureAwait(false);
        }

        _stop.Signal();
        if (Thread.CurrentThread == _doorbells)
        {
            // Disposed from code the doorbell thread runs inline (a caller awaiting an invocation's result resumes on
            // it): joining would wait for itself. The loop ends once this returns to it and releases the handles then.
            _releaseOnExit = true;
            return;
        }

        _doorbells.Join();
        ReleaseHandles();
    }

    private void ReleaseHandles()
    {
        _poller.Dispose();
        _stop.Dispose();
    }

    internal void Watch(ChannelSession session)
    {
        ObjectDisposedException.ThrowIf(_stopping, this);
        _sessions[session.Token] = session;
        _poller.Add(session.Channel.FromSandbox.PollHandle, session.Token);
    }

    internal void Unwatch(ChannelSession session)
    {
        if (_sessions.TryRemove(session.Token, out _))
        {
            try
            {
                _poller.Remove(session.Channel.FromSandbox.PollHandle);
            }
            catch (ObjectDisposedException)
            {
                // The channel's owner closed the doorbell already, which also removed it from the epoll set.
            }
            catch (UnixException)
            {
                // Same: the fd is gone from the set.
            }
        }
    }

    private void DoorbellLoop()
    {
        Span<ulong> tokens = stackalloc ulong[64];
        while (!_stopping)
        {
            // Sessions left with records after a ring's worth are drained again after the doorbells that rang meanwhile.
            var backlog = _backlog.Count == 0 ? [] : _backlog.ToArray();
            _backlog.Clear();
            var n = _poller.Wait(tokens, backlog.Length > 0 ? 0 : MillisecondsToNextUnmute());
            for (var i = 0; i < n; i++)
            {
                if (tokens[i] != StopToken && _sessions.TryGetValue(tokens[i], out var session))
                {
                    Serve(session, rang: true);
                }
            }

            foreach (var session in backlog)
            {
                if (_sessions.ContainsKey(session.Token))
                {
                    Serve(session, rang: false);
                }
            }

            UnmuteDue();
        }

        if (_releaseOnExit)
        {
            ReleaseHandles();
        }
    }

    private void Serve(ChannelSession session, bool rang)
    {
        try
        {
            if (rang)
            {
                session.Channel.FromSandbox.Acknowledge();
                Interlocked.Increment(ref session.Stats._wakes);
            }

            var drained = session.OnDoorbell(out var more);
            if (more)
            {
                Backlog(session);
            }

            if (!rang)
            {
                // Not a wake: the storm guard counts what the sandbox rang.
                return;
            }

            var until = session.StormGuard.OnWake(drained == 0, Stopwatch.GetTimestamp());
            if (until != 0)
            {
                // A doorbell storm: not watched for the rest of the window; its rings add up in the eventfd meanwhile.
                _poller.Modify(session.Channel.FromSandbox.PollHandle, session.Token, PollEvents.None);
                _muted.Add((session, until));
                Interlocked.Increment(ref session.Stats._mutes);
            }
        }
        catch (ObjectDisposedException)
        {
            session.Close("channel disposed while served");
        }
        catch (Exception e)
        {
            // One instance's broken channel or service must not stop the thread that serves every other one.
            session.Close($"doorbell failed: {e.Message}");
        }
    }

    private void Backlog(ChannelSession session)
    {
        if (!_backlog.Contains(session))
        {
            _backlog.Add(session);
        }
    }

    private int MillisecondsToNextUnmute()
    {
        if (_muted.Count == 0)
        {
            return -1;
        }

        var next = _muted.Min(m => m.Until);
        var ticks = Math.Max(0, next - Stopwatch.GetTimestamp());
        return (int)Math.Min(int.MaxValue, ((ticks * 1000) + Stopwatch.Frequency - 1) / Stopwatch.Frequency);
    }

    // Watched again once its window ends; rings it made meanwhile leave the eventfd readable, so the next wait serves it.
    private void UnmuteDue()
    {
        var now = Stopwatch.GetTimestamp();
        for (var i = _muted.Count - 1; i >= 0; i--)
        {
            var (session, until) = _muted[i];
            if (until > now)
            {
                continue;
            }

            _muted.RemoveAt(i);
            if (!_sessions.ContainsKey(session.Token))
            {
                continue;
            }

            try
            {
                _poller.Modify(session.Channel.FromSandbox.PollHandle, session.Token, PollEvents.Readable);
            }
            catch (Exception e) when (e is ObjectDisposedException or UnixException)
            {
                // Unwatched (closed) meanwhile: the fd left the epoll set with it.
            }
        }
    }
}
