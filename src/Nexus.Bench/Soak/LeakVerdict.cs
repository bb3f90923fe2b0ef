// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Bench.Soak;

/// <summary>One resource followed over a soak: how to read it, how much drift is noise, and whether it must come back.</summary>
/// <param name="Name">Column and verdict name.</param>
/// <param name="Read">The figure in a sample.</param>
/// <param name="AbsoluteTolerance">Growth over the second half below this is noise (units of the series).</param>
/// <param name="RelativeTolerance">... or below this share of the series' largest value.</param>
/// <param name="ReleaseSlack">After every instance is released, the figure may exceed its value before the run by this
/// much (null: no release check, e.g. PSS, which the GC does not give back promptly).</param>
public sealed record LeakSeries(string Name, Func<LeakSample, double> Read, double AbsoluteTolerance, double RelativeTolerance, double? ReleaseSlack)
{
    /// <summary>
    /// Instance-held counts step up and down by whole instances as clients redeploy (a sample can catch several
    /// instances or templates starting or stopping): drift below a quarter of the largest count is churn, not growth.
    /// </summary>
    public const double InstanceChurn = 0.25;

    /// <summary>The write-back journal keeps its active segment and up to two cleared spares (SpoolJournal).</summary>
    public const double SpoolSlack = 3;

    /// <summary>
    /// The series of `nexus bench soak`. Instance-held resources (memfds, cgroups, netns, veths; the node's child
    /// processes; a microVM's VMM, cgroups, run folder, TAP, and its revision's snapshot and code drive) must come back
    /// exactly, the spool to its journal's standing files; descriptors may keep a few pooled connections; the firewall's
    /// rules never change after start.
    /// </summary>
    public static IReadOnlyList<LeakSeries> All { get; } =
    [
        new("fds", s => s.Fds, 8, 0.10, 8),
        new("memfds", s => s.Memfds, 2, InstanceChurn, 0),
        new("cgroups", s => s.Cgroups, 2, InstanceChurn, 0),
        new("netns", s => s.Netns, 2, InstanceChurn, 0),
        new("veths", s => s.Veths, 2, InstanceChurn, 0),
        new("nft rules", s => s.NftRules, 0.5, 0, 0),
        new("spool files", s => s.SpoolFiles, 2, 0.10, SpoolSlack),
        new("threads", s => s.Threads, 4, 0.10, null),
        new("PSS MiB", s => s.PssMiB, 16, 0.10, null),
        new("processes", s => s.Processes, 2, InstanceChurn, 0),
        new("VMMs", s => s.Vmms, 2, InstanceChurn, 0),
        new("VM cgroups", s => s.VmCgroups, 2, InstanceChurn, 0),
        new("VM folders", s => s.VmFolders, 2, InstanceChurn, 0),
        new("snapshots", s => s.Snapshots, 2, InstanceChurn, 0),
        new("code drives", s => s.CodeDrives, 2, InstanceChurn, 0),
        new("TAPs", s => s.Taps, 0.5, 0, 0),
    ];
}

/// <summary>A series' verdict: growth of a least-squares line over the run's second half, and what was left after release.</summary>
public sealed record LeakVerdict(string Series, double Before, double First, double Last, double After, double SlopePerMinute, double SecondHalfGrowth, double Tolerance, bool Leaking, string Why)
{
    /// <summary>
    /// Judges <paramref name="series"/> over <paramref name="during"/> (samples of the loaded run), with
    /// <paramref name="before"/> taken before any deployment and <paramref name="after"/> once everything was released.
    /// Leaking when the second half's fitted line grows by more than the tolerance, or when the release check fails.
    /// </summary>
    public static LeakVerdict Judge(LeakSeries series, LeakSample before, IReadOnlyList<LeakSample> during, LeakSample after)
    {
        if (during.Count == 0)
        {
            throw new ArgumentException("no samples during the run", nameof(during));
        }

        var end = during[^1].Seconds;
        var half = during.Where(s => s.Seconds >= end / 2).ToList();
        var slope = half.Count >= 3 ? Slope(half.Select(s => s.Seconds / 60).ToArray(), half.Select(series.Read).ToArray()) : 0;
        var growth = half.Count >= 3 ? slope * (half[^1].Seconds - half[0].Seconds) / 60 : 0;
        var tolerance = Math.Max(series.AbsoluteTolerance, series.RelativeTolerance * during.Max(series.Read));
        var (b, a) = (series.Read(before), series.Read(after));
        var grew = half.Count >= 3 && growth > tolerance;
        var kept = series.ReleaseSlack is { } slack && a > b + slack;
        var why = new List<string>();
        if (half.Count < 3)
        {
            why.Add("fewer than 3 samples in the second half: no slope");
        }

        if (grew)
        {
            why.Add($"grew {growth:0.#} over the second half (tolerance {tolerance:0.#})");
        }

        if (kept)
        {
            why.Add($"{a:0.#} after release, {b:0.#} before the run");
        }

        return new LeakVerdict(series.Name, b, series.Read(during[0]), series.Read(during[^1]), a, slope, growth, tolerance, grew || kept, why.Count == 0 ? "flat" : string.Join("; ", why));
    }

    /// <summary>Least-squares slope of <paramref name="y"/> on <paramref name="x"/> (0 when x does not vary).</summary>
    public static double Slope(double[] x, double[] y)
    {
        var (mx, my) = (x.Average(), y.Average());
        double sxy = 0, sxx = 0;
        for (var i = 0; i < x.Length; i++)
        {
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
        }

        return sxx == 0 ? 0 : sxy / sxx;
    }
}
