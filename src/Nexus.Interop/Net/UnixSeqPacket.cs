// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.InteropServices;

namespace Nexus.Interop;

/// <summary>
/// AF_UNIX SOCK_SEQPACKET pairs that carry messages with descriptors (SCM_RIGHTS): how the node hands a fork template
/// the channel and output descriptors of each new instance. .NET's Socket has no SCM_RIGHTS API, hence sendmsg here.
/// Layouts are glibc x86-64: msghdr 56 bytes, cmsghdr 16 bytes, data aligned to 8.
/// </summary>
public static unsafe partial class UnixSeqPacket
{
    /// <summary>Most descriptors one message carries.</summary>
    public const int MaxFds = 16;

    private const int AF_UNIX = 1;
    private const int SOCK_SEQPACKET = 5;
    private const int SOCK_CLOEXEC = 0x80000;
    private const int SOL_SOCKET = 1;
    private const int SCM_RIGHTS = 1;
    private const int MSG_NOSIGNAL = 0x4000;
    private const int EINTR = 4;

    /// <summary>A connected pair: both ends close-on-exec (the sandbox end is passed on explicitly).</summary>
    public static (SafeFd Host, SafeFd Sandbox) CreatePair()
    {
        var fds = stackalloc int[2];

        // SAFETY: fds points at two ints on this stack frame, exactly what socketpair writes.
        Libc.Check(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), "socketpair(SOCK_SEQPACKET)");
        return (new SafeFd(fds[0]), new SafeFd(fds[1]));
    }

    /// <summary>Sends one message with <paramref name="fds"/> attached (the receiver gets its own copies).</summary>
    public static void Send(SafeFd socket, ReadOnlySpan<byte> data, IReadOnlyList<SafeHandle> fds)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(fds);
        if (fds.Count > MaxFds)
        {
            throw new ArgumentException($"at most {MaxFds} descriptors per message, got {fds.Count}", nameof(fds));
        }

        var added = new bool[fds.Count];
        var socketAdded = false;
        try
        {
            socket.DangerousAddRef(ref socketAdded);
            var raw = new int[fds.Count];
            for (var i = 0; i < fds.Count; i++)
            {
                fds[i].DangerousAddRef(ref added[i]);
                raw[i] = (int)fds[i].DangerousGetHandle();
            }

            var dataLength = fds.Count * sizeof(int);
            var controlLength = fds.Count == 0 ? 0 : 16 + ((dataLength + 7) & ~7);
            var control = stackalloc byte[16 + (MaxFds * sizeof(int))];
            new Span<byte>(control, 16 + (MaxFds * sizeof(int))).Clear();
            fixed (byte* payload = data)
            fixed (int* descriptors = raw)
            {
                // SAFETY: control has room for a cmsghdr and MaxFds ints (checked above); the header is written at its
                // start and the descriptors right behind it, as CMSG_DATA places them on x86-64.
                *(ulong*)control = (ulong)(16 + dataLength);
                *(int*)(control + 8) = SOL_SOCKET;
                *(int*)(control + 12) = SCM_RIGHTS;
                Buffer.MemoryCopy(descriptors, control + 16, MaxFds * sizeof(int), dataLength);

                var iov = stackalloc nint[2];
                iov[0] = (nint)payload;
                iov[1] = data.Length;
                var message = stackalloc byte[56];
                new Span<byte>(message, 56).Clear();

                // SAFETY: msghdr fields at their glibc x86-64 offsets: iov (16), iovlen (24), control (32), controllen (40).
                *(nint*)(message + 16) = (nint)iov;
                *(nint*)(message + 24) = 1;
                *(nint*)(message + 32) = controlLength == 0 ? 0 : (nint)control;
                *(nint*)(message + 40) = controlLength;
                nint sent;
                do
                {
                    sent = sendmsg((int)socket.DangerousGetHandle(), message, MSG_NOSIGNAL);
                }
                while (sent == -1 && Marshal.GetLastPInvokeError() == EINTR);

                Libc.Check(sent, "sendmsg(SCM_RIGHTS)");
            }
        }
        finally
        {
            for (var i = 0; i < fds.Count; i++)
            {
                if (added[i])
                {
                    fds[i].DangerousRelease();
                }
            }

            if (socketAdded)
            {
                socket.DangerousRelease();
            }
        }
    }

    /// <summary>Receives one message (blocking); 0 at end of stream (the peer closed). Descriptors sent along are not accepted.</summary>
    public static int Receive(SafeFd socket, Span<byte> buffer)
    {
        ArgumentNullException.ThrowIfNull(socket);
        fixed (byte* p = buffer)
        {
            nint n;
            do
            {
                // SAFETY: p points at buffer.Length writable bytes, pinned for the call.
                n = recv(socket, p, buffer.Length, 0);
            }
            while (n == -1 && Marshal.GetLastPInvokeError() == EINTR);

            return (int)Libc.Check(n, "recv");
        }
    }

    [LibraryImport(Libc.LibraryName, EntryPoint = "socketpair", SetLastError = true)]
    private static partial int socketpair(int domain, int type, int protocol, int* sv);

    [LibraryImport(Libc.LibraryName, EntryPoint = "sendmsg", SetLastError = true)]
    private static partial nint sendmsg(int socket, byte* message, int flags);

    [LibraryImport(Libc.LibraryName, EntryPoint = "recv", SetLastError = true)]
    private static partial nint recv(SafeFd socket, byte* buffer, nint length, int flags);
}
