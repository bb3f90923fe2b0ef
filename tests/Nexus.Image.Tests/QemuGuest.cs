// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Nexus.Testing;

namespace Nexus.Image.Tests;

/// <summary>How a qemu run ended: its exit code (isa-debug-exit makes it 2 * status + 1), the guest's console, the time it took.</summary>
internal sealed partial record QemuRun(int ExitCode, string Console, TimeSpan Elapsed)
{
    /// <summary>The status nexus-init wrote to the exit port 0xf4, or null when qemu ended otherwise.</summary>
    public int? GuestStatus => (ExitCode & 1) == 1 ? ExitCode >> 1 : null;

    /// <summary>
    /// What user space wrote to the console: <see cref="Console"/> without the kernel's records ("[ seconds] text" to the
    /// end of its line). The kernel prints a record whenever it likes, also in the middle of a user-space line (CI saw a
    /// TSC-watchdog record split nexus-init's mount line under emulation on a loaded host), so user-space lines are
    /// asserted on this; the kernel's own records on <see cref="Console"/>.
    /// </summary>
    public string UserConsole => KernelRecord().Replace(Console, "");

    [GeneratedRegex(@"\[ *[0-9]+\.[0-9]{6}\] [^\n]*\n?")]
    private static partial Regex KernelRecord();
}

/// <summary>
/// Boots the project's Linux guest (guest/kernel/build.sh's vmlinux: the Nexus driver built in, nexus-init as its
/// initramfs) under qemu's microvm machine with software emulation (TCG), which has virtio-mmio devices like the
/// Nexus VMM. This host has no usable KVM, so qemu is where the guest's Linux side is proved here.
/// </summary>
internal static class QemuGuest
{
    public const string Qemu = "qemu-system-x86_64";

    /// <summary>NEXUS_GUEST_KERNEL, else the kernel build.sh has cached for the current inputs.</summary>
    public static string Kernel => GuestKernel.Path;

    /// <summary>Null when qemu and the built guest kernel are there, else why the test skips.</summary>
    public static string? Missing()
    {
        if (HostRequirements.FindOnPath(Qemu) is null)
        {
            return $"needs {Qemu} (apt-get install qemu-system-x86; scripts/setup installs it)";
        }

        return GuestKernel.Missing;
    }

    /// <summary>
    /// Runs the guest to its end (or kills it at <paramref name="timeout"/>). <paramref name="drives"/> become virtio-blk
    /// devices in order (/dev/vda, /dev/vdb); <paramref name="memoryFile"/>, when given, backs guest RAM with a shared
    /// file so the test reads what the guest wrote at a guest-physical address (the file offset); <paramref name="devices"/>
    /// are more qemu arguments.
    /// </summary>
    public static async Task<QemuRun> BootAsync(
        string cmdline, IReadOnlyList<string> drives, int memoryMiB, string? memoryFile, TimeSpan timeout, IReadOnlyList<string>? devices = null)
    {
        var arguments = new List<string>
        {
            "-M", "microvm,acpi=off" + (memoryFile is null ? string.Empty : ",memory-backend=ram"),
            "-cpu", "max", "-smp", "1", "-m", $"{memoryMiB}M",
            "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
            "-serial", "stdio",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=1",
            "-kernel", Kernel,
            "-append", "console=ttyS0 reboot=k panic=-1 " + cmdline,
        };
        if (memoryFile is not null)
        {
            arguments.AddRange(["-object", $"memory-backend-file,id=ram,size={memoryMiB}M,mem-path={memoryFile},share=on"]);
        }

        for (var i = 0; i < drives.Count; i++)
        {
            arguments.AddRange(["-drive", $"id=d{i},file={drives[i]},format=raw,if=none,readonly=on", "-device", $"virtio-blk-device,drive=d{i}"]);
        }

        arguments.AddRange(devices ?? []);
        var start = new ProcessStartInfo(Qemu) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var started = Stopwatch.GetTimestamp();
        using var process = Process.Start(start)!;
        var console = new StringBuilder();
        var stdout = PumpAsync(process.StandardOutput, console);
        var stderr = PumpAsync(process.StandardError, console);
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            await Task.WhenAll(stdout, stderr);
            throw new TimeoutException($"the guest did not end within {timeout.TotalSeconds} s; console:\n{Text(console)}");
        }

        await Task.WhenAll(stdout, stderr);
        return new QemuRun(process.ExitCode, Text(console), Stopwatch.GetElapsedTime(started));
    }

    private static async Task PumpAsync(StreamReader reader, StringBuilder into)
    {
        var buffer = new char[4096];
        int n;
        while ((n = await reader.ReadAsync(buffer)) > 0)
        {
            lock (into)
            {
                into.Append(buffer, 0, n);
            }
        }
    }

    private static string Text(StringBuilder console)
    {
        lock (console)
        {
            return console.ToString().Replace("\r", string.Empty, StringComparison.Ordinal);
        }
    }
}

/// <summary>A fact that skips, saying why, when qemu or the built guest kernel is missing (or root, with <c>root</c>).</summary>
public sealed class LinuxGuestFactAttribute : FactAttribute
{
    public LinuxGuestFactAttribute(bool root = false)
    {
        Skip = (root ? HostRequirements.Missing(root: true) : null) ?? QemuGuest.Missing();
    }
}

/// <summary>A theory that skips, saying why, when qemu or the built guest kernel is missing.</summary>
public sealed class LinuxGuestTheoryAttribute : TheoryAttribute
{
    public LinuxGuestTheoryAttribute()
    {
        Skip = QemuGuest.Missing();
    }
}
