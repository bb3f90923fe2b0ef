// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.InteropServices;
using System.Text;

namespace Nexus.Interop;

/// <summary>
/// A TAP interface (a virtio-net device's host end), opened through /dev/net/tun with IFF_TAP | IFF_NO_PI and no
/// vnet header: each read returns one Ethernet frame, each write sends one. Non-blocking and close-on-exec. The
/// interface lives in the network namespace of the thread that opens it (<see cref="Open"/> can pick one); a
/// non-persistent TAP disappears when its last descriptor closes.
/// </summary>
public sealed unsafe partial class Tap : IDisposable
{
    /// <summary>Longest interface name (IFNAMSIZ - 1).</summary>
    public const int MaxNameLength = 15;

    private const uint TUNSETIFF = 0x400454ca;
    private const short IFF_TAP = 0x0002;
    private const short IFF_NO_PI = 0x1000;
    private const int O_RDWR = 0x2;
    private const int O_NONBLOCK = 0x800;
    private const int O_CLOEXEC = 0x80000;
    private const int F_GETFL = 3;
    private const int F_SETFL = 4;
    private const int IfreqBytes = 40;
    private const int EAGAIN = 11;
    private const int EINTR = 4;

    /// <summary>
    /// Wraps <paramref name="frames"/>, any descriptor with TAP semantics (one whole frame per read and write, e.g. a
    /// SOCK_SEQPACKET socket pair in device tests), and makes it non-blocking.
    /// </summary>
    public Tap(SafeFd frames, string name)
    {
        ArgumentNullException.ThrowIfNull(frames);
        Handle = frames;
        Name = name;
        var flags = Libc.Check(Libc.FcntlInt(frames.Fd, F_GETFL, 0), "fcntl(F_GETFL)");
        Libc.Check(Libc.FcntlInt(frames.Fd, F_SETFL, flags | O_NONBLOCK), "fcntl(F_SETFL, O_NONBLOCK)");
    }

    /// <summary>The descriptor (watch it for readability).</summary>
    public SafeFd Handle { get; }

    /// <summary>The interface name.</summary>
    public string Name { get; }

    /// <summary>
    /// Attaches to the TAP <paramref name="name"/> (creating it, non-persistent, when it does not exist), in the
    /// network namespace at <paramref name="netnsPath"/> or, when null, in the caller's own.
    /// </summary>
    public static Tap Open(string name, string? netnsPath = null)
    {
        ValidateName(name);
        return netnsPath is null ? OpenHere(name) : NetNamespace.RunIn(netnsPath, () => OpenHere(name));
    }

    /// <summary>Throws when <paramref name="name"/> cannot be an interface name.</summary>
    public static void ValidateName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Length > MaxNameLength || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            throw new ArgumentException($"TAP name '{name}': 1..{MaxNameLength} characters of [A-Za-z0-9._-]", nameof(name));
        }
    }

    /// <summary>Reads one frame into <paramref name="frame"/> (a longer frame is truncated); 0 when none is waiting.</summary>
    public int Read(Span<byte> frame)
    {
        fixed (byte* buffer = frame)
        {
            while (true)
            {
                // SAFETY: buffer is pinned for frame.Length bytes; read writes at most that many.
                var n = Transfer(buffer, frame.Length, write: false, out var errno);
                if (n >= 0)
                {
                    return (int)n;
                }

                if (errno == EAGAIN)
                {
                    return 0;
                }

                if (errno != EINTR)
                {
                    throw new UnixException($"read(tap {Name})", errno);
                }
            }
        }
    }

    /// <summary>Sends one frame; false when the interface did not take it (down, or its queue full).</summary>
    public bool Write(ReadOnlySpan<byte> frame)
    {
        fixed (byte* buffer = frame)
        {
            while (true)
            {
                // SAFETY: buffer is pinned for frame.Length bytes; write only reads them.
                var n = Transfer(buffer, frame.Length, write: true, out var errno);
                if (n >= 0 || errno != EINTR)
                {
                    return n == frame.Length;
                }
            }
        }
    }

    public void Dispose() => Handle.Dispose();

    private static Tap OpenHere(string name)
    {
        var fd = new SafeFd(Libc.Check(OpenDevice("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC), "open(/dev/net/tun)"));
        try
        {
            var ifr = stackalloc byte[IfreqBytes];
            var span = new Span<byte>(ifr, IfreqBytes);
            span.Clear();
            Encoding.ASCII.GetBytes(name, span);
            *(short*)(ifr + 16) = IFF_TAP | IFF_NO_PI;

            // SAFETY: ifr is a zeroed 40-byte ifreq on this stack frame (name, then ifr_flags at 16); the kernel reads it
            // and writes the final name back into it during the call.
            Ioctl.Call(fd, TUNSETIFF, (nint)ifr, $"TUNSETIFF({name})");
            return new Tap(fd, name);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    // One read(2) or write(2) on the TAP fd, holding a reference so a concurrent Dispose cannot close (and the kernel
    // reuse) the fd mid-call.
    private nint Transfer(byte* buffer, int length, bool write, out int errno)
    {
        var added = false;
        try
        {
            Handle.DangerousAddRef(ref added);
            var n = write ? Libc.Write(Handle.Fd, buffer, (nuint)length) : Libc.Read(Handle.Fd, buffer, (nuint)length);
            errno = n == -1 ? Marshal.GetLastPInvokeError() : 0;
            return n;
        }
        finally
        {
            if (added)
            {
                Handle.DangerousRelease();
            }
        }
    }

    [LibraryImport(Libc.LibraryName, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenDevice(string path, int flags);
}
