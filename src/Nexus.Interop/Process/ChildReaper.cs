// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.InteropServices;

namespace Nexus.Interop;

/// <summary>
/// One background thread waits (epoll) on the pidfds of every <see cref="ChildProcess"/> and reaps each
/// as it exits: thousands of sandboxes cost one thread, not one blocked thread each.
/// </summary>
internal static class ChildReaper
{
    private static readonly Lock s_lock = new();
    private static readonly Dictionary<ulong, ChildProcess> s_children = [];
    private static readonly SafeFd s_epoll = StartThread();
    private static ulong s_nextToken;

    internal static unsafe void Watch(ChildProcess child)
    {
        ulong token;
        lock (s_lock)
        {
            token = ++s_nextToken;
            s_children.Add(token, child);
        }

        var ev = new ProcessNative.epoll_event { events = ProcessNative.EPOLLIN, data = token };
        // SAFETY: ev is a local the kernel copies during the call; both fds are kept alive by the marshaller.
        var result = ProcessNative.epoll_ctl(s_epoll, ProcessNative.EPOLL_CTL_ADD, child.PidFd, &ev);
        if (result == -1)
        {
            var errno = Marshal.GetLastPInvokeError();
            lock (s_lock)
            {
                s_children.Remove(token);
            }

            throw new UnixException("epoll_ctl(pidfd)", errno);
        }
    }

    private static SafeFd StartThread()
    {
        var epoll = new SafeFd(Libc.Check(ProcessNative.epoll_create1(ProcessNative.EPOLL_CLOEXEC), "epoll_create1"));
        new Thread(() => Loop(epoll)) { IsBackground = true, Name = "nexus-child-reaper" }.Start();
        return epoll;
    }

    private static unsafe void Loop(SafeFd epoll)
    {
        const int Batch = 32;
        var events = stackalloc ProcessNative.epoll_event[Batch];
        while (true)
        {
            // SAFETY: events is a stack buffer of Batch entries, the most epoll_wait is told to write.
            var n = ProcessNative.epoll_wait(epoll, events, Batch, -1);
            if (n == -1)
            {
                if (Marshal.GetLastPInvokeError() == ProcessNative.EINTR)
                {
                    continue;
                }

                // epoll_wait on a valid epoll fd has no other transient failure; stop rather than spin.
                return;
            }

            for (var i = 0; i < n; i++)
            {
                ChildProcess? child;
                lock (s_lock)
                {
                    s_children.Remove(events[i].data, out child);
                }

                // Closing the pidfd in Reap also removes it from the epoll set. A failure belongs to that
                // child alone: this thread must survive it or no later child would ever be reaped.
                try
                {
                    child?.Reap();
                }
                catch (Exception e)
                {
                    child?.Fail(e);
                }
            }
        }
    }
}
