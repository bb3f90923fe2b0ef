// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using System.Text;
using Nexus.Testing;
using Nexus.Vmm.Builder;
using Xunit.Abstractions;

namespace Nexus.Vmm.Tests;

/// <summary>
/// Opt-in (slow: minutes under software-only KVM): NEXUS_VMM_LINUX_KERNEL=/path/to/vmlinux, as made by
/// guest/kernel/build.sh. Boots it to its first console line and reports how long that took.
/// </summary>
public sealed class LinuxBootTests(ITestOutputHelper output)
{
    public const string KernelVariable = "NEXUS_VMM_LINUX_KERNEL";

    [LinuxBootFact]
    public void ProjectKernelReachesItsFirstConsoleLine()
    {
        var kernel = Environment.GetEnvironmentVariable(KernelVariable)!;
        var timeout = TimeSpan.FromSeconds(double.TryParse(Environment.GetEnvironmentVariable("NEXUS_VMM_LINUX_TIMEOUT"), out var s) ? s : 900);
        var console = new StringBuilder();
        using var firstLine = new ManualResetEventSlim();
        var started = Stopwatch.GetTimestamp();
        using var vm = MicroVm.Boot(new VmConfig
        {
            KernelPath = kernel,
            MemoryMiB = 256,
            BootArgs = VmConfig.DefaultBootArgs + " earlyprintk=serial,ttyS0" + (Nexus.Interop.Kvm.IsSoftwareOnly() ? " " + VmConfig.SoftwareKvmBootArgs : string.Empty),
            ConsoleOutput = b =>
            {
                lock (console)
                {
                    console.Append((char)b);
                    if (b == '\n')
                    {
                        firstLine.Set();
                    }
                }
            },
        });
        vm.Start();
        var reached = firstLine.Wait(timeout);
        var elapsed = Stopwatch.GetElapsedTime(started);
        vm.Stop();
        var exit = vm.WaitForExit(TimeSpan.FromSeconds(10));
        string text;
        lock (console)
        {
            text = console.ToString();
        }

        output.WriteLine($"first console line after {elapsed.TotalSeconds:0.0} s ({(Nexus.Interop.Kvm.IsSoftwareOnly() ? "software-only KVM" : "hardware KVM")}); VM exit: {exit}");
        output.WriteLine(text);
        Assert.True(reached, $"no console line within {timeout.TotalSeconds} s; VM exit: {exit}; console so far: {text}");
    }
}

/// <summary>Runs only when NEXUS_VMM_LINUX_KERNEL names a kernel and /dev/kvm exists.</summary>
public sealed class LinuxBootFactAttribute : FactAttribute
{
    public LinuxBootFactAttribute()
    {
        var kernel = Environment.GetEnvironmentVariable(LinuxBootTests.KernelVariable);
        Skip = HostRequirements.Missing(kvm: true)
            ?? (string.IsNullOrEmpty(kernel) ? $"opt-in slow test: set {LinuxBootTests.KernelVariable} to a vmlinux from guest/kernel/build.sh"
            : File.Exists(kernel) ? null : $"{LinuxBootTests.KernelVariable}={kernel}: file not found");
    }
}
