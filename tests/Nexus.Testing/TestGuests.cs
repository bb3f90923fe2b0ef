// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace Nexus.Testing;

/// <summary>Builds the test guests in guest/test from source with the host toolchain (gcc, ld), cached by content hash.</summary>
public static class TestGuests
{
    private static readonly object s_lock = new();

    public static string GuestDir => Path.Combine(HostRequirements.RepoRoot, "guest", "test");

    /// <summary>
    /// Assembles or compiles (freestanding C) guest/test/<paramref name="name"/>.S or .c and links it (with name.ld,
    /// else guest.ld) into an ELF; returns its path.
    /// </summary>
    public static string Build(string name)
    {
        var c = Path.Combine(GuestDir, name + ".c");
        var source = File.Exists(c) ? c : Path.Combine(GuestDir, name + ".S");
        var own = Path.Combine(GuestDir, name + ".ld");
        var script = File.Exists(own) ? own : Path.Combine(GuestDir, "guest.ld");
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(File.ReadAllText(source) + File.ReadAllText(script))))[..16];
        var dir = Path.Combine(Path.GetTempPath(), "nexus-test-guests");
        var elf = Path.Combine(dir, $"{name}-{hash}.elf");
        lock (s_lock)
        {
            if (File.Exists(elf))
            {
                return elf;
            }

            Directory.CreateDirectory(dir);
            var obj = Path.Combine(dir, $"{name}-{hash}.o");
            if (source == c)
            {
                // No libc, no red zone (no interrupts are taken, but keep to kernel rules), no SSE: the boot state
                // does not enable it. No PIE: the guest runs where it is linked.
                Run("gcc", "-c", "-O2", "-ffreestanding", "-fno-pic", "-fno-pie", "-mno-red-zone", "-mgeneral-regs-only",
                    "-fno-stack-protector", "-fno-asynchronous-unwind-tables", "-fcf-protection=none", "-fno-builtin", source, "-o", obj);
            }
            else
            {
                Run("gcc", "-c", source, "-o", obj);
            }
            Run("ld", "-nostdlib", "-static", "-z", "max-page-size=4096", "-T", script, "-o", elf + ".tmp", obj);
            File.Move(elf + ".tmp", elf, overwrite: true);
            return elf;
        }
    }

    /// <summary>Compiles and runs a C program; returns its standard output.</summary>
    public static string CompileAndRun(string cSource)
    {
        var dir = Path.Combine(Path.GetTempPath(), "nexus-test-guests");
        Directory.CreateDirectory(dir);
        var exe = Path.Combine(dir, Path.GetFileNameWithoutExtension(cSource) + "-" + Environment.ProcessId);
        Run("gcc", "-O0", "-o", exe, cSource);
        try
        {
            return Run(exe);
        }
        finally
        {
            File.Delete(exe);
        }
    }

    private static string Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({p.ExitCode}): {stderr}");
        }

        return stdout.Result;
    }
}
