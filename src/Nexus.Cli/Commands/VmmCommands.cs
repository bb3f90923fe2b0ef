// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.CommandLine;
using System.CommandLine.Parsing;
using Nexus.Bench.Vmm;
using Nexus.Interop;
using Nexus.Sandbox.Microvm;
using Nexus.Vmm.Builder;

namespace Nexus.Cli.Commands;

/// <summary>`nexus vmm run` (boot a kernel by hand) and `nexus vmm bench` (VMM figures).</summary>
public static class VmmCommands
{
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
        var drive = new Option<string[]>("--drive") { Description = "attach this disk image as a read-write virtio-blk device, after --rootfs; repeatable" };
        var driveReadOnly = new Option<string[]>("--drive-readonly") { Description = "attach this disk image read-only, after --rootfs; repeatable (--drive and --drive-readonly keep the order typed: /dev/vdb, /dev/vdc, ...)" };
        var mem = new Option<ulong>("--mem") { Description = "guest memory in MiB", DefaultValueFactory = _ => 256 };
        var vcpus = new Option<int>("--vcpus") { Description = "number of vCPUs", DefaultValueFactory = _ => 1 };
        var cmdline = new Option<string?>("--cmdline") { Description = "kernel command line (replaces the default; virtio devices are still appended)" };
        var nexusRegion = new Option<ulong>("--nexus-region") { Description = "Nexus shared region size in MiB (0: none)" };
        var timeout = new Option<double>("--timeout") { Description = "stop the VM after this many seconds (0: never)" };
        var vsock = new Option<string?>("--vsock") { Description = "attach virtio-vsock bridged to this Unix socket path (host connects and sends CONNECT <port>; guest port P reaches <path>_P)" };
        var cid = new Option<ulong>("--cid") { Description = "the guest's vsock CID (3 or more)", DefaultValueFactory = _ => 3 };
        var net = new Option<string?>("--net") { Description = "attach virtio-net to this TAP interface (created, and removed on exit, when it does not exist)" };
        var mac = new Option<string?>("--mac") { Description = "the guest's MAC for --net, e.g. 06:00:ac:10:00:02 (default: random, locally administered)" };
        var pvlite = new Option<bool>("--pvlite-guest") { Description = "the kernel is a pv-lite guest (guest/kernel/build.sh's): on kvm_pvm, keep XSAVE/AVX/... in its CPUID and command line (no software-KVM profile)" };
        var stats = new Option<bool>("--stats") { Description = "at the end, print the exits that reached the VMM by KVM exit reason (I/O by port, MMIO by page); what KVM handles in the kernel is not counted" };
        var run = new Command("run", "Boot a kernel with a serial console on this terminal")
        {
            kernel, rootfs, readOnly, drive, driveReadOnly, mem, vcpus, cmdline, nexusRegion, net, mac, vsock, cid, timeout, pvlite, stats,
        };
        run.SetAction(parse =>
        {
            var kernelFile = parse.GetValue(kernel)!;
            var drives = DrivesInOrder(parse);
            if (drives.FirstOrDefault(d => !File.Exists(d.Path)) is { } missing)
            {
                Console.Error.WriteLine($"error: {missing.Path}: no such disk image");
                return 2;
            }

            byte[]? guestMac = null;
            if (parse.GetValue(mac) is { } macText && !ConsoleRun.TryParseMac(macText, out guestMac))
            {
                Console.Error.WriteLine($"error: --mac {macText}: expected six hex bytes separated by ':'");
                return 2;
            }

            var limit = parse.GetValue(timeout);
            return ConsoleRun.Run(
                new VmConfig
                {
                    KernelPath = kernelFile.FullName,
                    MemoryMiB = parse.GetValue(mem),
                    Vcpus = parse.GetValue(vcpus),
                    BootArgs = parse.GetValue(cmdline),
                    Drives = drives,
                    NexusRegionSize = parse.GetValue(nexusRegion) << 20,
                    Net = parse.GetValue(net) is { } tapName ? new NetConfig(tapName, guestMac) : null,
                    Vsock = parse.GetValue(vsock) is { } udsPath ? new VsockConfig(parse.GetValue(cid), Path.GetFullPath(udsPath)) : null,
                    ConsoleOutput = ConsoleRun.WriteConsoleByte,
                    PvLiteGuest = parse.GetValue(pvlite),
                },
                limit > 0 ? TimeSpan.FromSeconds(limit) : Timeout.InfiniteTimeSpan,
                parse.GetValue(stats));
        });
        return run;
    }

    /// <summary>
    /// The drives of <c>vmm run</c> in virtio-mmio slot order, which is the guest's /dev/vda, /dev/vdb, ...:
    /// <c>--rootfs</c> first, then every <c>--drive</c> and <c>--drive-readonly</c> in the order typed (the parser keeps
    /// each option's values apart, so the order is read from the tokens), as <c>nexus-vmm</c> takes them.
    /// </summary>
    public static IReadOnlyList<DriveConfig> DrivesInOrder(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var drives = new List<DriveConfig>();
        var tokens = parse.Tokens;
        for (var i = 0; i + 1 < tokens.Count; i++)
        {
            if (tokens[i] is { Type: TokenType.Option, Value: "--rootfs" or "--drive" or "--drive-readonly" } option)
            {
                var path = Path.GetFullPath(tokens[++i].Value);
                if (option.Value is "--rootfs")
                {
                    drives.Insert(0, new DriveConfig(path, parse.GetValue<bool>("--rootfs-readonly")));
                }
                else
                {
                    drives.Add(new DriveConfig(path, option.Value is "--drive-readonly"));
                }
            }
        }

        return drives;
    }

    /// <summary>
    /// The one-VM processes <c>vmm bench</c> measures: this CLI's <c>vmm run</c> on the JIT, and the <c>nexus-vmm</c>
    /// executable (src/Nexus.Vmm.Host) on the JIT and as NativeAOT, where scripts/setup built them in this checkout.
    /// </summary>
    private static (List<VmmProcess> Processes, List<string> NotBuilt) VmmFrontEnds()
    {
        var dotnet = Environment.ProcessPath ?? "dotnet";
        var processes = new List<VmmProcess> { new("vmm run, JIT", dotnet, [Path.Combine(AppContext.BaseDirectory, "nexus.dll"), "vmm", "run"]) };
        var notBuilt = new List<string>();

        // <repo>/src/Nexus.Vmm.Host/bin/Release/net10.0/ of the checkout this CLI runs from.
        var host = VmmExecutable.HostOutputFolder() ?? Path.Combine(AppContext.BaseDirectory, "Nexus.Vmm.Host");
        var jit = Path.Combine(host, "nexus-vmm.dll");
        var aot = Path.Combine(host, VmmExecutable.NativeAotPath);
        foreach (var (label, file, arguments, how) in new[]
        {
            ("nexus-vmm, JIT", dotnet, new[] { jit }, $"{jit} (dotnet build src/Nexus.Vmm.Host -c Release)"),
            ("nexus-vmm, NativeAOT", aot, Array.Empty<string>(), $"{aot} (dotnet publish src/Nexus.Vmm.Host -c Release -r linux-x64)"),
        })
        {
            if (File.Exists(arguments.Length > 0 ? arguments[0] : file))
            {
                processes.Add(new(label, file, arguments));
            }
            else
            {
                notBuilt.Add(how);
            }
        }

        return (processes, notBuilt);
    }

    private static Command CreateBench()
    {
        var iterations = new Option<int>("--iterations") { Description = "repetitions per figure (the median is printed); default 10, with --linux 3" };
        var mem = new Option<ulong?>("--mem") { Description = "guest memory in MiB; default 128, with --linux 256" };
        var linux = new Option<bool>("--linux") { Description = "measure the Linux guest instead: boot the guest kernel with the function image's root and time user space, system calls, page faults, fork, exec, python3 and a warm hello-s3 handler in the guest and on the host (root; builds the image when it is not cached)" };
        var kernel = new Option<FileInfo?>("--kernel") { Description = "--linux: the guest kernel (default: the one guest/kernel/build.sh cached for this checkout)" };
        var profile = new Option<string>("--software-kvm-profile") { Description = "--linux: auto (what the VMM chooses), on or off: the CPUID and command line that hide XSAVE/AVX/... from a guest on software-only KVM", DefaultValueFactory = _ => "auto" };
        profile.AcceptOnlyFromAmong("auto", "on", "off");
        var append = new Option<string?>("--cmdline-append") { Description = "--linux: added at the end of the guest's command line (e.g. quiet)" };
        var bench = new Command("bench", "Print VMM figures: time to first guest instruction and serial byte, snapshot restore time, memory overhead; with --linux, the Linux guest against the host")
        {
            iterations, mem, linux, kernel, profile, append,
        };
        bench.SetAction(async (parse, cancellationToken) =>
        {
            if (Kvm.IsSoftwareOnly())
            {
                Console.Error.WriteLine(ConsoleRun.SoftwareKvmWarning);
            }

            if (parse.GetValue(linux))
            {
                return await BenchLinuxAsync(parse.GetValue(kernel)?.FullName, parse.GetValue(iterations) is > 0 and var n ? n : 3, parse.GetValue(mem) ?? 256,
                    parse.GetValue(profile) switch { "on" => true, "off" => false, _ => null }, parse.GetValue(append), cancellationToken);
            }

            var (processes, notBuilt) = VmmFrontEnds();
            var figures = VmmBenchmark.Run(parse.GetValue(iterations) is > 0 and var count ? count : 10, parse.GetValue(mem) ?? 128, processes, p => Console.Error.Write($"\r{p}    "));
            Console.Error.WriteLine();
            Console.WriteLine(VmmBenchmark.Format(figures));
            foreach (var missing in notBuilt)
            {
                Console.WriteLine($"not measured: {missing}");
            }

            Console.WriteLine("anchors (Firecracker, hardware virtualization): <= 5 MiB VMM overhead, <= 125 ms to guest init");
            return 0;
        });
        return bench;
    }

    private static async Task<int> BenchLinuxAsync(string? kernel, int iterations, ulong memoryMiB, bool? softwareKvmProfile, string? append, CancellationToken cancellationToken)
    {
        kernel ??= CachedGuestKernel();
        if (kernel is null || !File.Exists(kernel))
        {
            Console.Error.WriteLine($"error: --linux needs the guest kernel: pass --kernel, or build it with guest/kernel/build.sh{(kernel is null ? string.Empty : $" ({kernel} does not exist)")}");
            return 2;
        }

        if (!Environment.IsPrivilegedProcess)
        {
            Console.Error.WriteLine("error: --linux needs root (the host side runs in a chroot of the function image as uid 65534)");
            return 2;
        }

        var load = File.ReadAllText("/proc/loadavg").Split(' ')[..3];
        LinuxBenchResult result;
        try
        {
            result = await LinuxBench.RunAsync(kernel, iterations, memoryMiB, softwareKvmProfile, append, p => Console.Error.WriteLine(p), cancellationToken);
        }
        catch (Exception e) when (e is InvalidOperationException or Nexus.Image.ImageBuildException or IOException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }

        var loadAfter = File.ReadAllText("/proc/loadavg").Split(' ')[..3];
        Console.WriteLine($"kernel {kernel}, {memoryMiB} MiB, {(Kvm.IsSoftwareOnly() ? "software-only KVM (kvm_pvm)" : "hardware KVM")}");
        Console.WriteLine($"guest command line: {result.CommandLine}");
        Console.WriteLine(result.FpuLines.Count > 0
            ? $"guest FPU: {string.Join("; ", result.FpuLines)}"
            : "guest FPU: not on the console (the guest boots quiet, as the driver's do; --cmdline-append loglevel=7 prints the kernel's lines)");
        Console.WriteLine($"load average {string.Join(' ', load)} before, {string.Join(' ', loadAfter)} after");
        Console.WriteLine(LinuxBench.Format(result));
        Console.WriteLine($"per boot, {result.Exits.Format(result.Runs)}");
        return 0;
    }

    /// <summary>The kernel guest/kernel/build.sh cached for the checkout this CLI runs from (--cached prints it only if built).</summary>
    private static string? CachedGuestKernel()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var script = Path.Combine(dir.FullName, "guest", "kernel", "build.sh");
            if (File.Exists(script))
            {
                var start = new System.Diagnostics.ProcessStartInfo("sh") { RedirectStandardOutput = true, RedirectStandardError = true };
                start.ArgumentList.Add(script);
                start.ArgumentList.Add("--cached");
                using var process = System.Diagnostics.Process.Start(start)!;
                _ = process.StandardError.ReadToEndAsync();
                var path = process.StandardOutput.ReadToEnd().Trim();
                process.WaitForExit();
                return process.ExitCode == 0 && path.Length > 0 ? path : null;
            }
        }

        return null;
    }
}
