// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text.Json;
using Nexus.Channel;
using Nexus.Sandbox.Microvm;
using Nexus.Testing;
using Xunit.Abstractions;

namespace Nexus.Image.Tests;

/// <summary>
/// The restore record (docs/channel.md) in the real Linux guest under qemu (see <see cref="LinuxGuestTests"/> for the
/// set-up): the region driver reseeds the kernel's CRNG from the host's seed, steps the wall clock and wipes the seed,
/// once per record; the runtime, as uid 65534 under nexus-init, takes the instance's environment and reseeds
/// <c>random</c>. The records are the microvm driver's own encoding (<see cref="RestoreRecord"/>). What qemu cannot do
/// is a snapshot restore: the record is put in place while the guest runs (below), as the VMM attaches a region that
/// already holds it.
/// </summary>
public sealed class LinuxGuestRestoreTests(ITestOutputHelper output)
{

    // 2040-01-01T00:00:00Z: far from qemu's clock (the host's), so a step to it is unmistakable.
    private const long Year2040Ns = 2_208_988_800L * 1_000_000_000;
    private const long Year2050Ns = 2_524_608_000L * 1_000_000_000;
    private const ulong Sequence = 0x5eed_0000_0000_0001;
    private static readonly byte[] s_seed = Enumerable.Range(0, RestoreRecord.SeedSize).Select(i => (byte)(0xA0 + i)).ToArray();

    [LinuxGuestFact]
    public async Task TheDriverReseedsTheCrngStepsTheClockAndWipesTheSeedOnTheWakeAfterARestoreOnce()
    {
        Assert.Null(GuestDisks.MissingPrerequisite());
        using var dir = new TempDir();
        var root = Directory.CreateDirectory(dir.Combine("root")).FullName;
        Directory.CreateDirectory(Path.Combine(root, "dev"));
        var source = Path.Combine(HostRequirements.RepoRoot, "tests", "Nexus.Image.Tests", "Native", "restore_record.c");
        var (exitCode, compiled) = await Run.ProgramAsync("gcc", ["-static", "-O2", "-Wall", "-Werror", "-o", Path.Combine(root, "init"), source]);
        Assert.True(exitCode == 0, compiled);
        var disk = dir.Combine("test.erofs");
        (exitCode, compiled) = await Run.ProgramAsync("mkfs.erofs", ["--quiet", disk, root]);
        Assert.True(exitCode == 0, compiled);

        // The guest's init copies these into the header page, one per "restore": a record as the driver writes it, then
        // a newer one of a version the driver does not know (its clock would be 2050).
        var valid = RestoreRecord.Encode(Sequence, Year2040Ns, s_seed, new Dictionary<string, string> { ["AWS_LAMBDA_LOG_STREAM_NAME"] = "nx-b" }).Bytes.ToArray();
        var otherVersion = RestoreRecord.Encode(Sequence + 1, Year2050Ns, s_seed, []).Bytes.ToArray();
        otherVersion[RestoreRecord.OffVersion] = 2;
        var memory = await QemuRegion.WriteRamAsync(dir.Combine("guest.ram"), (8192, valid), (12288, otherVersion));

        var run = await QemuGuest.BootAsync(
            $"rdinit=/none root=/dev/vda rootfstype=erofs ro init=/init {QemuRegion.BootArgs}",
            [disk], QemuRegion.MemoryMiB, memory, QemuRegion.BootTimeout, ["-chardev", "null,id=uart2", "-device", "isa-serial,iobase=0x2f8,irq=10,chardev=uart2"]);
        output.WriteLine($"qemu exit {run.ExitCode} after {run.Elapsed.TotalSeconds:0.0} s; console:\n{run.Console}");

        Assert.Equal(0, run.GuestStatus);
        var results = run.UserConsole.Split('\n').Where(l => l.StartsWith("RESULT ", StringComparison.Ordinal)).ToList();
        Assert.Equal(
            [
                "RESULT before applied=0000000000000000 seed wiped=1 clock in 2040's first 2 minutes=0",
                "RESULT read returned 8 count=1",
                $"RESULT restored applied={Sequence:x16} seed wiped=1 clock in 2040's first 2 minutes=1",
                "RESULT read returned 8 count=1",
                "RESULT other version applied=0000000000000000 seed wiped=0 clock in 2040's first 2 minutes=1",
            ],
            results);

        // The reseed is the kernel's own (random.c's line), once; the unknown version is refused (its copy replaced the
        // applied field with its own zero, and the clock stayed in 2040).
        Assert.Single(run.Console.Split('\n'), l => l.Contains("random: crng reseeded due to virtual machine fork", StringComparison.Ordinal));
        Assert.Single(run.Console.Split('\n'), l => l.Contains($"nexus: restore {Sequence} applied: seed mixed in, wall clock set by the host", StringComparison.Ordinal));
        Assert.Contains("nexus: restore record version 2 not understood: not applied", run.Console, StringComparison.Ordinal);
    }

    // Runs as the runtime does (uid 65534, nexus-init, the code drive's environment): `random` in the state a snapshot
    // would carry, then the channel source the runtime builds when it opens the region.
    private const string Probe = """
        import json, mmap, os, random, sys, time
        sys.path.insert(0, "/opt/nexus/frontend")
        random.seed(42)
        out = {"stream_before": os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")}
        import nexus_channel
        from nexus_runtime.channel_source import ChannelSource
        source = ChannelSource(nexus_channel.InvocationSource())
        restore = source._inner.transport.restore
        out["stream"] = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        out["sequence"], out["applied"] = restore.sequence, restore.applied
        out["reseeded"] = random.random() != random.Random(42).random()
        out["seconds_after_2040"] = time.time() - 2208988800
        fd = os.open("/dev/nexus-region", os.O_RDONLY)
        with mmap.mmap(fd, mmap.PAGESIZE, mmap.MAP_SHARED, mmap.PROT_READ) as header:
            out["seed"] = header[1048:1080].hex()
        print("PROBE " + json.dumps(out), flush=True)
        """;

    [LinuxGuestFact(root: true)]
    public async Task TheRuntimeTakesTheInstancesEnvironmentAndReseedsRandomAfterTheDriverApplied()
    {
        Assert.Null(GuestDisks.MissingPrerequisite());
        var image = await ImageIntegrationTests.EnsureImageAsync();
        var root = await GuestDisks.EnsureRootAsync(image, null, CancellationToken.None);
        using var dir = new TempDir();
        var function = Directory.CreateDirectory(dir.Combine("fn")).FullName;
        await File.WriteAllTextAsync(Path.Combine(function, "probe.py"), Probe);
        var code = dir.Combine("code.erofs");

        // The code drive holds the first instance's log stream, as a revision's shared drive does.
        await GuestDisks.BuildCodeDriveAsync(function, new GuestLaunch(["python3", "/var/task/probe.py"], new Dictionary<string, string>
        {
            ["PATH"] = "/usr/local/bin:/usr/bin:/bin",
            ["HOME"] = "/tmp",
            ["PYTHONPATH"] = "/opt/nexus/runtime",
            ["PYTHONDONTWRITEBYTECODE"] = "1",
            ["NEXUS_CHANNEL_DEVICE"] = "/dev/nexus-region",
            ["AWS_LAMBDA_LOG_STREAM_NAME"] = "nx-a",
        }), code, CancellationToken.None);

        // The region as a restored VM finds it: the node's channel header and this instance's record.
        using var channel = new ProcessChannel(new ChannelOptions { RegionSize = QemuRegion.Size, SlotSize = 256 << 10, MaxHeaderBytes = 64 << 10 });
        var header = await LinuxGuestTests.ReadRegionAsync(channel, ChannelLayout.HeaderSize);
        RestoreRecord.Encode(Sequence, Year2040Ns, s_seed, new Dictionary<string, string> { ["AWS_LAMBDA_LOG_STREAM_NAME"] = "nx-b" }).Bytes.CopyTo(header.AsSpan(RestoreRecord.Offset));
        var memory = await QemuRegion.WriteRamAsync(dir.Combine("guest.ram"), (0, header));

        var run = await QemuGuest.BootAsync(
            $"{QemuRegion.BootArgs} nexus_init.tmp=16",
            [root, code], QemuRegion.MemoryMiB, memory, QemuRegion.BootTimeout);
        output.WriteLine($"qemu exit {run.ExitCode} after {run.Elapsed.TotalSeconds:0.0} s; console:\n{run.Console}");

        Assert.Equal(0, run.GuestStatus);
        var line = run.UserConsole.Split('\n').Single(l => l.StartsWith("PROBE ", StringComparison.Ordinal));
        using var probe = JsonDocument.Parse(line["PROBE ".Length..]);
        var found = probe.RootElement;
        Assert.Equal("nx-a", found.GetProperty("stream_before").GetString());
        Assert.Equal("nx-b", found.GetProperty("stream").GetString());
        Assert.Equal(Sequence, found.GetProperty("sequence").GetUInt64());
        Assert.Equal(Sequence, found.GetProperty("applied").GetUInt64());
        Assert.True(found.GetProperty("reseeded").GetBoolean());
        Assert.InRange(found.GetProperty("seconds_after_2040").GetDouble(), 0, 120);
        Assert.Equal(new string('0', 64), found.GetProperty("seed").GetString());
        Assert.Contains("random: crng reseeded due to virtual machine fork", run.Console, StringComparison.Ordinal);
    }
}
