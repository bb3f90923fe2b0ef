// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.InteropServices;
using Nexus.Interop;

namespace Nexus.Vmm.VState;

/// <summary>
/// The VM's device thread (Firecracker's event manager): one epoll loop that runs device work off the vCPU
/// threads: virtqueue notifications that KVM turns into eventfd signals (ioeventfd), and host sockets of
/// devices such as vsock. Handlers run one at a time on this thread; <see cref="Park"/> holds the loop
/// between handlers so a snapshot sees devices and guest memory at rest.
/// </summary>
public sealed class EventLoop : IDisposable
{
    private const ulong WakeToken = 0;

    private readonly FdPoller _poller = new();
    private readonly EventFd _wake = EventFd.Create(flags: EventFdFlags.NonBlocking | EventFdFlags.CloseOnExec);
    private readonly Dictionary<ulong, Action<PollEvents>> _handlers = [];
    private readonly object _lock = new();
    private readonly Thread _thread;
    private ulong _nextToken = 1;
    private int _parkRequests;
    private bool _parked;
    private bool _stopping;
    private long _faults;

    /// <summary>Starts the loop thread; with <paramref name="seccomp"/>, the thread loads that filter before any handler runs.</summary>
    public EventLoop(string name, IReadOnlyList<SeccompDenial>? seccomp = null)
    {
        _poller.Add(_wake.Handle, WakeToken);
        var started = new TaskCompletionSource();
        _thread = new Thread(() =>
        {
            try
            {
                ThreadId = Seccomp.CurrentThreadId();
                if (seccomp is not null)
                {
                    Seccomp.ApplyToCurrentThread(seccomp);
                }
            }
            catch (Exception e)
            {
                started.SetException(e);
                return;
            }

            started.SetResult();
            Run();
        })
        { IsBackground = true, Name = name };
        _thread.Start();
        try
        {
            started.Task.GetAwaiter().GetResult();
        }
        catch
        {
            _poller.Dispose();
            _wake.Dispose();
            throw;
        }
    }

    /// <summary>The loop thread's kernel thread id.</summary>
    public int ThreadId { get; private set; }

    /// <summary>Handlers that threw (a device bug: the device should turn guest faults into device state).</summary>
    public long Faults => Interlocked.Read(ref _faults);

    /// <summary>The last handler exception, for diagnostics.</summary>
    public Exception? LastFault { get; private set; }

    /// <summary>Watches <paramref name="fd"/>; <paramref name="handler"/> runs on the loop thread when it is ready. Returns the token.</summary>
    public ulong Add(SafeHandle fd, PollEvents events, Action<PollEvents> handler)
    {
        ulong token;
        lock (_lock)
        {
            token = _nextToken++;
            _handlers[token] = handler;
        }

        _poller.Add(fd, token, events);
        return token;
    }

    /// <summary>Changes the events <paramref name="fd"/> is watched for (re-arms a one-shot registration).</summary>
    public void Modify(SafeHandle fd, ulong token, PollEvents events) => _poller.Modify(fd, token, events);

    /// <summary>Stops watching <paramref name="fd"/>; call before closing it.</summary>
    public void Remove(SafeHandle fd, ulong token)
    {
        _poller.Remove(fd);
        lock (_lock)
        {
            _handlers.Remove(token);
        }
    }

    /// <summary>Waits until the loop is between handlers and holds it there until the result is disposed.</summary>
    public IDisposable Park()
    {
        if (Environment.CurrentManagedThreadId == _thread.ManagedThreadId)
        {
            throw new InvalidOperationException("the device thread cannot park itself");
        }

        lock (_lock)
        {
            _parkRequests++;
            _wake.Signal();
            while (!_parked && !_stopping)
            {
                Monitor.Wait(_lock);
            }
        }

        return new Parking(this);
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_stopping)
            {
                return;
            }

            _stopping = true;
            Monitor.PulseAll(_lock);
        }

        _wake.Signal();
        _thread.Join();
        _poller.Dispose();
        _wake.Dispose();
    }

    private void Unpark()
    {
        lock (_lock)
        {
            _parkRequests--;
            Monitor.PulseAll(_lock);
        }
    }

    private void Run()
    {
        Span<PollEvent> ready = stackalloc PollEvent[64];
        while (true)
        {
            var n = _poller.Wait(ready, -1);
            lock (_lock)
            {
                while (_parkRequests > 0 && !_stopping)
                {
                    _parked = true;
                    Monitor.PulseAll(_lock);
                    Monitor.Wait(_lock);
                }

                _parked = false;
                if (_stopping)
                {
                    return;
                }
            }

            for (var i = 0; i < n; i++)
            {
                if (ready[i].Token == WakeToken)
                {
                    _wake.TryRead(out _);
                    continue;
                }

                Action<PollEvents>? handler;
                lock (_lock)
                {
                    _handlers.TryGetValue(ready[i].Token, out handler);
                }

                try
                {
                    handler?.Invoke(ready[i].Events);
                }
                catch (Exception e)
                {
                    // One broken device must not stop the others' notifications; the fault is counted and kept.
                    Interlocked.Increment(ref _faults);
                    LastFault = e;
                }
            }
        }
    }

    private sealed class Parking(EventLoop loop) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                loop.Unpark();
            }
        }
    }
}
