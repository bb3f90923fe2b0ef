// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Nexus.Interop;
using Nexus.Testing;
using Nexus.Vmm.Builder;
using Nexus.Vmm.Devices.Virtio.Net;
using Nexus.Vmm.VState;

namespace Nexus.Vmm.Tests;

/// <summary>A fact that needs /dev/kvm, root, /dev/net/tun and iproute2 (a network namespace of its own).</summary>
public sealed class KvmNetFactAttribute : FactAttribute
{
    public KvmNetFactAttribute()
    {
        Skip = HostRequirements.Missing(root: true, kvm: true)
            ?? (File.Exists("/dev/net/tun") ? null : "needs /dev/net/tun")
            ?? (HostRequirements.FindOnPath("ip") is null ? "needs iproute2 (ip)" : null);
    }
}

/// <summary>
/// virtio-net driven by a real guest (guest/test/net.c) on /dev/kvm, its TAP in a network namespace this test creates
/// (10.0.0.1/24 there; nothing outside it is touched): ARP both ways, UDP from the guest, host datagrams echoed back.
/// </summary>
public sealed class NetTests : IDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);
    private static readonly IPAddress s_guest = IPAddress.Parse("10.0.0.2");
    private static readonly byte[] s_mac = [0x06, 0x00, 0x0a, 0x00, 0x00, 0x02];
    private readonly string _netns = $"nexus-vmnet-{Environment.ProcessId}-{Random.Shared.Next(100000)}";
    private readonly string _dir = Directory.CreateTempSubdirectory("nexus-vmnet-").FullName;
    private readonly StringBuilder _console = new();

    public NetTests()
    {
        if (HostRequirements.IsRoot && File.Exists("/dev/net/tun"))
        {
            Ip("netns", "add", _netns);
        }
    }

    private string NetnsPath => Path.Combine("/run/netns", _netns);

    public void Dispose()
    {
        if (File.Exists(NetnsPath))
        {
            Ip("netns", "del", _netns);
        }

        Directory.Delete(_dir, recursive: true);
    }

    [KvmNetFact]
    public async Task GuestResolvesSendsAndEchoesThroughTheTap()
    {
        using var vm = MicroVm.Boot(new VmConfig
        {
            KernelPath = TestGuests.Build("net"),
            MemoryMiB = 32,
            Net = new NetConfig("nxvt0", s_mac, NetnsPath),
            ConsoleOutput = Collect,
        });
        BringUp("nxvt0");
        using var host = HostSocket();
        vm.Start();

        await WaitForConsoleAsync("ready\n");
        Assert.Equal("hello from guest net", await ReceiveFromGuestAsync(host));
        await EchoAsync(host, "ping");
        await EchoAsync(host, "bye");
        var exit = vm.WaitForExit(s_timeout);

        var transport = vm.Transports[0];
        var m = ((VirtioNet)transport.Device).Metrics;
        Assert.True(exit is { Kind: VmExitKind.ExitPort, Code: 1 }, $"{exit}; console: {Console()}; device: {transport.LastError}; loop: {vm.DeviceEvents.LastFault}");
        Assert.Contains("hostile frames returned\narp reply from 10.0.0.1\n", Console(), StringComparison.Ordinal);

        // The four hostile chains were dropped and counted, not sent; the device kept working.
        Assert.Equal((1L, 1L, 2L), (m.TxShortDropped, m.TxOversizedDropped, m.TxMalformedDropped));
        Assert.Equal(0, m.TxTapErrors);
        Assert.True(m.TxFrames >= 4, $"{m.TxFrames} frames sent (ARP request, UDP, two echoes)");
        Assert.True(m.RxFrames >= 3, $"{m.RxFrames} frames received (ARP reply, two datagrams)");
        Assert.Null(transport.LastError);
        Assert.Equal(0, vm.DeviceEvents.Faults);

        // Every notify went through the ioeventfd; the polling RX ring was never interrupted, TX was.
        Assert.Equal(0, transport.VcpuNotifies);
        Assert.True(m.InterruptsSuppressed > 0 && m.Interrupts > 0, $"interrupts {m.Interrupts}, suppressed {m.InterruptsSuppressed}");
    }

    [KvmNetFact]
    public async Task RestoredGuestKeepsItsMacAndTalksOnANewTap()
    {
        var state = Path.Combine(_dir, "vm.state");
        var memory = Path.Combine(_dir, "vm.mem");
        using (var vm = MicroVm.Boot(new VmConfig { KernelPath = TestGuests.Build("net"), MemoryMiB = 32, Net = new NetConfig("nxvt0", s_mac, NetnsPath), ConsoleOutput = Collect }))
        {
            BringUp("nxvt0");
            using var host = HostSocket();
            vm.Start();
            await WaitForConsoleAsync("ready\n");
            Assert.Equal("hello from guest net", await ReceiveFromGuestAsync(host));
            vm.Snapshot(state, memory);
        }

        var missingTap = Assert.Throws<ArgumentException>(() => MicroVm.Restore(state, memory));
        Assert.Contains("TapName", missingTap.Message, StringComparison.Ordinal);

        // The first VM and its TAP are gone; the restored guest answers the kernel's ARP on the new TAP and echoes.
        using var copy = MicroVm.Restore(state, memory, new RestoreOptions { TapName = "nxvt1", NetnsPath = NetnsPath, ConsoleOutput = Collect });
        Assert.Equal(s_mac, ((VirtioNet)copy.Transports[0].Device).Mac.ToArray());
        BringUp("nxvt1");
        using var restoredHost = HostSocket();
        copy.Start();
        await EchoAsync(restoredHost, "bye");
        var exit = copy.WaitForExit(s_timeout);
        Assert.True(exit is { Kind: VmExitKind.ExitPort, Code: 1 }, $"{exit}; console: {Console()}; device: {copy.Transports[0].LastError}");
    }

    [KvmNetFact]
    public void BadTapNameIsRefusedClearly()
    {
        var e = Assert.Throws<ArgumentException>(() => MicroVm.Boot(new VmConfig { KernelPath = TestGuests.Build("net"), MemoryMiB = 32, Net = new NetConfig("a/b", null, NetnsPath) }));
        Assert.Contains("TAP name 'a/b'", e.Message, StringComparison.Ordinal);
    }

    private void BringUp(string tap)
    {
        Ip("-n", _netns, "addr", "add", "10.0.0.1/24", "dev", tap);
        Ip("-n", _netns, "link", "set", tap, "up");
    }

    /// <summary>A UDP socket at 10.0.0.1:7001 inside the test's namespace (a socket stays in the namespace it was made in).</summary>
    private Socket HostSocket() => NetNamespace.RunIn(NetnsPath, () =>
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Parse("10.0.0.1"), 7001));
        return socket;
    });

    private async Task<string> ReceiveFromGuestAsync(Socket host)
    {
        var buffer = new byte[2048];
        var result = await host.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0)).WaitAsync(s_timeout);
        Assert.Equal(new IPEndPoint(s_guest, 7000), result.RemoteEndPoint);
        return Encoding.ASCII.GetString(buffer, 0, result.ReceivedBytes);
    }

    private async Task EchoAsync(Socket host, string text)
    {
        await host.SendToAsync(Encoding.ASCII.GetBytes(text), new IPEndPoint(s_guest, 7000));
        try
        {
            Assert.Equal(text, await ReceiveFromGuestAsync(host));
        }
        catch (TimeoutException)
        {
            throw new Xunit.Sdk.XunitException($"no echo of '{text}'; console: {Console()}");
        }
    }

    private static void Ip(params string[] args)
    {
        var psi = new ProcessStartInfo("ip") { RedirectStandardError = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"ip {string.Join(' ', args)}: {error}");
    }

    private void Collect(byte b)
    {
        lock (_console)
        {
            _console.Append((char)b);
        }
    }

    private string Console()
    {
        lock (_console)
        {
            return _console.ToString();
        }
    }

    private async Task WaitForConsoleAsync(string text)
    {
        var deadline = DateTime.UtcNow + s_timeout;
        while (!Console().Contains(text, StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, $"guest never printed {text.Trim()}; console: {Console()}");
            await Task.Delay(10);
        }
    }
}
