// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.InteropServices;

namespace Nexus.Interop;

/// <summary>eventfd flags (EFD_*), Linux values.</summary>
[Flags]
public enum EventFdFlags
{
    None = 0,
    Semaphore = 0x1,
    NonBlocking = 0x800,
    CloseOnExec = 0x80000,
}

public static partial class Libc
{
    [LibraryImport(LibraryName, EntryPoint = "eventfd", SetLastError = true)]
    internal static partial int EventFdCreate(uint initialValue, int flags);

    [LibraryImport(LibraryName, EntryPoint = "read", SetLastError = true)]
    internal static unsafe partial nint Read(int fd, void* buffer, nuint count);

    [LibraryImport(LibraryName, EntryPoint = "write", SetLastError = true)]
    internal static unsafe partial nint Write(int fd, void* buffer, nuint count);

    [LibraryImport(LibraryName, EntryPoint = "epoll_create1", SetLastError = true)]
    internal static partial int EpollCreate1(int flags);

    [LibraryImport(LibraryName, EntryPoint = "epoll_ctl", SetLastError = true)]
    internal static unsafe partial int EpollCtl(int epfd, int op, int fd, void* ev);

    [LibraryImport(LibraryName, EntryPoint = "epoll_wait", SetLastError = true)]
    internal static unsafe partial int EpollWait(int epfd, void* events, int maxEvents, int timeoutMs);
}

/// <summary>
/// A Linux eventfd: the doorbell of a Nexus channel. Each <see cref="Signal"/> adds to a 64-bit counter;
/// a read returns the counter and resets it, so any number of rings before a wake costs one wake.
/// </summary>
public sealed class EventFd : IDisposable
{
    private const int EAGAIN = 11;
    private const int EINTR = 4;

    private EventFd(SafeFd handle) => Handle = handle;

    /// <summary>The descriptor (pass it to a child with a spawn dup2 action).</summary>
    public SafeFd Handle { get; }

    /// <summary>Creates an eventfd; close-on-exec so that only explicit fd passing hands it to a child.</summary>
    public static EventFd Create(uint initialValue = 0, EventFdFlags flags = EventFdFlags.CloseOnExec) =>
        new(new SafeFd(Libc.Check(Libc.EventFdCreate(initialValue, (int)flags), "eventfd")));

    /// <summary>Adds <paramref name="value"/> to the counter, waking a reader.</summary>
    public unsafe void Signal(ulong value = 1)
    {
        var added = false;
        try
        {
            Handle.DangerousAddRef(ref added);
            // SAFETY: value lives on this stack frame for the duration of the call; write reads exactly 8 bytes.
            Libc.Check(Libc.Write(Handle.Fd, &value, sizeof(ulong)), "write(eventfd)");
        }
        finally
        {
            if (added)
            {
                Handle.DangerousRelease();
            }
        }
    }

    /// <summary>Reads and resets the counter, blocking until it is non-zero (unless the fd is non-blocking).</summary>
    public ulong Wait()
    {
        while (true)
        {
            if (TryReadCore(out var value, out var errno))
            {
                return value;
            }

            if (errno is not EINTR)
            {
                Libc.Check(-1, "read(eventfd)");
            }
        }
    }

    /// <summary>Reads and resets the counter when it is non-zero; false when it is zero (non-blocking fds only).</summary>
    public bool TryRead(out ulong value)
    {
        while (true)
        {
            if (TryReadCore(out value, out var errno))
            {
                return true;
            }

            if (errno == EAGAIN)
            {
                return false;
            }

            if (errno != EINTR)
            {
                Libc.Check(-1, "read(eventfd)");
            }
        }
    }

    public void Dispose() => Handle.Dispose();

    private unsafe bool TryReadCore(out ulong value, out int errno)
    {
        var added = false;
        try
        {
            Handle.DangerousAddRef(ref added);
            ulong counter = 0;
            // SAFETY: counter lives on this stack frame; read writes at most 8 bytes into it.
            var n = Libc.Read(Handle.Fd, &counter, sizeof(ulong));
            errno = n == -1 ? Marshal.GetLastPInvokeError() : 0;
            value = counter;
            return n == sizeof(ulong);
        }
        finally
        {
            if (added)
            {
                Handle.DangerousRelease();
            }
        }
    }
}

/// <summary>
/// An epoll set of doorbells: one thread waits for many eventfds, each registered with a caller-chosen token.
/// </summary>
public sealed class EventFdPoller : IDisposable
{
    private const int EpollCtlAdd = 1;
    private const int EpollCtlDel = 2;
    private const uint EpollIn = 0x1;
    private const int EpollCloexec = 0x80000;
    private const int EINTR = 4;

    private readonly SafeFd _epoll;

    public EventFdPoller() =>
        _epoll = new SafeFd(Libc.Check(Libc.EpollCreate1(EpollCloexec), "epoll_create1"));

    /// <summary>Watches <paramref name="fd"/> for readability; <paramref name="token"/> is reported by <see cref="Wait"/>.</summary>
    public void Add(SafeFd fd, ulong token) => Control(EpollCtlAdd, fd, token);

    /// <summary>Stops watching <paramref name="fd"/>.</summary>
    public void Remove(SafeFd fd) => Control(EpollCtlDel, fd, 0);

    /// <summary>
    /// Waits up to <paramref name="timeoutMs"/> (-1: forever) and writes the tokens of readable fds into
    /// <paramref name="tokens"/>; returns how many (0 on timeout or signal interruption).
    /// </summary>
    public unsafe int Wait(Span<ulong> tokens, int timeoutMs)
    {
        var max = Math.Min(tokens.Length, 256);
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
                // SAFETY: i < n <= max, so the read stays inside buffer; data follows the 4-byte events field.
                tokens[i] = *(ulong*)(buffer + (i * eventSize) + DataOffset);
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

    private unsafe void Control(int op, SafeFd fd, ulong token)
    {
        ArgumentNullException.ThrowIfNull(fd);
        var ev = stackalloc byte[16];
        *(uint*)ev = EpollIn;
        *(ulong*)(ev + DataOffset) = token;
        bool addedEpoll = false, addedFd = false;
        try
        {
            _epoll.DangerousAddRef(ref addedEpoll);
            fd.DangerousAddRef(ref addedFd);
            // SAFETY: ev is a 16-byte stack buffer, large enough for epoll_event on every architecture.
            Libc.Check(Libc.EpollCtl(_epoll.Fd, op, fd.Fd, ev), op == EpollCtlAdd ? "epoll_ctl(ADD)" : "epoll_ctl(DEL)");
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
