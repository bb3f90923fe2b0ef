// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using Xunit;

namespace Nexus.Testing;

/// <summary>
/// The project's Linux guest kernel (guest/kernel/build.sh's vmlinux: the region driver and nexus-init built in), as the
/// tests find it: NEXUS_GUEST_KERNEL, else the kernel build.sh has cached for the current inputs.
/// </summary>
public static class GuestKernel
{
    private static readonly Lazy<(string? Kernel, string? Missing)> s_kernel = new(Find);

    /// <summary>The kernel's path; throws with <see cref="Missing"/> when there is none.</summary>
    public static string Path => s_kernel.Value.Kernel ?? throw new InvalidOperationException(s_kernel.Value.Missing);

    /// <summary>Null when the kernel is there, else why a test needing it skips.</summary>
    public static string? Missing => s_kernel.Value.Missing;

    private static (string? Kernel, string? Missing) Find()
    {
        if (Environment.GetEnvironmentVariable("NEXUS_GUEST_KERNEL") is { Length: > 0 } given)
        {
            return File.Exists(given) ? (given, null) : (null, $"NEXUS_GUEST_KERNEL={given} does not exist");
        }

        var script = System.IO.Path.Combine(HostRequirements.RepoRoot, "guest", "kernel", "build.sh");
        var start = new ProcessStartInfo("sh") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add("--cached");
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var path = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        return process.ExitCode == 0 && File.Exists(path)
            ? (path, null)
            : (null, "needs the guest kernel: " + stderr.Result.Trim());
    }
}

/// <summary>
/// A fact that runs a Linux guest in microVMs on a real node: skips, saying why, without root, runc, /dev/kvm or the
/// built guest kernel. On a software-only KVM (kvm_pvm) it runs too: the project's guest kernel is a pv-lite guest there
/// (guest/kernel/pvlite.patch, docs/vmm.md "The Nexus guest kernel as a pv-lite guest").
/// </summary>
public sealed class LinuxMicrovmFactAttribute : FactAttribute
{
    public LinuxMicrovmFactAttribute()
    {
        Skip = HostRequirements.Missing(root: true, runc: true, kvm: true) ?? GuestKernel.Missing;
    }
}
