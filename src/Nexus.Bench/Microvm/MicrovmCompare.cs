// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Text;
using Nexus.Functions;

namespace Nexus.Bench.Microvm;

/// <summary>The figures of one configuration's microVM cold starts (medians over the cold starts).</summary>
public sealed record MicrovmConfigurationResult(
    string Configuration,
    int ColdStarts,
    double SnapshotMadeMs,
    double ToReadyMs,
    double ToFirstResponseMs,
    double ToFirstResponseMinMs,
    double ToFirstResponseMaxMs,
    double WarmResponseMs,
    double VmmOverheadPssMiB,
    double VmmOverheadUssMiB,
    double GuestTouchedMiB,
    double GuestPrivateMiB);

/// <summary>
/// <c>nexus bench compare --sandbox microvm</c>: the nexus configurations side by side in microVMs, on the driver's real
/// path (<see cref="MicrovmColdStarts"/>: the node's channel, backend and store, a VMM process per VM restored from the
/// function's ready snapshot), with the figures the microVM question needs: restore to first response, the VMM's own
/// memory per VM beyond guest memory, guest memory touched per instance, and nexus-async against nexus-sync. The guest is
/// the freestanding runtime guest (guest/test/runtime.c), so the baseline configuration cannot run (<see cref="NoBaseline"/>).
/// </summary>
public static class MicrovmCompare
{
    /// <summary>Why the baseline configuration is not run in a microVM here.</summary>
    public const string NoBaseline =
        "the freestanding runtime guest speaks only the Nexus channel; a baseline function needs a guest with its own TCP/IP " +
        "stack, an S3 client and the Runtime API over HTTP: a Linux guest, which `--guest linux --kernel VMLINUX` runs " +
        "(the examples, every configuration)";

    public static async Task<IReadOnlyList<MicrovmConfigurationResult>> RunAsync(string guestKernel, IReadOnlyList<string> vmmCommand, IReadOnlyList<BenchConfiguration> configurations, int coldStarts, TextWriter progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(configurations);
        ArgumentNullException.ThrowIfNull(progress);
        var results = new List<MicrovmConfigurationResult>();
        foreach (var configuration in configurations.Where(c => c.Io == IoMode.Nexus))
        {
            await progress.WriteLineAsync($"microvm {configuration.Name}: a ready snapshot, then {coldStarts} cold starts");
            var (made, starts) = await MicrovmColdStarts.RunAsync(guestKernel, vmmCommand, coldStarts, jail: null, configuration, line => progress.WriteLine("  " + line), cancellationToken);
            var first = starts.Select(s => s.ToFirstResponse.TotalMilliseconds).ToList();
            results.Add(new MicrovmConfigurationResult(
                configuration.Name,
                starts.Count,
                made.TotalMilliseconds,
                Median(starts.Select(s => s.ToReady.TotalMilliseconds)),
                Median(first),
                first.Min(),
                first.Max(),
                Median(starts.Select(s => s.WarmResponse.TotalMilliseconds)),
                Median(starts.Select(s => s.OverheadPssBytes / 1048576.0)),
                Median(starts.Select(s => s.OverheadUssBytes / 1048576.0)),
                Median(starts.Select(s => s.GuestTouchedBytes / 1048576.0)),
                Median(starts.Select(s => s.GuestPrivateBytes / 1048576.0))));
        }

        return results;
    }

    /// <summary>The report: one line per figure and configuration, the ratio within microvm, and what was not run and why.</summary>
    public static string Format(IReadOnlyList<MicrovmConfigurationResult> results, IReadOnlyList<BenchConfiguration> asked, string kvm)
    {
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(asked);
        var text = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        text.AppendLine(c, $"microvm sandbox on {kvm}; guest: the freestanding runtime guest (GET + PUT of an 18-byte object per invocation); medians over the cold starts");
        text.AppendLine("configuration  cold  snapshot-ms  restore->ready-ms  restore->first-response-ms (min-max)  warm-ms  vmm-overhead-pss-mib  vmm-overhead-uss-mib  guest-touched-mib  guest-private-mib");
        foreach (var r in results)
        {
            text.AppendLine(c, $"{r.Configuration,-13}  {r.ColdStarts,4}  {r.SnapshotMadeMs,11:0.0}  {r.ToReadyMs,17:0.0}  {r.ToFirstResponseMs,15:0.0} ({r.ToFirstResponseMinMs:0.0}-{r.ToFirstResponseMaxMs:0.0})  {r.WarmResponseMs,7:0.0}  {r.VmmOverheadPssMiB,20:0.00}  {r.VmmOverheadUssMiB,20:0.00}  {r.GuestTouchedMiB,17:0.00}  {r.GuestPrivateMiB,17:0.00}");
        }

        if (results.FirstOrDefault(r => r.Configuration == BenchConfiguration.NexusSync.Name) is { } sync
            && results.FirstOrDefault(r => r.Configuration == BenchConfiguration.NexusAsync.Name) is { } async)
        {
            text.AppendLine(c, $"nexus-async / nexus-sync within microvm: restore->first response {async.ToFirstResponseMs / sync.ToFirstResponseMs:0.00}x, warm {async.WarmResponseMs / sync.WarmResponseMs:0.00}x");
        }

        if (asked.Any(a => a.Io == IoMode.Baseline))
        {
            text.AppendLine("baseline: not run in a microVM: " + NoBaseline + ".");
            text.AppendLine("nexus/baseline within microvm: not available (no baseline run).");
        }

        text.AppendLine("vmm-overhead: the VMM process's PSS/USS beyond guest RAM and the Nexus region (smaps); guest-touched: RSS of the guest RAM mappings (snapshot pages shared through the page cache plus the VM's own copies); guest-private: the copied-on-write part.");
        return text.ToString();
    }

    private static double Median(IEnumerable<double> values) => Percentiles.Of([.. values]).P50;
}
