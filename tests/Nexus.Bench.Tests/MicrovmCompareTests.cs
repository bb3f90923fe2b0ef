// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using Nexus.Bench.Microvm;
using Nexus.Sandbox.Microvm;
using Nexus.Testing;

namespace Nexus.Bench.Tests;

/// <summary>
/// <c>nexus bench compare --sandbox microvm</c>'s run and report, briefly (two cold starts per configuration): every
/// figure is there, in its column, and within what a microVM of this guest can be. No timing is asserted beyond order.
/// </summary>
[Collection(RealNodeCollection.Name)]
public sealed class MicrovmCompareTests
{
    [RootFact(runc: false, kvm: true)]
    public async Task The_microvm_comparison_reports_every_figure_per_nexus_configuration_and_says_why_baseline_is_not_run()
    {
        var asked = BenchConfiguration.All;
        var results = await MicrovmCompare.RunAsync(TestGuests.Build("runtime"), VmmExecutable.Locate(), asked, coldStarts: 2, TextWriter.Null, CancellationToken.None);

        Assert.Equal(["nexus-sync", "nexus-async"], results.Select(r => r.Configuration));
        foreach (var r in results)
        {
            Assert.Equal(2, r.ColdStarts);
            Assert.True(r.SnapshotMadeMs > 0 && r.ToReadyMs > 0 && r.WarmResponseMs > 0, r.ToString());
            Assert.True(r.ToFirstResponseMs > r.ToReadyMs && r.ToFirstResponseMinMs <= r.ToFirstResponseMs && r.ToFirstResponseMs <= r.ToFirstResponseMaxMs, r.ToString());

            // The VMM itself: more than nothing, less than the .NET runtime of a JIT build would take (~40 MiB RSS).
            Assert.True(r.VmmOverheadPssMiB is > 0.5 and < 64 && r.VmmOverheadUssMiB > 0, r.ToString());

            // The guest touched some of its 128 MiB (its stack, buffers, the channel code), privately no more than that.
            Assert.True(r.GuestTouchedMiB is > 0 and < 128 && r.GuestPrivateMiB <= r.GuestTouchedMiB, r.ToString());
        }

        var report = MicrovmCompare.Format(results, asked, MicrovmColdStarts.KvmKind);
        Assert.Contains(MicrovmColdStarts.KvmKind, report, StringComparison.Ordinal);
        Assert.Contains("baseline: not run in a microVM: " + MicrovmCompare.NoBaseline, report, StringComparison.Ordinal);
        Assert.Contains("nexus-async / nexus-sync within microvm: restore->first response ", report, StringComparison.Ordinal);

        // Each configuration's row carries its figures, in the header's column order.
        foreach (var r in results)
        {
            var row = report.Split('\n').Single(l => l.StartsWith(r.Configuration + " ", StringComparison.Ordinal) && !l.Contains(" / ", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(r.ColdStarts.ToString(CultureInfo.InvariantCulture), row[1]);
            Assert.Equal(r.ToFirstResponseMs.ToString("0.0", CultureInfo.InvariantCulture), row[4]);
            Assert.Equal(r.VmmOverheadPssMiB.ToString("0.00", CultureInfo.InvariantCulture), row[7]);
            Assert.Equal(r.GuestTouchedMiB.ToString("0.00", CultureInfo.InvariantCulture), row[9]);
        }
    }
}
