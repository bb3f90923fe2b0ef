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
}
