// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text;
using Nexus.Testing;
using Nexus.Vmm.Builder;
using Nexus.Vmm.VState;

namespace Nexus.Vmm.Tests;

/// <summary>Guests built from guest/test run on the real /dev/kvm.</summary>
public sealed class BootTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);

    [KvmFact]
    public void LongModeGuestPrintsToSerialAndSeesLma()
    {
        var output = new StringBuilder();
        using var vm = MicroVm.Boot(new VmConfig
        {
            KernelPath = TestGuests.Build("hello"),
            MemoryMiB = 32,
            ConsoleOutput = b => output.Append((char)b),
        });
        vm.Start();
        var exit = vm.WaitForExit(s_timeout);
        Assert.True(exit.Kind == VmExitKind.ExitPort, exit.ToString());
        Assert.Equal("Hello from long mode\n", output.ToString());
        Assert.Equal(1, exit.Code);
        Assert.NotNull(vm.TimeToFirstSerialByte);
    }

    [KvmFact]
    public void EveryVcpuComesUpThroughInitAndStartupIpis()
    {
        var output = new StringBuilder();
        using var vm = MicroVm.Boot(new VmConfig
        {
            KernelPath = TestGuests.Build("smp"),
            MemoryMiB = 32,
            Vcpus = 4,
            ConsoleOutput = b =>
            {
                lock (output)
                {
                    output.Append((char)b);
                }
            },
        });
        vm.Start();
        var exit = vm.WaitForExit(s_timeout);

        // The boot vCPU exits with the number of vCPUs that reached long mode and counted themselves in.
        Assert.True(exit is { Kind: VmExitKind.ExitPort, Code: 4 }, $"{exit}; console: {output}");
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal);
        Assert.Equal(["cpu 0", "cpu 1", "cpu 2", "cpu 3"], lines);
        Assert.All(vm.Vcpus, v => Assert.True(v.ExitCount > 0, $"vcpu{v.Index} never ran guest code"));
        Assert.Equal(4, vm.Vcpus.Select(v => v.ThreadId).Distinct().Count());
    }

    [KvmFact]
    public void PvhGuestStartsInProtectedModeWithStartInfo()
    {
        var output = new StringBuilder();
        using var vm = MicroVm.Boot(new VmConfig
        {
            KernelPath = TestGuests.Build("pvh"),
            MemoryMiB = 32,
            Protocol = BootProtocol.Pvh,
            ConsoleOutput = b => output.Append((char)b),
        });
        vm.Start();
        var exit = vm.WaitForExit(s_timeout);
        Assert.True(exit is { Kind: VmExitKind.ExitPort, Code: 1 }, exit.ToString());
        Assert.Equal("PVH", output.ToString());
    }

    [KvmFact]
    public void PvhBootOfAKernelWithoutTheNoteIsRefusedClearly()
    {
        var e = Assert.Throws<InvalidDataException>(() => MicroVm.Boot(new VmConfig { KernelPath = TestGuests.Build("hello"), MemoryMiB = 16, Protocol = BootProtocol.Pvh }));
        Assert.Contains("CONFIG_PVH", e.Message, StringComparison.Ordinal);
    }

    [KvmFact]
    public void InternalErrorNamesTheGuestRipAndBytes()
    {
        // guest/test/ud2.S: a 64-bit guest whose first instruction is ud2 with no IDT: the #UD triple-faults.
        using var vm = MicroVm.Boot(new VmConfig { KernelPath = TestGuests.Build("ud2"), MemoryMiB = 16 });
        vm.Start();
        var exit = vm.WaitForExit(s_timeout);
        Assert.True(exit.Kind is VmExitKind.Shutdown or VmExitKind.Error, exit.ToString());
        Assert.Contains("RIP 0x", exit.Message, StringComparison.Ordinal);
    }
}
