// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using System.Globalization;
using Nexus.Interop;
using Nexus.Vmm.VState;

namespace Nexus.Vmm.Builder;

/// <summary>
/// Runs one VM with its serial console on this process's terminal, for the VMM front ends (<c>nexus vmm run</c> and
/// the one-VM <c>nexus-vmm</c> executable): boot, a header on stderr that names the guest RAM mappings (so a
/// measurement can tell guest memory from the VMM's own), stdin to the serial port, Ctrl+C stops, exit code.
/// </summary>
public static class ConsoleRun
{
    public const string SoftwareKvmWarning =
        "warning: /dev/kvm here is software-only (kvm_pvm, or no vmx/svm CPU flag): a guest's supervisor code is " +
        "emulated instruction by instruction unless the guest is a pv-lite guest, as the project's kernel " +
        "(guest/kernel/build.sh) is: it runs natively and reaches user space in under 1 s booted quiet, but its page faults cost " +
        "several times the host's; any other Linux kernel takes minutes to reach its console. Timings are not representative of " +
        "hardware virtualization. Unless the kernel is a pv-lite guest (--pvlite-guest), the guest CPUID hides " +
        "xsave/avx/popcnt/smap/smep, which the emulator cannot run.";

    /// <summary>The header line's prefix before the guest RAM mappings (host address + length, hex, comma-separated).</summary>
    public const string GuestRamPrefix = "nexus vmm: guest RAM at ";

    private static readonly Stream s_stdout = Console.OpenStandardOutput();

    /// <summary>The console sink for <see cref="VmConfig.ConsoleOutput"/>: stdout, flushed at each line end.</summary>
    public static void WriteConsoleByte(byte b)
    {
        s_stdout.WriteByte(b);
        if (b == '\n')
        {
            s_stdout.Flush();
        }
    }

    /// <summary>
    /// Boots <paramref name="config"/> and runs it until it exits or <paramref name="timeout"/>; returns the process exit
    /// code. With <paramref name="stats"/>, the exits that reached the VMM are printed on stderr at the end, by reason.
    /// </summary>
    public static int Run(VmConfig config, TimeSpan timeout, bool stats = false)
    {
        ArgumentNullException.ThrowIfNull(config);
        WarnIfSoftwareKvm();
        if (!TryCreate(() => MicroVm.Boot(config), out var vm))
        {
            return 2;
        }

        using (vm)
        {
            return RunToExit(vm, timeout, kickNexusRegion: false, stats);
        }
    }

    /// <summary>
    /// Restores the snapshot in <paramref name="directory"/> (<see cref="ReadySnapshot"/>'s files) and runs it like
    /// <see cref="Run"/>. Once the vCPUs run, the Nexus region's interrupt is raised once: a guest parked at its ready
    /// point (waiting for a channel) wakes and finds the channel <paramref name="options"/> attached.
    /// </summary>
    public static int RunRestored(string directory, RestoreOptions options, TimeSpan timeout)
    {
        WarnIfSoftwareKvm();
        if (!TryCreate(() => MicroVm.Restore(ReadySnapshot.StatePath(directory), ReadySnapshot.MemoryPath(directory), options), out var vm))
        {
            return 2;
        }

        using (vm)
        {
            return RunToExit(vm, timeout, kickNexusRegion: true, stats: false);
        }
    }

    internal static void WarnIfSoftwareKvm()
    {
        if (Kvm.IsSoftwareOnly())
        {
            Console.Error.WriteLine(SoftwareKvmWarning);
        }
    }

    internal static bool TryCreate(Func<MicroVm> create, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out MicroVm? vm)
    {
        try
        {
            vm = create();
            return true;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or NotSupportedException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            vm = null;
            return false;
        }
    }

    /// <summary>The header line naming the guest RAM mappings (host address + length), for a measurement of the VMM's own memory.</summary>
    internal static void WriteHeader(MicroVm vm)
    {
        var config = vm.Config;
        Console.Error.WriteLine($"nexus vmm: {config.MemoryMiB} MiB, {config.Vcpus} vCPU(s), command line: {vm.CommandLine}");
        Console.Error.WriteLine(GuestRamPrefix + string.Join(",", vm.Memory.Regions.Select(r =>
            string.Create(CultureInfo.InvariantCulture, $"0x{(ulong)r.Mapping.Address:x}+0x{r.Size:x}"))));
    }

    private static int RunToExit(MicroVm vm, TimeSpan timeout, bool kickNexusRegion, bool stats)
    {
        WriteHeader(vm);
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            vm.Stop("interrupted (Ctrl+C)");
        };
        var started = Stopwatch.GetTimestamp();
        vm.Start();
        if (kickNexusRegion)
        {
            vm.NexusRegion?.Interrupt.Signal();
        }

        ForwardInput(vm);
        var exit = vm.WaitForExit(timeout);
        s_stdout.Flush();
        Console.Error.WriteLine($"nexus vmm: {exit} after {Stopwatch.GetElapsedTime(started).TotalSeconds:0.00} s" +
            (vm.TimeToFirstSerialByte is { } t ? $"; first serial byte {t.TotalMilliseconds:0.0} ms after VM creation" : string.Empty));
        if (stats)
        {
            Console.Error.WriteLine("nexus vmm: " + ExitCounts.Sum(vm.Vcpus.Select(v => v.Exits)).Format());
        }

        return ExitCode(exit);
    }

    /// <summary>The process exit code of a VM run: the guest's exit-port code, 0 for a reset or a host stop, 1 for a crash.</summary>
    public static int ExitCode(VmExitResult exit) => exit.Kind switch
    {
        VmExitKind.Reboot or VmExitKind.Stopped => 0,
        VmExitKind.ExitPort => exit.Code,
        _ => 1,
    };

    /// <summary>Parses aa:bb:cc:dd:ee:ff.</summary>
    public static bool TryParseMac(string text, out byte[] mac)
    {
        ArgumentNullException.ThrowIfNull(text);
        mac = new byte[6];
        var parts = text.Split(':');
        if (parts.Length != 6)
        {
            return false;
        }

        for (var i = 0; i < 6; i++)
        {
            if (parts[i].Length != 2 || !byte.TryParse(parts[i], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out mac[i]))
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
}
