// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net.Sockets;
using System.Text;
using Nexus.Testing;
using Nexus.Vmm.Builder;
using Nexus.Vmm.Devices.Virtio.Vsock;
using Nexus.Vmm.VState;

namespace Nexus.Vmm.Tests;

/// <summary>virtio-vsock driven by a real guest on /dev/kvm, bridged to host Unix sockets.</summary>
public sealed class VsockTests : IDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);
    private readonly string _dir = Directory.CreateTempSubdirectory("nexus-vsock-").FullName;
    private readonly StringBuilder _console = new();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [KvmFact]
    public async Task GuestAndHostInitiatedStreamsCrossTheBridge()
    {
        var uds = Path.Combine(_dir, "v.sock");
        using var service = Listen(uds + "_1234");
        var served = ServeOnceAsync(service);

        using var vm = MicroVm.Boot(new VmConfig
        {
            KernelPath = TestGuests.Build("vsock"),
            MemoryMiB = 32,
            Vsock = new VsockConfig(3, uds),
            ConsoleOutput = Collect,
        });
        vm.Start();
        await WaitForConsoleAsync("ready\n");

        // A connection to a port the guest leaves unanswered is ended by the device's 2 s timeout, without an OK.
        using (var unanswered = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            await unanswered.ConnectAsync(new UnixDomainSocketEndPoint(uds));
            await unanswered.SendAsync("CONNECT 7000\n"u8.ToArray());
            var waited = System.Diagnostics.Stopwatch.StartNew();
            Assert.Equal(0, await unanswered.ReceiveAsync(new byte[16].AsMemory()).AsTask().WaitAsync(s_timeout));
            Assert.InRange(waited.Elapsed.TotalSeconds, 1.5, 10);
        }

        // The guest leaves the host's SHUTDOWN unanswered too: it ends only because the device resets it in time.
        await HostEchoAsync(uds, vm);

        var exit = vm.WaitForExit(s_timeout);
        var transport = vm.Transports[0];
        var vsock = (VirtioVsock)transport.Device;
        Assert.True(exit is { Kind: VmExitKind.ExitPort, Code: 1 }, $"{exit}; console: {Console()}; device: {transport.LastError}; loop: {vm.DeviceEvents.LastFault}");
        Assert.Equal("hello from guest", Encoding.ASCII.GetString(await served.WaitAsync(s_timeout)));
        Assert.Contains("guest got: hi from host\n", Console(), StringComparison.Ordinal);
        Assert.Contains("rst for bad length\n", Console(), StringComparison.Ordinal);
        Assert.Contains("echo done\n", Console(), StringComparison.Ordinal);
        Assert.DoesNotContain("transport reset", Console(), StringComparison.Ordinal);

        // The device kept working after the hostile packet; all its notifications ran on the device thread.
        Assert.Null(transport.LastError);
        Assert.Equal(0, vm.DeviceEvents.Faults);
        Assert.True(vsock.Metrics.ResetsSent >= 2, $"{vsock.Metrics.ResetsSent} RSTs");
        Assert.Equal(0, vsock.ConnectionCount);
        Assert.Equal(0, transport.VcpuNotifies);
        Assert.True(transport.DeviceThreadNotifies > 0);
    }

    [KvmFact]
    public void ExistingSocketPathIsRefusedClearly()
    {
        var uds = Path.Combine(_dir, "taken.sock");
        File.WriteAllText(uds, "");
        var e = Assert.Throws<IOException>(() => MicroVm.Boot(new VmConfig { KernelPath = TestGuests.Build("vsock"), MemoryMiB = 32, Vsock = new VsockConfig(3, uds) }));
        Assert.Contains("already exists", e.Message, StringComparison.Ordinal);
    }

    [KvmFact]
    public async Task SnapshotEndsStreamsAndTheRestoredGuestIsToldAndReachable()
    {
        var uds = Path.Combine(_dir, "v.sock");
        using var service = Listen(uds + "_1234");
        var served = ServeOnceAsync(service);
        var state = Path.Combine(_dir, "vm.state");
        var memory = Path.Combine(_dir, "vm.mem");
        using (var vm = MicroVm.Boot(new VmConfig { KernelPath = TestGuests.Build("vsock"), MemoryMiB = 32, Vsock = new VsockConfig(3, uds), ConsoleOutput = Collect }))
        {
            vm.Start();
            await WaitForConsoleAsync("ready\n");
            vm.Snapshot(state, memory);
            Assert.Equal(1, ((VirtioVsock)vm.Transports[0].Device).Metrics.TransportResets);
        }

        Assert.Equal("hello from guest", Encoding.ASCII.GetString(await served.WaitAsync(s_timeout)));
        lock (_console)
        {
            _console.Clear();
        }

        var missingPath = Assert.Throws<ArgumentException>(() => MicroVm.Restore(state, memory));
        Assert.Contains("VsockUdsPath", missingPath.Message, StringComparison.Ordinal);

        // The restored guest still waits for the host's connection; it reaches it on the new socket path.
        var restoredUds = Path.Combine(_dir, "restored.sock");
        using var copy = MicroVm.Restore(state, memory, new RestoreOptions { VsockUdsPath = restoredUds, ConsoleOutput = Collect });
        copy.Start();
        await HostEchoAsync(restoredUds, copy);
        var exit = copy.WaitForExit(s_timeout);

        Assert.True(exit is { Kind: VmExitKind.ExitPort, Code: 1 }, $"{exit}; console: {Console()}");
        Assert.Equal("transport reset event\necho done\n", Console());
    }

    private static Socket Listen(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        socket.Listen();
        return socket;
    }

    /// <summary>The host service the guest connects to (port 1234): reply once, then hold the stream until the guest ends it.</summary>
    private static Task<byte[]> ServeOnceAsync(Socket service) => Task.Run(async () =>
    {
        using var peer = await service.AcceptAsync();
        var got = await ReadExactlyAsync(peer, 16);
        await peer.SendAsync("hi from host"u8.ToArray());
        var rest = new byte[16];
        while (await peer.ReceiveAsync(rest) > 0)
        {
        }

        return got;
    });

    /// <summary>Host-initiated: CONNECT, OK with the host port, then an echo of what we send (the first bytes ride with CONNECT).</summary>
    private async Task HostEchoAsync(string uds, MicroVm vm)
    {
        try
        {
            using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await client.ConnectAsync(new UnixDomainSocketEndPoint(uds));
            await client.SendAsync("CONNECT 6000\nping"u8.ToArray());
            var ok = await ReadLineAsync(client);
            Assert.Matches(@"^OK 10737418\d\d$", ok);
            Assert.Equal("ping", Encoding.ASCII.GetString(await ReadExactlyAsync(client, 4)));
            await client.SendAsync("second message"u8.ToArray());
            Assert.Equal("second message", Encoding.ASCII.GetString(await ReadExactlyAsync(client, 14)));
        }
        catch (Exception e) when (e is TimeoutException or Xunit.Sdk.XunitException)
        {
            var device = (VirtioVsock)vm.Transports[0].Device;
            throw new Xunit.Sdk.XunitException($"host-initiated stream failed: {e.Message}; console: {Console()}; device: {vm.Transports[0].LastError}; loop: {vm.DeviceEvents.LastFault}; connections {device.ConnectionCount}, RSTs {device.Metrics.ResetsSent}, dropped {device.Metrics.DroppedPackets}");
        }
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

    private static async Task<byte[]> ReadExactlyAsync(Socket socket, int count)
    {
        var buffer = new byte[count];
        var done = 0;
        while (done < count)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(done)).AsTask().WaitAsync(s_timeout);
            Assert.True(n > 0, $"stream ended after {done} of {count} bytes");
            done += n;
        }

        return buffer;
    }

    private static async Task<string> ReadLineAsync(Socket socket)
    {
        var line = new StringBuilder();
        while (true)
        {
            var b = await ReadExactlyAsync(socket, 1);
            if (b[0] == '\n')
            {
                return line.ToString();
            }

            line.Append((char)b[0]);
        }
    }
}
