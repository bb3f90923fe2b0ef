// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Text;
using System.Text.Json;
using Nexus.Channel;
using Nexus.Testing;
using Xunit.Abstractions;

namespace Nexus.Image.Tests;

/// <summary>
/// The Linux guest of a microVM (guest/kernel, guest/driver, guest/init) booted under qemu with software emulation,
/// from the real image's erofs root and a code drive: what nexus-init sets up, Python from the root, and the region
/// driver. The region here is a reserved range of qemu's (file-backed, shared) guest RAM standing where the VMM's
/// memory slot would be, so the test reads what the guest wrote in it. The doorbell and the interrupt are KVM's
/// ioeventfd and irqfd, which qemu does not have: those are exercised by the VMM on KVM only (docs/vmm.md).
/// </summary>
public sealed class LinuxGuestTests(ITestOutputHelper output)
{

    // Runs as the runtime would (uid 65534, cwd /var/task, the code drive's environment) and prints what it found.
    private const string Probe = """
        import errno, json, mmap, os, select, struct, sys
        out = {"uid": os.getuid(), "cwd": os.getcwd()}
        st = os.statvfs("/tmp")
        out["tmp_bytes"] = st.f_blocks * st.f_frsize
        with open("/tmp/probe", "w") as f:
            f.write("writable")
        try:
            open("/usr/probe", "w")
        except OSError as e:
            out["root_write"] = errno.errorcode[e.errno]
        out["handler"] = open("/var/task/handler.py").read()
        sys.path.insert(0, "/opt/nexus/frontend")
        import nexus_runtime.bootstrap, nexus_runtime.channel_source, boto3
        out["boto3"] = boto3.__file__
        out["python"] = sys.version.split()[0]

        import nexus_channel
        transport = nexus_channel.connect_from_env()
        out["chunk_size"] = transport.chunk_size
        out["max_header"] = transport.max_header

        fd = os.open("/dev/nexus-region", os.O_RDWR | os.O_NONBLOCK)
        size = os.lseek(fd, 0, os.SEEK_END)
        out["size"] = size
        try:
            os.eventfd_read(fd)
        except OSError as e:
            out["read"] = errno.errorcode[e.errno]
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLOUT)
        out["poll"] = poller.poll(0)[0][1]
        out["ring"] = os.write(fd, struct.pack("<Q", 1))
        for flags, length in ((mmap.MAP_PRIVATE, size), (mmap.MAP_SHARED, size + mmap.PAGESIZE)):
            try:
                mmap.mmap(fd, length, flags, mmap.PROT_READ)
            except OSError as e:
                out.setdefault("refused", []).append(errno.errorcode[e.errno])
        region = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        request_area = struct.unpack_from("<Q", region, 40)[0]
        region[request_area:request_area + 20] = b"written by the guest"
        print("PROBE " + json.dumps(out), flush=True)
        """;

    [LinuxGuestFact(root: true)]
    public async Task GuestBootsTheImageRunsPythonAsTheRuntimeAndMapsTheRegion()
    {
        Assert.Null(GuestDisks.MissingPrerequisite());
        var image = await ImageIntegrationTests.EnsureImageAsync();
        var root = await GuestDisks.EnsureRootAsync(image, null, CancellationToken.None);
        using var dir = new TempDir();
        var function = Directory.CreateDirectory(dir.Combine("fn")).FullName;
        const string Handler = "def handler(event, context):\n    return event\n";
        await File.WriteAllTextAsync(Path.Combine(function, "handler.py"), Handler);
        await File.WriteAllTextAsync(Path.Combine(function, "probe.py"), Probe);
        var code = dir.Combine("code.erofs");
        await GuestDisks.BuildCodeDriveAsync(function, new GuestLaunch(["python3", "/var/task/probe.py"], new Dictionary<string, string>
        {
            ["PATH"] = "/usr/local/bin:/usr/bin:/bin",
            ["HOME"] = "/tmp",
            ["PYTHONPATH"] = "/opt/nexus/runtime",
            ["PYTHONDONTWRITEBYTECODE"] = "1",
            ["NEXUS_CHANNEL_DEVICE"] = "/dev/nexus-region",
        }), code, CancellationToken.None);

        // The node's channel header (a real HostChannel's), placed where the guest's region is.
        var options = new ChannelOptions { RegionSize = QemuRegion.Size, SlotSize = 256 << 10, MaxHeaderBytes = 64 << 10 };
        using var channel = new ProcessChannel(options);
        var memory = await QemuRegion.WriteRamAsync(dir.Combine("guest.ram"), (0, await ReadRegionAsync(channel, ChannelLayout.HeaderSize)));

        var run = await QemuGuest.BootAsync(
            $"{QemuRegion.BootArgs} nexus_init.tmp=48",
            [root, code], QemuRegion.MemoryMiB, memory, QemuRegion.BootTimeout);
        output.WriteLine($"qemu exit {run.ExitCode} after {run.Elapsed.TotalSeconds:0.0} s; console:\n{run.Console}");

        Assert.Contains($"nexus: region {QemuRegion.Size >> 10} KiB at 0x{QemuRegion.Address:x16}, doorbell at 0x00000000d0100000, interrupt 10: /dev/nexus-region", run.Console, StringComparison.Ordinal);
        Assert.Contains("nexus-init: root /dev/vda, code /dev/vdb at /var/task, /tmp 48 MiB", run.UserConsole, StringComparison.Ordinal);
        Assert.Contains("nexus-init: runtime exited with status 0", run.UserConsole, StringComparison.Ordinal);
        Assert.Equal(0, run.GuestStatus);

        var line = run.UserConsole.Split('\n').Single(l => l.StartsWith("PROBE ", StringComparison.Ordinal));
        using var probe = JsonDocument.Parse(line["PROBE ".Length..]);
        var found = probe.RootElement;
        Assert.Equal(65534, found.GetProperty("uid").GetInt32());
        Assert.Equal("/var/task", found.GetProperty("cwd").GetString());
        Assert.Equal(48L << 20, found.GetProperty("tmp_bytes").GetInt64());
        Assert.Equal("EROFS", found.GetProperty("root_write").GetString());
        Assert.Equal(Handler, found.GetProperty("handler").GetString());
        Assert.Equal("/opt/nexus/frontend/boto3/__init__.py", found.GetProperty("boto3").GetString());
        Assert.StartsWith("3.11.", found.GetProperty("python").GetString(), StringComparison.Ordinal);

        // nexus_channel took the region from the device and accepted the host's header.
        Assert.Equal(options.SlotSize, found.GetProperty("chunk_size").GetInt32());
        Assert.Equal(options.MaxHeaderBytes, found.GetProperty("max_header").GetInt32());
        Assert.Equal(QemuRegion.Size, found.GetProperty("size").GetInt64());

        // No interrupt yet: a non-blocking read has nothing, poll says writable only; a ring is one 8-byte write.
        Assert.Equal("EAGAIN", found.GetProperty("read").GetString());
        Assert.Equal(4, found.GetProperty("poll").GetInt32()); // POLLOUT
        Assert.Equal(8, found.GetProperty("ring").GetInt32());
        Assert.Equal(["EINVAL", "EINVAL"], found.GetProperty("refused").EnumerateArray().Select(e => e.GetString()));

        // What the guest wrote through its mapping is in the region's memory, at the request area.
        var written = new byte[20];
        await using (var ram = new FileStream(memory, FileMode.Open, FileAccess.Read))
        {
            ram.Position = QemuRegion.Address + channel.Layout.RequestAreaOffset;
            await ram.ReadExactlyAsync(written);
        }

        Assert.Equal("written by the guest", Encoding.ASCII.GetString(written));
    }

    // A baseline guest's network as the runtime sees it: eth0's address and the default route that ip= set, and a TCP
    // connection to the gateway (under qemu's user network, the host's loopback).
    private const string NetworkProbe = """
        import fcntl, json, os, socket, struct
        out = {"uid": os.getuid()}
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            out["address"] = socket.inet_ntoa(fcntl.ioctl(s.fileno(), 0x8915, struct.pack("256s", b"eth0"))[20:24])  # SIOCGIFADDR
        with open("/proc/net/route") as f:
            for fields in (line.split() for line in f.readlines()[1:]):
                if fields[1] == "00000000":
                    out["gateway"] = socket.inet_ntoa(struct.pack("<I", int(fields[2], 16)))
        with socket.create_connection((out["gateway"], int(os.environ["HOST_PORT"])), timeout=60) as c:
            c.sendall(b"hello from the guest\n")
            out["reply"] = c.makefile().readline().strip()
        print("PROBE " + json.dumps(out), flush=True)
        """;

    /// <summary>
    /// Guards the kernel's <c>CONFIG_IP_PNP</c> (guest/kernel/nexus.config), which a baseline microVM needs: the driver
    /// gives the guest its address on the command line (<c>ip=</c>, as <c>VmNetwork.GuestBootArgs</c> writes it) and
    /// nexus-init configures no network. qemu's user network stands in for the VMM's TAP (its 10.0.2.2 is the host).
    /// </summary>
    [LinuxGuestFact(root: true)]
    public async Task BaselineGuestTakesItsAddressFromTheCommandLineAndReachesTheHostOverVirtioNet()
    {
        Assert.Null(GuestDisks.MissingPrerequisite());
        var image = await ImageIntegrationTests.EnsureImageAsync();
        var root = await GuestDisks.EnsureRootAsync(image, null, CancellationToken.None);
        using var dir = new TempDir();
        var function = Directory.CreateDirectory(dir.Combine("fn")).FullName;
        await File.WriteAllTextAsync(Path.Combine(function, "probe.py"), NetworkProbe);
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        var code = dir.Combine("code.erofs");
        await GuestDisks.BuildCodeDriveAsync(function, new GuestLaunch(["python3", "/var/task/probe.py"], new Dictionary<string, string>
        {
            ["PATH"] = "/usr/local/bin:/usr/bin:/bin",
            ["HOME"] = "/tmp",
            ["HOST_PORT"] = port.ToString(CultureInfo.InvariantCulture),
        }), code, CancellationToken.None);

        var served = ServeOneAsync(listener);
        var run = await QemuGuest.BootAsync(
            "ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off nexus_init.tmp=16",
            [root, code], QemuRegion.MemoryMiB, null, QemuRegion.BootTimeout, ["-netdev", "user,id=n0", "-device", "virtio-net-device,netdev=n0"]);
        output.WriteLine($"qemu exit {run.ExitCode} after {run.Elapsed.TotalSeconds:0.0} s; console:\n{run.Console}");

        Assert.Equal(0, run.GuestStatus);
        var line = run.UserConsole.Split('\n').Single(l => l.StartsWith("PROBE ", StringComparison.Ordinal));
        using var probe = JsonDocument.Parse(line["PROBE ".Length..]);
        var found = probe.RootElement;
        Assert.Equal(65534, found.GetProperty("uid").GetInt32());
        Assert.Equal("10.0.2.15", found.GetProperty("address").GetString());
        Assert.Equal("10.0.2.2", found.GetProperty("gateway").GetString());
        Assert.Equal("hello host", found.GetProperty("reply").GetString());
        Assert.Equal("hello from the guest", await served.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    private static async Task<string> ServeOneAsync(System.Net.Sockets.TcpListener listener)
    {
        using var client = await listener.AcceptTcpClientAsync();
        await using var stream = client.GetStream();
        using var reader = new StreamReader(stream);
        var line = await reader.ReadLineAsync() ?? string.Empty;
        await stream.WriteAsync("hello host\n"u8.ToArray());
        return line;
    }

    [LinuxGuestFact]
    public async Task RegionReadAndPollWakeOnTheRegionsInterrupt()
    {
        Assert.Null(GuestDisks.MissingPrerequisite());
        using var dir = new TempDir();
        var root = Directory.CreateDirectory(dir.Combine("root")).FullName;
        Directory.CreateDirectory(Path.Combine(root, "dev"));
        var source = Path.Combine(HostRequirements.RepoRoot, "tests", "Nexus.Image.Tests", "Native", "region_interrupt.c");
        var (exitCode, compiled) = await Run.ProgramAsync("gcc", ["-static", "-O2", "-Wall", "-Werror", "-o", Path.Combine(root, "init"), source]);
        Assert.True(exitCode == 0, compiled);
        var disk = dir.Combine("test.erofs");
        (exitCode, compiled) = await Run.ProgramAsync("mkfs.erofs", ["--quiet", disk, root]);
        Assert.True(exitCode == 0, compiled);

        // The kernel's initramfs has no /init by this name, so it mounts the test drive as root and runs its /init. The
        // region's range is unbacked here: this test never maps it. The second UART (0x2f8) drives IOAPIC input 10.
        var run = await QemuGuest.BootAsync(
            "rdinit=/none root=/dev/vda rootfstype=erofs ro init=/init nexus.region=0x1000000@0xe0000000:10 nexus.doorbell=0xd0100000",
            [disk], 128, null, QemuRegion.BootTimeout, ["-chardev", "null,id=uart2", "-device", "isa-serial,iobase=0x2f8,irq=10,chardev=uart2"]);
        output.WriteLine($"qemu exit {run.ExitCode} after {run.Elapsed.TotalSeconds:0.0} s; console:\n{run.Console}");

        Assert.Equal(0, run.GuestStatus);
        var results = run.UserConsole.Split('\n').Where(l => l.StartsWith("RESULT ", StringComparison.Ordinal)).ToList();
        Assert.Equal(
            [
                "RESULT before readable=0",
                "RESULT reader still blocked=1",
                "RESULT blocked read returned 8 count=1",
                "RESULT after two edges readable=1,1",
                "RESULT read returned 8 count=2 readable=0",
            ],
            results);
    }

    [LinuxGuestTheory]
    [InlineData("nexus.region=garbage nexus.doorbell=0xd0100000", "nexus.region=garbage rejected: not of the form <size>@<address>:<gsi>")]
    [InlineData("nexus.region=0x1000000@0x1000000:10 nexus.doorbell=0xd0100000", "nexus.region=0x1000000@0x1000000:10 rejected: overlaps the guest's RAM")]
    [InlineData("nexus.region=0x1000800@0xe0000000:10 nexus.doorbell=0xd0100000", "nexus.region=0x1000800@0xe0000000:10 rejected: size and address must be non-zero multiples of the page size")]
    [InlineData("nexus.region=0x1000000@0xe0000000:99 nexus.doorbell=0xd0100000", "nexus.region=0x1000000@0xe0000000:99 rejected: the gsi is not an IOAPIC input")]
    [InlineData("nexus.region=0x1000000@0xe0000000:10 nexus.doorbell=0xe0000100", "nexus.doorbell=0xe0000100 rejected: inside the region")]
    [InlineData("nexus.region=0x1000000@0xe0000000:10", "nexus.doorbell= rejected: missing")]
    public async Task DriverRefusesAMalformedRegionParameter(string parameters, string error)
    {
        // No drives: once the driver has spoken, nexus-init finds no root and ends the VM with its own status.
        var run = await QemuGuest.BootAsync(parameters, [], 128, null, QemuRegion.BootTimeout);
        output.WriteLine($"qemu exit {run.ExitCode} after {run.Elapsed.TotalSeconds:0.0} s; console:\n{run.Console}");

        Assert.Contains("nexus: " + error, run.Console, StringComparison.Ordinal);
        Assert.DoesNotContain(": /dev/nexus-region", run.Console, StringComparison.Ordinal);
        Assert.Contains("nexus-init: cannot mount /dev/vda", run.UserConsole, StringComparison.Ordinal);
        Assert.Equal(125, run.GuestStatus);
    }

    internal static async Task<byte[]> ReadRegionAsync(ProcessChannel channel, int length)
    {
        var bytes = new byte[length];
        await using var region = new FileStream(string.Create(CultureInfo.InvariantCulture, $"/proc/self/fd/{channel.RegionFd.DangerousGetHandle()}"), FileMode.Open, FileAccess.Read);
        await region.ReadExactlyAsync(bytes);
        return bytes;
    }
}
