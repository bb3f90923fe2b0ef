// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Nexus.Interop.Process;

namespace Nexus.Interop;

/// <summary>
/// Configures an interface inside another network namespace without spawning a process: a dedicated
/// thread joins the namespace (setns is per thread), sets the interface up with the classic socket
/// ioctls (SIOCSIFADDR, SIOCSIFNETMASK, SIOCSIFFLAGS, SIOCADDRT), and goes back before it ends.
/// Struct layouts are x86-64/arm64 glibc (ifreq 40 bytes; rtentry 120 bytes, checked with offsetof).
/// </summary>
public static unsafe partial class NetNamespace
{
    private const int CLONE_NEWNET = 0x40000000;
    private const int AF_INET = 2;
    private const int SOCK_DGRAM = 2;
    private const int SOCK_CLOEXEC = 0x80000;
    private const nuint SIOCADDRT = 0x890b;
    private const nuint SIOCGIFFLAGS = 0x8913;
    private const nuint SIOCSIFFLAGS = 0x8914;
    private const nuint SIOCSIFADDR = 0x8916;
    private const nuint SIOCSIFNETMASK = 0x891c;
    private const short IFF_UP = 0x1;
    private const ushort RTF_UP = 0x1;
    private const ushort RTF_GATEWAY = 0x2;
    private const ushort RTF_HOST = 0x4;
    private const int IfNameSize = 16;
    private const int IfreqBytes = 40;
    private const int RtentryBytes = 120;

    /// <summary>
    /// In the namespace at <paramref name="netnsPath"/>: brings <c>lo</c> up, disables IPv6 on
    /// <paramref name="interfaceName"/>, gives it <paramref name="address"/>/<paramref name="prefixLength"/>,
    /// brings it up and adds one host route to each of <paramref name="routesTo"/> via <paramref name="gateway"/>; then runs
    /// <paramref name="thenInside"/> there too (on the same thread: one namespace switch for both).
    /// </summary>
    public static void ConfigureInterface(string netnsPath, string interfaceName, IPAddress address, int prefixLength, IReadOnlyList<IPAddress> routesTo, IPAddress gateway, Action? thenInside = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(interfaceName);
        if (Encoding.ASCII.GetByteCount(interfaceName) >= IfNameSize)
        {
            throw new ArgumentException($"interface name '{interfaceName}' is longer than {IfNameSize - 1} bytes", nameof(interfaceName));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, 32);
        RunIn(netnsPath, () =>
        {
            Configure(interfaceName, address, prefixLength, routesTo, gateway);
            thenInside?.Invoke();
            return true;
        });
    }

    /// <summary>
    /// Runs <paramref name="work"/> on a thread of its own that has joined the network namespace at
    /// <paramref name="netnsPath"/> (never the caller's own: that is refused), and returns its result. Sockets and
    /// TAP devices it opens stay in that namespace after the thread went back.
    /// </summary>
    public static T RunIn<T>(string netnsPath, Func<T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        using var target = File.OpenHandle(netnsPath, FileMode.Open, FileAccess.Read);
        using var origin = File.OpenHandle("/proc/thread-self/ns/net", FileMode.Open, FileAccess.Read);

        // A thread of its own, joined here: the namespace switch is never visible to pooled work.
        return OneShotThread.Run("nexus-netns", () =>
        {
            var before = File.ResolveLinkTarget("/proc/thread-self/ns/net", returnFinalTarget: false)?.Name;
            Libc.Check(setns(target, CLONE_NEWNET), $"setns({netnsPath})");
            try
            {
                // The work acts on "the current netns"; never let it be the caller's.
                if (File.ResolveLinkTarget("/proc/thread-self/ns/net", returnFinalTarget: false)?.Name == before)
                {
                    throw new InvalidOperationException($"{netnsPath} is the caller's own network namespace");
                }

                return work();
            }
            finally
            {
                Libc.Check(setns(origin, CLONE_NEWNET), "setns(back to the original netns)");
            }
        });
    }

    private static void Configure(string interfaceName, IPAddress address, int prefixLength, IReadOnlyList<IPAddress> routesTo, IPAddress gateway)
    {
        // /proc/sys/net resolves to the namespace of the opening thread, which is now the target.
        // No entry: the interface has no IPv6 configuration in this namespace, so there is nothing to turn off. Asked by
        // the write itself: a test run once found the entry with a stat and then failed to open it.
        try
        {
            File.WriteAllText($"/proc/sys/net/ipv6/conf/{interfaceName}/disable_ipv6", "1");
        }
        catch (Exception e) when (e is DirectoryNotFoundException or FileNotFoundException)
        {
        }

        using var socket = new SafeFd(Libc.Check(NetSocket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), "socket(AF_INET)"));
        SetUp(socket, "lo");
        var mask = prefixLength == 0 ? 0u : uint.MaxValue << (32 - prefixLength);
        Span<byte> maskBytes = [(byte)(mask >> 24), (byte)(mask >> 16), (byte)(mask >> 8), (byte)mask];
        SetAddress(socket, interfaceName, SIOCSIFADDR, address.GetAddressBytes(), "SIOCSIFADDR");
        SetAddress(socket, interfaceName, SIOCSIFNETMASK, maskBytes, "SIOCSIFNETMASK");
        SetUp(socket, interfaceName);
        foreach (var routeTo in routesTo)
        {
            AddHostRoute(socket, interfaceName, routeTo, gateway);
        }
    }

    private static void SetUp(SafeFd socket, string interfaceName)
    {
        var ifr = stackalloc byte[IfreqBytes];
        Name(ifr, interfaceName);

        // SAFETY: ifr is a zeroed 40-byte ifreq on this stack frame; the kernel reads the name and writes ifr_flags at 16.
        Libc.Check(NetIoctl(socket, SIOCGIFFLAGS, ifr), $"SIOCGIFFLAGS({interfaceName})");
        *(short*)(ifr + IfNameSize) |= IFF_UP;
        Libc.Check(NetIoctl(socket, SIOCSIFFLAGS, ifr), $"SIOCSIFFLAGS({interfaceName})");
    }

    private static void SetAddress(SafeFd socket, string interfaceName, nuint request, ReadOnlySpan<byte> ipv4, string call)
    {
        var ifr = stackalloc byte[IfreqBytes];
        Name(ifr, interfaceName);
        SockaddrIn(ifr + IfNameSize, ipv4);

        // SAFETY: ifr is a 40-byte ifreq on this stack frame holding the name and a sockaddr_in the kernel reads.
        Libc.Check(NetIoctl(socket, request, ifr), $"{call}({interfaceName})");
    }

    private static void AddHostRoute(SafeFd socket, string interfaceName, IPAddress destination, IPAddress gateway)
    {
        var rt = stackalloc byte[RtentryBytes];
        new Span<byte>(rt, RtentryBytes).Clear();
        SockaddrIn(rt + 8, destination.GetAddressBytes());
        SockaddrIn(rt + 24, gateway.GetAddressBytes());
        SockaddrIn(rt + 40, [255, 255, 255, 255]);
        *(ushort*)(rt + 56) = RTF_UP | RTF_GATEWAY | RTF_HOST;
        var dev = stackalloc byte[IfNameSize];
        Name(dev, interfaceName);
        *(byte**)(rt + 88) = dev;

        // SAFETY: rt is a zeroed 120-byte rtentry on this stack frame; rt_dev points at a NUL-terminated name
        // on this frame too; the kernel copies both during the call.
        Libc.Check(NetIoctl(socket, SIOCADDRT, rt), $"SIOCADDRT({destination} via {gateway} dev {interfaceName})");
    }

    private static void Name(byte* buffer, string name)
    {
        var span = new Span<byte>(buffer, IfNameSize);
        span.Clear();
        Encoding.ASCII.GetBytes(name, span);
    }

    private static void SockaddrIn(byte* at, ReadOnlySpan<byte> ipv4)
    {
        if (ipv4.Length != 4)
        {
            throw new ArgumentException($"an IPv4 address is needed, not {ipv4.Length} bytes");
        }

        var span = new Span<byte>(at, 16);
        span.Clear();
        *(ushort*)at = (ushort)AddressFamily.InterNetwork;
        ipv4.CopyTo(span[4..]);
    }

    [LibraryImport(Libc.LibraryName, EntryPoint = "setns", SetLastError = true)]
    private static partial int setns(SafeFileHandle fd, int nstype);

    [LibraryImport(Libc.LibraryName, EntryPoint = "socket", SetLastError = true)]
    private static partial int NetSocket(int domain, int type, int protocol);

    [LibraryImport(Libc.LibraryName, EntryPoint = "ioctl", SetLastError = true)]
    private static partial int NetIoctl(SafeFd fd, nuint request, void* argument);
}
