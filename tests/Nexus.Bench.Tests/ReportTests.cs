// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text.RegularExpressions;
using Nexus.Bench.Density;
using Nexus.Bench.Replay;
using Nexus.Bench.Report;
using Nexus.Bench.Trace;
using Nexus.Testing;

namespace Nexus.Bench.Tests;

public sealed partial class ReportTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nexus-report-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void RatioTableStatesGoalsAndHowFarOff()
    {
        var table = ReportWriter.RatioTable(Results());

        Assert.Contains("| density (largest rate scale of the base trace within the SLO) | 2 | 4 | 2.00 | ≥ 1.5x: met |", table, StringComparison.Ordinal);
        Assert.Matches(@"node memory at base load.*\| 0\.50 \| ≤ 0\.30: MISSED by 0\.20 \|", table);
        Assert.Matches(@"node CPU per invocation at base load.*\| 0\.75 \| ≤ 0\.50: MISSED by 0\.25 \|", table);
    }

    [Fact]
    public void RatiosAreAlsoComparedAtTheLargestLoadBothModesMet()
    {
        // Baseline met 0.5x only (at 1x it failed invocations, so it held fewer instances): memory and CPU are compared
        // there too, from the runs of both modes at 0.5x.
        var results = Results() with
        {
            Density = [new ModeDensity("baseline", 0.5, 8, 4, [new Probe(1, false), new Probe(0.5, true)]), new ModeDensity("nexus", 4, 16, 8, [new Probe(1, true)])],
        };
        results = results with { Runs = [.. results.Runs, Run("baseline", 0.5, 20, 1.0, 40, templatePss: 0), Run("nexus", 0.5, 12, 0.25, 3.5, templatePss: 6)] };

        var table = ReportWriter.RatioTable(results);

        Assert.Equal(0.5, DensityBenchmark.EqualLoadLevel(results.Density));
        Assert.Matches(@"node memory at equal load \(0\.5x, the largest both met\).*\| 260 \| 120 \| 0\.46 \| ≤ 0\.30: MISSED by 0\.16 \|", table);
        Assert.Matches(@"node CPU per invocation at equal load \(0\.5x.*\| 0\.25 \| ≤ 0\.50: met \|", table);
        Assert.Contains("|     of which fork templates | 0 | 6 | NaN |  |", table, StringComparison.Ordinal);
        Assert.Null(DensityBenchmark.EqualLoadLevel([new ModeDensity("baseline", 0, 0, 0, [new Probe(0.125, false)]), new ModeDensity("nexus", 1, 8, 4, [])]));
    }

    /// <summary>
    /// At a load where one mode failed most of its calls (baseline microVMs that boot), its node held fewer instances and
    /// spent less: memory and CPU are shown but not judged against their goals, and the table says why.
    /// </summary>
    [Fact]
    public void MemoryAndCpuAreNotJudgedWhereTheModesCompletedDifferentWork()
    {
        var results = Results();
        var failing = results.Runs[0] with { Completed = 10, Failed = 40 };
        results = results with { Runs = [failing, .. results.Runs.Skip(1)] };

        var table = ReportWriter.RatioTable(results);

        Assert.Matches(@"node memory at base load.*\| not judged: unequal work \(baseline completed 10 of 50 calls, nexus 49 of 50\) \|", table);
        Assert.Matches(@"node CPU per invocation at base load.*\| not judged: unequal work", table);
        Assert.DoesNotMatch(@"at base load.*MISSED", table);

        // At the equal load (2x) both completed their 50 calls: judged.
        Assert.Matches(@"node memory at equal load \(2x, the largest both met\).*\| ≤ 0\.30: MISSED by 0\.20 \|", table);
        Assert.Contains("|   one instance's PSS, median over the level's instances (MiB) | 50 | 12.5 | 0.25 |  |", table, StringComparison.Ordinal);

        // Within a tenth of each other, the goals are judged as before.
        Assert.Null(ReportWriter.UnequalWork(results.Runs[0] with { Completed = 45 }, results.Runs[1]));
    }

    [Fact]
    public async Task ReportRendersInHeadlessChromiumWithAllItsCharts()
    {
        var results = Results();
        var files = await ReportWriter.WriteAsync(results, _dir, VegaAssets.DefaultCache, TextWriter.Null, CancellationToken.None);

        var html = Path.Combine(_dir, "report.html");
        Assert.Contains(html, files);
        var page = await File.ReadAllTextAsync(html);
        Assert.DoesNotContain("<script src", page, StringComparison.OrdinalIgnoreCase);
        foreach (var png in files.Where(f => f.EndsWith(".png", StringComparison.Ordinal)))
        {
            Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, File.ReadAllBytes(png)[..4]);
        }

        Assert.Equal(Charts.All(results).Count, files.Count(f => f.EndsWith(".svg", StringComparison.Ordinal)));
        var dom = await DumpDomAsync(html);

        Assert.DoesNotContain("data-chart-error", dom, StringComparison.Ordinal);
        Assert.Contains($"data-charts=\"{Charts.All(results).Count}\"", dom, StringComparison.Ordinal);
        Assert.Equal(Charts.All(results).Count, ChartSvg().Matches(dom).Count);
        Assert.Contains("Latency CDF", dom, StringComparison.Ordinal);
    }

    [GeneratedRegex("<svg[^>]*class=\"marks\"")]
    private static partial Regex ChartSvg();

    private async Task<string> DumpDomAsync(string html)
    {
        Assert.True(File.Exists("/usr/bin/chromium"), "needs /usr/bin/chromium (Debian package chromium): run scripts/setup, which installs it");
        var profile = Directory.CreateDirectory(Path.Combine(_dir, "chromium-profile")).FullName;
        return await RunAsync("/usr/bin/chromium", [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", $"--user-data-dir={profile}", "--virtual-time-budget=20000", "--dump-dom", "file://" + html]);
    }

    private static async Task<string> RunAsync(string file, string[] arguments)
    {
        var (exitCode, stdout, stderr) = await Processes.RunAsync(file, arguments);
        Assert.True(exitCode == 0, $"{file} failed (exit {exitCode}): {stderr}");
        return stdout;
    }

    /// <summary>Small results of the real shape: level 1 and 2 for both modes, with records, samples, instances.</summary>
    /// <summary>A run of 50 invocations on 4 instances of <paramref name="pss"/> MiB each (plus the templates') and a 100 MiB node.</summary>
    private static LevelRun Run(string mode, double level, double latency, double nodeCpu, double pss, double templatePss = 0)
    {
        var records = Enumerable.Range(0, 50).Select(i => new InvocationRecord(i % 4, i * 100, i * 100, latency * (1 + (i % 7 / 10.0)) * (i % 10 == 0 ? 20 : 1), i != 49 || level == 2, i % 10 == 0, "success", $"{mode}-{i % 4}")).ToList();
        var samples = Enumerable.Range(0, 6).Select(s => new ResourceSample(s, 4, nodeCpu * s / 5, 100, nodeCpu * s / 5, (pss * 4) + templatePss, pss * 3, TemplatePssMiB: templatePss)).ToList();
        var instances = Enumerable.Range(0, 4).Select(i => new InstanceSample($"{mode}-{i}", i, pss, pss * 0.75, pss * 1.1, 0.1)).ToList();
        var completed = records.Count(r => r.Success);
        return new LevelRun(mode, level, (int)Math.Ceiling(level) * 4, new SloVerdict(level == 1, level == 1 ? 1.5 : 3, 50, 1, 50 - completed), 50, 50, completed, 50 - completed, 5, 4, nodeCpu, nodeCpu, 100, (pss * 4) + templatePss, records, samples, instances, MeanTemplatePssMiB: templatePss);
    }

    private static EvaluationResults Results()
    {
        // nexus: node memory 100 + 4·12.5 against 100 + 4·50 MiB (0.50), three quarters of the CPU (0.75).
        var runs = new List<LevelRun> { Run("baseline", 1, 20, 1.0, 50), Run("nexus", 1, 12, 0.75, 12.5), Run("baseline", 2, 30, 2, 50), Run("nexus", 2, 15, 1.5, 12.5) };
        return new EvaluationResults(
            "test", 2, DateTimeOffset.UnixEpoch, "nexus bench density", new GeneratorOptions(), new ScheduleOptions(), new Slo(), 16, 5,
            [new WorkloadMapping("f", "hello-s3", 0.1)],
            new Dictionary<string, IReadOnlyList<UnloadedLatency>> { ["baseline"] = [new("hello-s3", 10, 300)], ["nexus"] = [new("hello-s3", 6, 250)] },
            runs,
            [new ModeDensity("baseline", 2, 8, 4, [new Probe(1, true), new Probe(2, true), new Probe(4, false)]), new ModeDensity("nexus", 4, 16, 8, [new Probe(1, true)])]);
    }
}
