// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.CommandLine;
using System.Diagnostics;
using Nexus.Interop;
using Nexus.Vmm.Bench;
using Nexus.Vmm.Builder;
using Nexus.Vmm.VState;

namespace Nexus.Cli.Commands;

/// <summary>`nexus vmm run` (boot a kernel by hand) and `nexus vmm bench` (VMM figures).</summary>
public static class VmmCommands
{
    private const string SoftwareKvmWarning =
        "warning: /dev/kvm here is software-only (kvm_pvm, or no vmx/svm CPU flag): every privileged guest " +
        "instruction and page-table write is emulated. Tiny guests run in milliseconds, but a Linux kernel takes " +
        "minutes to reach its console, and timings are not representative of hardware virtualization. " +
        "The guest CPUID hides xsave/avx/popcnt/smap/smep, which the emulator cannot run.";

    public static Command Create()
    {
        var vmm = new Command("vmm", "Nexus micro-VMM: run a guest kernel, measure the VMM");
        vmm.Subcommands.Add(CreateRun());
        vmm.Subcommands.Add(CreateBench());
        return vmm;
    }

    private static Command CreateRun()
    {
        var kernel = new Option<FileInfo>("--kernel") { Description = "uncompressed ELF kernel (vmlinux; guest/kernel/build.sh makes one)", Required = true };
        var rootfs = new Option<FileInfo?>("--rootfs") { Description = "root filesystem image, attached as virtio-blk /dev/vda" };
        var readOnly = new Option<bool>("--rootfs-readonly") { Description = "attach the root filesystem read-only" };
        var mem = new Option<ulong>("--mem") { Description = "guest memory in MiB", DefaultValueFactory = _ => 256 };
        var vcpus = new Option<int>("--vcpus") { Description = "number of vCPUs", DefaultValueFactory = _ => 1 };
        var cmdline = new Option<string?>("--cmdline") { Description = "kernel command line (replaces the default; virtio devices are still appended)" };
        var nexusRegion = new Option<ulong>("--nexus-region") { Description = "Nexus shared region size in MiB (0: none)" };
        var timeout = new Option<double>("--timeout") { Description = "stop the VM after this many seconds (0: never)" };
        var vsock = new Option<string?>("--vsock") { Description = "attach virtio-vsock bridged to this Unix socket path (host connects and sends CONNECT <port>; guest port P reaches <path>_P)" };
        var cid = new Option<ulong>("--cid") { Description = "the guest's vsock CID (3 or more)", DefaultValueFactory = _ => 3 };
        var net = new Option<string?>("--net") { Description = "attach virtio-net to this TAP interface (created, and removed on exit, when it does not exist)" };
        var mac = new Option<string?>("--mac") { Description = "the guest's MAC for --net, e.g. 06:00:ac:10:00:02 (default: random, locally administered)" };
        var run = new Command("run", "Boot a kernel with a serial console on this terminal")
        {
            kernel, rootfs, readOnly, mem, vcpus, cmdline, nexusRegion, net, mac, vsock, cid, timeout,
        };
        run.SetAction(parse =>
        {
            var kernelFile = parse.GetValue(kernel)!;
            var root = parse.GetValue(rootfs);
            if (root is { Exists: false })
            {
                Console.Error.WriteLine($"error: --rootfs {root.FullName}: file not found");
                return 2;
            }

            byte[]? guestMac = null;
            if (parse.GetValue(mac) is { } macText && !TryParseMac(macText, out guestMac))
            {
                Console.Error.WriteLine($"error: --mac {macText}: expected six hex bytes separated by ':'");
                return 2;
            }

            if (Kvm.IsSoftwareOnly())
            {
                Console.Error.WriteLine(SoftwareKvmWarning);
            }

            var stdout = Console.OpenStandardOutput();
            var config = new VmConfig
            {
                KernelPath = kernelFile.FullName,
                MemoryMiB = parse.GetValue(mem),
                Vcpus = parse.GetValue(vcpus),
                BootArgs = parse.GetValue(cmdline),
                Drives = root is null ? [] : [new DriveConfig(root.FullName, parse.GetValue(readOnly))],
                NexusRegionSize = parse.GetValue(nexusRegion) << 20,
                Net = parse.GetValue(net) is { } tapName ? new NetConfig(tapName, guestMac) : null,
                Vsock = parse.GetValue(vsock) is { } udsPath ? new VsockConfig(parse.GetValue(cid), Path.GetFullPath(udsPath)) : null,
                ConsoleOutput = b =>
                {
                    stdout.WriteByte(b);
                    if (b == '\n')
                    {
                        stdout.Flush();
                    }
                },
            };

            MicroVm vm;
            try
            {
                vm = MicroVm.Boot(config);
            }
            catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or NotSupportedException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }

            using (vm)
            {
                Console.Error.WriteLine($"nexus vmm: {config.MemoryMiB} MiB, {config.Vcpus} vCPU(s), command line: {vm.CommandLine}");
                Console.CancelKeyPress += (_, e) =>
                {
                    e.Cancel = true;
                    vm.Stop("interrupted (Ctrl+C)");
                };
                var started = Stopwatch.GetTimestamp();
                vm.Start();
                ForwardInput(vm);
                var limit = parse.GetValue(timeout);
                var exit = vm.WaitForExit(limit > 0 ? TimeSpan.FromSeconds(limit) : Timeout.InfiniteTimeSpan);
                stdout.Flush();
                Console.Error.WriteLine($"nexus vmm: {exit} after {Stopwatch.GetElapsedTime(started).TotalSeconds:0.00} s" +
                    (vm.TimeToFirstSerialByte is { } t ? $"; first serial byte {t.TotalMilliseconds:0.0} ms after VM creation" : string.Empty));
                return exit.Kind switch
                {
                    VmExitKind.Reboot or VmExitKind.Stopped => 0,
                    VmExitKind.ExitPort => exit.Code,
                    _ => 1,
                };
            }
        });
        return run;
    }

    /// <summary>Parses aa:bb:cc:dd:ee:ff.</summary>
    internal static bool TryParseMac(string text, out byte[] mac)
    {
        mac = new byte[6];
        var parts = text.Split(':');
        if (parts.Length != 6)
        {
            return false;
        }

        for (var i = 0; i < 6; i++)
        {
            if (parts[i].Length != 2 || !byte.TryParse(parts[i], System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out mac[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Feeds this terminal's input to the guest's serial port, waiting while its FIFO is full.</summary>
    private static void ForwardInput(MicroVm vm)
    {
        var thread = new Thread(() =>
        {
            using var stdin = Console.OpenStandardInput();
            var buffer = new byte[256];
            int n;
            while (!vm.Control.IsStopping && (n = stdin.Read(buffer)) > 0)
            {
                for (var sent = 0; sent < n && !vm.Control.IsStopping;)
                {
                    var taken = vm.Console!.Enqueue(buffer.AsSpan(sent, n - sent));
                    sent += taken;
                    if (taken == 0)
                    {
                        Thread.Sleep(1);
                    }
                }
            }
        })
        {
            IsBackground = true,
            Name = "vmm-stdin",
        };
        thread.Start();
    }

    private static Command CreateBench()
    {
        var iterations = new Option<int>("--iterations") { Description = "repetitions per figure (the median is printed)", DefaultValueFactory = _ => 10 };
        var mem = new Option<ulong>("--mem") { Description = "guest memory in MiB", DefaultValueFactory = _ => 128 };
        var bench = new Command("bench", "Print VMM figures: time to first guest instruction and serial byte, snapshot restore time, memory overhead")
        {
            iterations, mem,
        };
        bench.SetAction(parse =>
        {
            if (Kvm.IsSoftwareOnly())
            {
                Console.Error.WriteLine(SoftwareKvmWarning);
            }

            var figures = VmmBenchmark.Run(Math.Max(1, parse.GetValue(iterations)), parse.GetValue(mem), p => Console.Error.Write($"\r{p}    "));
            Console.Error.WriteLine();
            Console.WriteLine(VmmBenchmark.Format(figures));
            Console.WriteLine("anchors (Firecracker, hardware virtualization): <= 5 MiB VMM overhead, <= 125 ms to guest init");
            return 0;
        });
        return bench;
    }
}
