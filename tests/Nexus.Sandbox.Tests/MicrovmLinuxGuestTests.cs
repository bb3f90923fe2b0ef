// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using Nexus.Image;
using Nexus.Interop;
using Nexus.Sandbox.Microvm;

namespace Nexus.Sandbox.Tests;

/// <summary>
/// The microvm driver's Linux-guest mode without KVM: what it builds (the image's erofs root, the code drive with the
/// runtime's command and environment), the VMM command lines it composes for the ready-snapshot boot and for each
/// restore, the snapshot's name (it changes with any disk), and the files a jail gets. The VMM here is a shell script
/// that records its arguments and plays nexus-vmm's part in files only (a snapshot boot writes vm.state and vm.mem, a
/// restore waits to be killed): it stands in for nothing the node talks to, since a nexus-mode VM's channel is served by
/// the node whether or not anything maps it. What KVM adds (the boot itself) is in MicrovmLinuxEndToEndTests.
/// </summary>
public sealed class MicrovmLinuxGuestTests : IDisposable
{
    private const string FakeVmm = """
        #!/bin/sh
        # Records its arguments, then does in files what nexus-vmm's options ask for.
        { echo "--- call"; printf '%s\n' "$@"; } >> "$(dirname "$0")/calls"
        previous=
        for argument; do
            if [ "$previous" = --snapshot-to ]; then
                echo state > "$argument/vm.state"
                echo memory > "$argument/vm.mem"
                exit 0
            fi
            previous=$argument
        done
        exec sleep 60
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("nexus-microvm-linux-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_boot_and_a_restore_name_both_drives_read_only_in_slot_order_and_a_jail_gets_exactly_their_files()
    {
        var boot = new GuestBoot("/k/vmlinux", ["/run/d/root.erofs", "/run/d/code.erofs"], "nexus_init.tmp=64", PvLiteGuest: true);

        Assert.Equal(["--kernel", "/k/vmlinux", "--mem", "256", "--drive-readonly", "/run/d/root.erofs", "--drive-readonly", "/run/d/code.erofs", "--cmdline-append", "nexus_init.tmp=64", "--pvlite-guest"], boot.BootArguments(256));
        Assert.Equal(["--restore", "/i/snapshot", "--drive-readonly", "/run/d/root.erofs", "--drive-readonly", "/run/d/code.erofs"], boot.RestoreArguments("/i/snapshot"));
        Assert.Equal(["--kernel", "/kernel", "--mem", "128", "--drive-readonly", "/drives/vda", "--drive-readonly", "/drives/vdb", "--cmdline-append", "nexus_init.tmp=64", "--pvlite-guest"], boot.InJail().BootArguments(128));
        Assert.Equal(["--kernel", "/g.elf", "--mem", "32"], new GuestBoot("/g.elf", [], null).BootArguments(32));

        Assert.Equal(
            new Dictionary<string, string> { ["/kernel"] = "/k/vmlinux", ["/drives/vda"] = "/run/d/root.erofs", ["/drives/vdb"] = "/run/d/code.erofs" },
            boot.JailFiles(snapshotFolder: null));
        var snapshot = Directory.CreateDirectory(Path.Combine(_dir, "snapshot")).FullName;
        File.WriteAllText(Path.Combine(snapshot, "vm.state"), "s");
        File.WriteAllText(Path.Combine(snapshot, "vm.mem"), "m");
        Assert.Equal(
            new Dictionary<string, string>
            {
                ["/snapshot/vm.state"] = Path.Combine(snapshot, "vm.state"),
                ["/snapshot/vm.mem"] = Path.Combine(snapshot, "vm.mem"),
                ["/drives/vda"] = "/run/d/root.erofs",
                ["/drives/vdb"] = "/run/d/code.erofs",
            },
            boot.JailFiles(snapshot));

        // Baseline's address comes first, then nexus-init's /tmp size.
        Assert.Equal("ip=172.16.0.2::172.16.0.1:255.255.255.252::eth0:off nexus_init.tmp=48 random.trust_cpu=on quiet", MicrovmSandboxDriver.GuestCommandLine("ip=172.16.0.2::172.16.0.1:255.255.255.252::eth0:off", 48));
        Assert.Equal("nexus_init.tmp=64 random.trust_cpu=on quiet", MicrovmSandboxDriver.GuestCommandLine(null, 64));
    }

    [Fact]
    public void The_ready_snapshots_name_changes_with_the_kernel_either_drive_the_command_line_or_the_sizes()
    {
        var (kernel, root, code) = (Write("vmlinux", "k"), Write("root.erofs", "r"), Write("code.erofs", "c"));
        var boot = new GuestBoot(kernel, [root, code], "nexus_init.tmp=64");
        var name = ReadySnapshots.Name("nx", "fn-1", boot, 128, 64 << 20);

        Assert.StartsWith("nx-fn-1-", name, StringComparison.Ordinal);
        Assert.Equal(name, ReadySnapshots.Name("nx", "fn-1", boot with { }, 128, 64 << 20));
        Assert.NotEqual(name, ReadySnapshots.Name("nx", "fn-2", boot, 128, 64 << 20));
        Assert.NotEqual(name, ReadySnapshots.Name("nx", "fn-1", boot, 256, 64 << 20));
        Assert.NotEqual(name, ReadySnapshots.Name("nx", "fn-1", boot, 128, 32 << 20));
        Assert.NotEqual(name, ReadySnapshots.Name("nx", "fn-1", boot with { AppendBootArgs = "nexus_init.tmp=512" }, 128, 64 << 20));
        Assert.NotEqual(name, ReadySnapshots.Name("nx", "fn-1", boot with { Drives = [root] }, 128, 64 << 20));
        Assert.NotEqual(name, ReadySnapshots.Name("nx", "fn-1", boot with { Drives = [code, root] }, 128, 64 << 20));
        Assert.NotEqual(name, ReadySnapshots.Name("nx", "fn-1", boot with { PvLiteGuest = true }, 128, 64 << 20));

        // A disk rewritten in place (same path) is another disk: so is the kernel.
        foreach (var file in new[] { root, code, kernel })
        {
            var before = ReadySnapshots.Name("nx", "fn-1", boot, 128, 64 << 20);
            File.AppendAllText(file, "changed");
            Assert.NotEqual(before, ReadySnapshots.Name("nx", "fn-1", boot, 128, 64 << 20));
        }
    }

    [Fact]
    public void A_revisions_code_drive_is_shared_by_instances_that_differ_only_in_their_own_variables()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_dir, "fn")).FullName;
        var instanceVariables = new HashSet<string>(StringComparer.Ordinal) { "AWS_LAMBDA_LOG_STREAM_NAME" };
        GuestLaunch Launch(string stream, string handler = "handler.handler") => GuestDrives.Launch(
            Spec(stream, folder) with { Environment = new Dictionary<string, string> { ["AWS_LAMBDA_LOG_STREAM_NAME"] = stream, ["_HANDLER"] = handler } }, nexus: true);

        var name = GuestDrives.TemplateDriveName("nx", "fn-1", folder, Launch("nx-a"), instanceVariables);
        Assert.Equal(name, GuestDrives.TemplateDriveName("nx", "fn-1", folder, Launch("nx-b"), instanceVariables));
        Assert.NotEqual(name, GuestDrives.TemplateDriveName("nx", "fn-1", folder, Launch("nx-a", "other.handler"), instanceVariables));
        Assert.NotEqual(name, GuestDrives.TemplateDriveName("nx", "fn-1", Path.Combine(_dir, "fn2"), Launch("nx-a"), instanceVariables));
        Assert.NotEqual(name, GuestDrives.TemplateDriveName("nx", "fn-1", folder, Launch("nx-a"), new HashSet<string>(StringComparer.Ordinal)));

        // The region device replaces the container's descriptors in nexus mode only.
        Assert.Equal(GuestDrives.RegionDevice, Launch("nx-a").Environment["NEXUS_CHANNEL_DEVICE"]);
        Assert.False(GuestDrives.Launch(Spec("nx-a", folder), nexus: false).Environment.ContainsKey("NEXUS_CHANNEL_DEVICE"));
    }

    [Fact]
    public async Task A_nexus_mode_linux_guest_boots_once_with_root_and_code_drives_and_each_instance_restores_with_its_own_links()
    {
        Assert.True(GuestDisks.MissingPrerequisite() is null, GuestDisks.MissingPrerequisite());
        var (run, vmm, kernel, rootfs, function) = Fixture();
        await using var driver = new MicrovmSandboxDriver(new MicrovmDriverOptions
        {
            GuestKernel = kernel,
            KvmDevice = kernel,
            VmmCommand = [vmm],
            RunDirectory = run,
            InstancePrefix = "nx",
        });
        await driver.PrepareHostAsync(CancellationToken.None);
        try
        {
            var (first, firstChannel) = await StartAsync(driver, Spec("nx-a", function, rootfs) with { TemplateKey = "fn-1" });
            var (second, secondChannel) = await StartAsync(driver, Spec("nx-b", function, rootfs) with { TemplateKey = "fn-1" });
            try
            {
                // Each VMM writes its arguments as it starts, which may be after StartAsync returned.
                await WaitUntilAsync(() => Calls(vmm).Count == 3);
                var calls = Calls(vmm);
                Assert.Equal(1, driver.SnapshotCount);

                // The snapshot boot: kernel, the two read-only drives, nexus-init's /tmp, a fresh region of the channel's size.
                var drives = Path.Combine(run, "drives");
                var rootDrive = Assert.Single(Directory.GetFiles(drives, "nx-root-*"));
                var codeDrive = Assert.Single(Directory.GetFiles(drives, "nx-code-fn-1-*.erofs"));
                var snapshot = Assert.Single(Directory.GetDirectories(Path.Combine(run, "snapshots"), "nx-fn-1-*"));
                Assert.Equal(
                    ["--kernel", kernel, "--mem", "128", "--drive-readonly", rootDrive, "--drive-readonly", codeDrive, "--cmdline-append", "nexus_init.tmp=48 random.trust_cpu=on quiet", "--pvlite-guest",
                     "--nexus-region", "1", "--snapshot-to", snapshot, "--timeout", "120"],
                    calls[0]);
                Assert.StartsWith($"nx-root-{Path.GetFileName(Path.GetDirectoryName(rootfs))}-{GuestDisks.RootFileName}", Path.GetFileName(rootDrive), StringComparison.Ordinal);

                // Each restore: its own links of the snapshot and of both drives, named anew, then the channel's descriptors.
                // The two restores' scripts may write their arguments in either order.
                foreach (var id in new[] { "nx-a", "nx-b" })
                {
                    var folder = Path.Combine(run, "instances", id);
                    var call = Assert.Single(calls.Skip(1), c => c[1] == Path.Combine(folder, "snapshot"));
                    Assert.Equal(["--restore", Path.Combine(folder, "snapshot"), "--drive-readonly", Path.Combine(folder, "drives", "vda"), "--drive-readonly", Path.Combine(folder, "drives", "vdb"), "--nexus-fds", "3,4,5"], call);
                    Assert.Equal(Inode(rootDrive), Inode(Path.Combine(folder, "drives", "vda")));
                    Assert.Equal(Inode(codeDrive), Inode(Path.Combine(folder, "drives", "vdb")));
                    Assert.Equal(Inode(Path.Combine(snapshot, "vm.mem")), Inode(Path.Combine(folder, "snapshot", "vm.mem")));
                }

                // Each restored VM finds its own restore record in its region: its own log stream name, its own seed.
                var records = new[] { firstChannel, secondChannel }.Select(c => RestoreRecordTests.Read(c.Region)).ToList();
                Assert.Equal(["AWS_LAMBDA_LOG_STREAM_NAME=nx-a\0", "AWS_LAMBDA_LOG_STREAM_NAME=nx-b\0"], records.Select(r => r.Environment));
                Assert.NotEqual(Convert.ToHexString(records[0].Seed), Convert.ToHexString(records[1].Seed));
                Assert.NotEqual(records[0].Sequence, records[1].Sequence);

                // The code drive: the function folder as task/, the runtime's command, its environment with the region device.
                var code = await ExtractAsync(codeDrive);
                Assert.Equal("def handler(event, context):\n    return event\n", File.ReadAllText(Path.Combine(code, "task", "handler.py")));
                Assert.Equal("python3\0-m\0nexus_runtime\0", File.ReadAllText(Path.Combine(code, "argv")));
                Assert.Equal("AWS_LAMBDA_LOG_STREAM_NAME=nx-a\0NEXUS_CHANNEL_DEVICE=/dev/nexus-region\0NEXUS_IO=nexus\0_HANDLER=handler.handler\0", File.ReadAllText(Path.Combine(code, "environ")));

                // A retired revision loses its snapshot and code drive at once; its running VMs keep their links.
                driver.ReleaseTemplate("fn-1");
                await WaitUntilAsync(() => !File.Exists(codeDrive) && !Directory.Exists(snapshot));
                Assert.True(File.Exists(Path.Combine(run, "instances", "nx-a", "drives", "vdb")));
                Assert.True(File.Exists(rootDrive), "the image's root is shared by every revision");
            }
            finally
            {
                await first.DisposeAsync();
                await second.DisposeAsync();
                firstChannel.Dispose();
                secondChannel.Dispose();
            }

            Assert.False(Directory.Exists(Path.Combine(run, "instances", "nx-a")));
        }
        finally
        {
            // As a stopped node: the service link the driver's start made goes (the host's link and firewall are
            // counted per driver of the process; one left holding them kept every later release from removing them).
            await driver.ReleaseHostAsync();
        }
    }

    [Fact]
    public async Task Without_snapshots_each_linux_guest_boots_with_a_code_drive_of_its_own()
    {
        Assert.True(GuestDisks.MissingPrerequisite() is null, GuestDisks.MissingPrerequisite());
        var (run, vmm, kernel, rootfs, function) = Fixture();
        await using var driver = new MicrovmSandboxDriver(new MicrovmDriverOptions
        {
            GuestKernel = kernel,
            KvmDevice = kernel,
            VmmCommand = [vmm],
            RunDirectory = run,
            InstancePrefix = "nx",
            Snapshots = false,
        });
        await driver.PrepareHostAsync(CancellationToken.None);
        try
        {
            var (instance, channel) = await StartAsync(driver, Spec("nx-c", function, rootfs) with { TemplateKey = "fn-1" });
            try
            {
                var folder = Path.Combine(run, "instances", "nx-c");
                await WaitUntilAsync(() => Calls(vmm).Count == 1);
                var rootDrive = Assert.Single(Directory.GetFiles(Path.Combine(run, "drives"), "nx-root-*"));
                Assert.Equal(
                    ["--kernel", kernel, "--mem", "128", "--drive-readonly", Path.Combine(folder, "drives", "vda"), "--drive-readonly", Path.Combine(folder, "drives", "vdb"),
                     "--cmdline-append", "nexus_init.tmp=48 random.trust_cpu=on quiet", "--pvlite-guest", "--nexus-fds", "3,4,5"],
                    Assert.Single(Calls(vmm)));
                Assert.Equal(Inode(rootDrive), Inode(Path.Combine(folder, "drives", "vda")));
                Assert.Equal(Inode(Path.Combine(folder, "code.erofs")), Inode(Path.Combine(folder, "drives", "vdb")));
                Assert.Empty(Directory.GetFiles(Path.Combine(run, "drives"), "nx-code-*"));

                // A booted VM seeds itself and reads its own clock and code drive: no restore record.
                Assert.Equal(0UL, RestoreRecordTests.Read(channel.Region).Sequence);
            }
            finally
            {
                await instance.DisposeAsync();
                channel.Dispose();
            }
        }
        finally
        {
            // As a stopped node: the service link the driver's start made goes (the host's link and firewall are
            // counted per driver of the process; one left holding them kept every later release from removing them).
            await driver.ReleaseHostAsync();
        }
    }

    [Fact]
    public async Task A_linux_guest_gets_only_its_function_folder_and_starts_in_it()
    {
        var (run, vmm, kernel, rootfs, function) = Fixture();
        await using var driver = new MicrovmSandboxDriver(new MicrovmDriverOptions { GuestKernel = kernel, KvmDevice = kernel, VmmCommand = [vmm], RunDirectory = run });
        var spec = Spec("nx-d", function, rootfs) with
        {
            ReadOnlyMounts = new Dictionary<string, string> { [function] = "/var/task", [_dir] = "/opt/extra" },
        };

        using var region = Memory.CreateMemfd("test-region", 1 << 20);
        using var toHost = EventFd.Create();
        using var toGuest = EventFd.Create();

        var error = await Assert.ThrowsAsync<ArgumentException>(() => driver.StartAsync(spec with { PassedFds = [region, toHost.Handle, toGuest.Handle] }, CancellationToken.None));

        Assert.Contains("a Linux guest gets the function folder at /var/task", error.Message, StringComparison.Ordinal);
        Assert.Empty(Calls(vmm));
    }

    private (string Run, string Vmm, string Kernel, string Rootfs, string Function) Fixture()
    {
        var vmm = Write("vmm/nexus-vmm", FakeVmm);
        File.SetUnixFileMode(vmm, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var kernel = Write("kernel/vmlinux", "not a kernel: the stand-in VMM never reads it");

        // An image cache entry as the image builder leaves it: <cache>/images/<hash>/rootfs.
        var rootfs = Path.GetDirectoryName(Write("cache/images/0123456789abcdef/rootfs/usr/bin/python3", "#!/bin/false\n"))!;
        rootfs = Path.GetDirectoryName(Path.GetDirectoryName(rootfs))!;
        var function = Path.GetDirectoryName(Write("fn/handler.py", "def handler(event, context):\n    return event\n"))!;
        return (Path.Combine(_dir, "run"), vmm, kernel, rootfs, function);
    }

    private static SandboxSpec Spec(string id, string function, string rootfs = "/") => new()
    {
        InstanceId = id,
        Driver = "microvm",
        RootfsPath = rootfs,
        ReadOnlyMounts = new Dictionary<string, string> { [function] = "/var/task" },
        Command = ["python3", "-m", "nexus_runtime"],
        WorkingDirectory = "/var/task",
        Environment = new Dictionary<string, string> { ["AWS_LAMBDA_LOG_STREAM_NAME"] = id, ["NEXUS_IO"] = "nexus", ["_HANDLER"] = "handler.handler" },
        InstanceVariables = new HashSet<string>(StringComparer.Ordinal) { "AWS_LAMBDA_LOG_STREAM_NAME" },
        MemoryMb = 128,
        TmpMb = 48,
    };

    /// <summary>Starts a nexus-mode instance with a channel's three descriptors (a 1 MiB memfd and two eventfds).</summary>
    private static async Task<(ISandboxInstance Instance, Channel Channel)> StartAsync(MicrovmSandboxDriver driver, SandboxSpec spec)
    {
        var region = Memory.CreateMemfd("test-region", 1 << 20);
        var (toHost, toGuest) = (EventFd.Create(), EventFd.Create());
        var instance = await driver.StartAsync(spec with { PassedFds = [region, toHost.Handle, toGuest.Handle] }, CancellationToken.None);
        return (instance, new Channel(region, toHost, toGuest));
    }

    private static List<List<string>> Calls(string vmm)
    {
        var log = Path.Combine(Path.GetDirectoryName(vmm)!, "calls");
        List<List<string>> calls = [];
        foreach (var line in File.Exists(log) ? File.ReadAllLines(log) : [])
        {
            if (line == "--- call")
            {
                calls.Add([]);
            }
            else
            {
                calls[^1].Add(line);
            }
        }

        return calls;
    }

    private string Write(string relative, string text)
    {
        var path = Path.Combine(_dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    private async Task<string> ExtractAsync(string disk)
    {
        var target = Path.Combine(_dir, "extracted-" + Path.GetFileName(disk));
        using var fsck = Process.Start(new ProcessStartInfo("fsck.erofs", [$"--extract={target}", disk]) { RedirectStandardError = true })!;
        var error = await fsck.StandardError.ReadToEndAsync();
        await fsck.WaitForExitAsync();
        Assert.True(fsck.ExitCode == 0, error);
        return target;
    }

    /// <summary>The file's inode (device and number): a hard link has its target's.</summary>
    private static string Inode(string path)
    {
        using var stat = Process.Start(new ProcessStartInfo("stat", ["-L", "-c", "%d:%i", path]) { RedirectStandardOutput = true })!;
        var inode = stat.StandardOutput.ReadToEnd().Trim();
        stat.WaitForExit();
        Assert.True(stat.ExitCode == 0, $"stat {path}");
        return inode;
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 200 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.True(condition());
    }

    private sealed class Channel(SafeFd region, EventFd toHost, EventFd toGuest) : IDisposable
    {
        public SafeFd Region => region;

        public void Dispose()
        {
            region.Dispose();
            toHost.Dispose();
            toGuest.Dispose();
        }
    }
}
