// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using Nexus.Testing;

namespace Nexus.Vmm.Tests;

/// <summary>The one-VM <c>nexus-vmm</c> executable (src/Nexus.Vmm.Host, on the JIT here).</summary>
public sealed class VmmProcessTests
{
    [KvmFact]
    public async Task ExecutableRunsAGuestAndNamesItsRam()
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in new[] { HostRequirements.VmmHostDll, "--kernel", TestGuests.Build("hello"), "--mem", "32", "--timeout", "30" })
        {
            psi.ArgumentList.Add(a);
        }

        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.True(process.ExitCode == 1, $"exit {process.ExitCode}: {stderr}");
        Assert.Contains("Hello from long mode", await stdout, StringComparison.Ordinal);
        Assert.Matches(@"nexus vmm: guest RAM at 0x[0-9a-f]+\+0x2000000\n", stderr.Replace("\r", "", StringComparison.Ordinal));
    }

    [KvmFact]
    public void OptionErrorsAreRefusedBeforeBooting()
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true };
        foreach (var a in new[] { HostRequirements.VmmHostDll, "--kernel", "k", "--mem", "lots" })
        {
            psi.ArgumentList.Add(a);
        }

        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.Equal(2, process.ExitCode);
        Assert.Contains("whole numbers", stderr, StringComparison.Ordinal);
    }

    [KvmFact]
    public void InheritedChannelDescriptorsMustBeAMemfdAndTwoEventfds()
    {
        // fd 3 is a regular file where the region's memfd belongs: refused by name before any VM exists.
        var psi = new ProcessStartInfo("bash") { RedirectStandardError = true };
        foreach (var a in new[] { "-c", "exec 3</etc/hostname 4</etc/hostname 5</etc/hostname; exec dotnet \"$0\" --kernel \"$1\" --nexus-fds 3,4,5", HostRequirements.VmmHostDll, TestGuests.Build("runtime") })
        {
            psi.ArgumentList.Add(a);
        }

        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.Equal(2, process.ExitCode);
        Assert.Contains("descriptor 3 is '/etc/hostname', expected a memfd", stderr, StringComparison.Ordinal);
    }
}
