// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using System.Globalization;
using Nexus.Interop;
using Nexus.Vmm.Builder;

namespace Nexus.Bench.Vmm;

/// <summary>A VMM front end to measure: a label and the command that runs one VM (the kernel and memory options are appended).</summary>
public sealed record VmmProcess(string Label, string File, IReadOnlyList<string> Arguments);

/// <summary>
/// The per-VM cost of the one-VM-per-process model: a VMM process runs <see cref="BenchGuest"/> until the guest touched
/// its memory, then its PSS and RSS are read from /proc/&lt;pid&gt;/smaps minus the guest RAM mappings (named on the
/// process's stderr by <see cref="ConsoleRun"/>). PSS counts shared pages (libraries, the runtime) divided among the
/// processes that map them, so it depends on what else runs; USS (private pages only) is what each further VMM process
/// adds once many run; RSS is the upper bound (a VMM alone on the host).
/// </summary>
public static class ProcessOverhead
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(120);

    public static IReadOnlyList<BenchFigure> Measure(IReadOnlyList<VmmProcess> processes, string kernel, ulong memoryMiB, Action<string> progress)
    {
        ArgumentNullException.ThrowIfNull(processes);
        var figures = new List<BenchFigure>();
        foreach (var vmm in processes)
        {
            progress($"process overhead: {vmm.Label}");
            var (pss, uss, rss) = MeasureOne(vmm, kernel, memoryMiB);
            figures.Add(new($"Per-VM process overhead (PSS), {vmm.Label}", pss / 1024.0, "MiB", $"beyond guest RAM; USS {uss / 1024.0:0.0} MiB, RSS {rss / 1024.0:0.0} MiB; one {memoryMiB} MiB VM per process"));
        }

        return figures;
    }

    private static (long PssKiB, long UssKiB, long RssKiB) MeasureOne(VmmProcess vmm, string kernel, ulong memoryMiB)
    {
        var start = new ProcessStartInfo(vmm.File) { RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true };
        foreach (var a in vmm.Arguments.Concat(["--kernel", kernel, "--mem", memoryMiB.ToString(CultureInfo.InvariantCulture), "--timeout", "120"]))
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {vmm.File}");
        try
        {
            _ = process.StandardOutput.BaseStream.CopyToAsync(Stream.Null);
            var guestRam = ReadGuestRam(process, vmm);
            var deadline = Stopwatch.GetTimestamp() + (long)(s_timeout.TotalSeconds * Stopwatch.Frequency);

            // The guest has touched its memory once its mappings hold the touched bytes; then let the process settle.
            while (ReadSmaps(process.Id, guestRam).Guest.RssKiB < (long)(BenchGuest.TouchedBytes >> 10))
            {
                if (process.HasExited || Stopwatch.GetTimestamp() > deadline)
                {
                    throw new InvalidOperationException($"{vmm.Label}: the bench guest did not touch its memory (exited: {process.HasExited})");
                }

                Thread.Sleep(50);
            }

            Thread.Sleep(1000);
            var (total, guest) = ReadSmaps(process.Id, guestRam);
            return (total.PssKiB - guest.PssKiB, total.UssKiB - guest.UssKiB, total.RssKiB - guest.RssKiB);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }

            process.WaitForExit();
        }
    }

    /// <summary>Start addresses (hex, as in smaps) of the guest RAM mappings the VMM named on stderr.</summary>
    private static HashSet<string> ReadGuestRam(Process process, VmmProcess vmm)
    {
        while (process.StandardError.ReadLine() is { } line)
        {
            if (line.StartsWith(ConsoleRun.GuestRamPrefix, StringComparison.Ordinal))
            {
                _ = process.StandardError.BaseStream.CopyToAsync(Stream.Null);
                return [.. line[ConsoleRun.GuestRamPrefix.Length..].Split(',').Select(m => m.Split('+')[0][2..])];
            }
        }

        throw new InvalidOperationException($"{vmm.Label}: the VMM ended before naming its guest RAM");
    }

    /// <summary>smaps sums of the whole process and of its guest RAM mappings.</summary>
    private static (SmapsTotals Total, SmapsTotals Guest) ReadSmaps(int pid, HashSet<string> guestRam)
    {
        var groups = Smaps.Read(pid, 2, header => guestRam.Contains(Smaps.StartOf(header)) ? 1 : 0);
        return (SmapsTotals.Sum(groups), groups[1]);
    }
}
