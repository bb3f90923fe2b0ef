// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.InteropServices;

namespace Nexus.Interop;

/// <summary>epoll event bits (EPOLL*), Linux values.</summary>
[Flags]
public enum PollEvents : uint
{
    None = 0,
    Readable = 0x1,
    Writable = 0x4,
    Error = 0x8,
    Hangup = 0x10,

    /// <summary>Report once, then stay disarmed until <see cref="FdPoller.Modify"/> re-arms the fd.</summary>
    OneShot = 1u << 30,
}

/// <summary>One ready fd reported by <see cref="FdPoller.Wait(Span{PollEvent}, int)"/>.</summary>
public readonly record struct PollEvent(ulong Token, PollEvents Events);

/// <summary>
/// An epoll set: one thread waits for many fds (doorbell eventfds, sockets), each registered with a caller-chosen token.
/// </summary>
public sealed class FdPoller : IDisposable
{
    private const int EpollCtlAdd = 1;
    private const int EpollCtlDel = 2;
    private const int EpollCtlMod = 3;
    private const int EpollCloexec = 0x80000;
    private const int EINTR = 4;

    private readonly SafeFd _epoll;

    public FdPoller() =>
        _epoll = new SafeFd(Libc.Check(Libc.EpollCreate1(EpollCloexec), "epoll_create1"));

    /// <summary>Watches <paramref name="fd"/> for <paramref name="events"/>; <paramref name="token"/> is reported by Wait.</summary>
    public void Add(SafeHandle fd, ulong token, PollEvents events = PollEvents.Readable) => Control(EpollCtlAdd, fd, token, events);

    /// <summary>Changes what <paramref name="fd"/> is watched for (and re-arms a one-shot registration).</summary>
    public void Modify(SafeHandle fd, ulong token, PollEvents events) => Control(EpollCtlMod, fd, token, events);

    /// <summary>Stops watching <paramref name="fd"/>.</summary>
    public void Remove(SafeHandle fd) => Control(EpollCtlDel, fd, 0, PollEvents.None);

    /// <summary>
    /// Waits up to <paramref name="timeoutMs"/> (-1: forever) and writes the tokens of ready fds into
    /// <paramref name="tokens"/>; returns how many (0 on timeout or signal interruption).
    /// </summary>
    public int Wait(Span<ulong> tokens, int timeoutMs)
    {
        Span<PollEvent> events = stackalloc PollEvent[Math.Min(tokens.Length, 256)];
        var n = Wait(events, timeoutMs);
        for (var i = 0; i < n; i++)
        {
            tokens[i] = events[i].Token;
        }

        return n;
    }

    /// <summary>Like <see cref="Wait(Span{ulong}, int)"/>, with the events each fd is ready for.</summary>
    public unsafe int Wait(Span<PollEvent> events, int timeoutMs)
    {
        var max = Math.Min(events.Length, 256);
        var eventSize = EventSize;
        var buffer = stackalloc byte[max * eventSize];
        var added = false;
        try
        {
            _epoll.DangerousAddRef(ref added);
            // SAFETY: buffer holds max events of the platform's epoll_event size; the kernel writes at most max.
            var n = Libc.EpollWait(_epoll.Fd, buffer, max, timeoutMs);
            if (n == -1 && Marshal.GetLastPInvokeError() == EINTR)
            {
                return 0;
            }

            Libc.Check(n, "epoll_wait");
            for (var i = 0; i < n; i++)
            {
                // SAFETY: i < n <= max, so the reads stay inside buffer; data follows the 4-byte events field.
                var at = buffer + (i * eventSize);
                events[i] = new PollEvent(*(ulong*)(at + DataOffset), (PollEvents)(*(uint*)at));
            }

            return n;
        }
        finally
        {
            if (added)
            {
                _epoll.DangerousRelease();
            }
        }
    }

    public void Dispose() => _epoll.Dispose();

    // struct epoll_event is packed (12 bytes) on x86-64 and naturally aligned (16 bytes) elsewhere.
    private static int EventSize => RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;

    private static int DataOffset => RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    private unsafe void Control(int op, SafeHandle fd, ulong token, PollEvents events)
    {
        ArgumentNullException.ThrowIfNull(fd);
        var ev = stackalloc byte[16];
        *(uint*)ev = (uint)events;
        *(ulong*)(ev + DataOffset) = token;
        bool addedEpoll = false, addedFd = false;
        try
        {
            _epoll.DangerousAddRef(ref addedEpoll);
            fd.DangerousAddRef(ref addedFd);
            var name = op switch { EpollCtlAdd => "epoll_ctl(ADD)", EpollCtlMod => "epoll_ctl(MOD)", _ => "epoll_ctl(DEL)" };

            // SAFETY: ev is a 16-byte stack buffer, large enough for epoll_event on every architecture.
            Libc.Check(Libc.EpollCtl(_epoll.Fd, op, (int)fd.DangerousGetHandle(), ev), name);
        }
        finally
        {
            if (addedFd)
            {
                fd.DangerousRelease();
            }

            if (addedEpoll)
            {
                _epoll.DangerousRelease();
            }
        }
    }
}
