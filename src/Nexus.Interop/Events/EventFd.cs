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

    /// <summary>
    /// Takes over a descriptor that is already an eventfd (one a parent process handed down, say); the caller checked
    /// what it is, and KVM refuses anything else when it is registered as an ioeventfd or irqfd.
    /// </summary>
    public static EventFd Adopt(SafeFd handle) => new(handle);

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
            if (TryReadCore(Handle, out var value, out var errno))
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
    public bool TryRead(out ulong value) => TryReadCounter(Handle, "read(eventfd)", out value);

    public void Dispose() => Handle.Dispose();

    /// <summary>
    /// Reads the 8-byte counter of a non-blocking eventfd or timerfd (which resets it); false when there is none yet.
    /// </summary>
    internal static bool TryReadCounter(SafeFd fd, string call, out ulong value)
    {
        while (true)
        {
            if (TryReadCore(fd, out value, out var errno))
            {
                return true;
            }

            if (errno == EAGAIN)
            {
                return false;
            }

            if (errno != EINTR)
            {
                throw new UnixException(call, errno);
            }
        }
    }

    private static unsafe bool TryReadCore(SafeFd fd, out ulong value, out int errno)
    {
        var added = false;
        try
        {
            fd.DangerousAddRef(ref added);
            ulong counter = 0;
            // SAFETY: counter lives on this stack frame; read writes at most 8 bytes into it.
            var n = Libc.Read(fd.Fd, &counter, sizeof(ulong));
            errno = n == -1 ? Marshal.GetLastPInvokeError() : 0;
            value = counter;
            return n == sizeof(ulong);
        }
        finally
        {
            if (added)
            {
                fd.DangerousRelease();
            }
        }
    }
}
