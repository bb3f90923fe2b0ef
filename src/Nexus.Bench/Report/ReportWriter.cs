// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Nexus.Bench.Density;

namespace Nexus.Bench.Report;

/// <summary>
/// Writes the evaluation report from the density results: report.html (one self-contained page: the Vega-Lite
/// specs and the vega, vega-lite and vega-embed scripts inlined), the same specs as SVG (vl2svg) and PNG
/// (rsvg-convert), ratios.md and results.json.
/// </summary>
public static class ReportWriter
{
    /// <summary>Node memory, node CPU (nexus/baseline, at most) and density (at least): issue 12's (memory 0.60 before).</summary>
    public const double MemoryGoal = 0.30;
    public const double CpuGoal = 0.50;
    public const double DensityGoal = 1.5;

    public static async Task<IReadOnlyList<string>> WriteAsync(EvaluationResults results, string outDirectory, string npmCache, TextWriter log, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(outDirectory);
        var plots = Directory.CreateDirectory(Path.Combine(outDirectory, "plots")).FullName;
        var written = new List<string>();
        var specs = Charts.All(results);

        var json = Path.Combine(outDirectory, "results.json");
        await File.WriteAllTextAsync(json, results.ToJson(), cancellationToken);
        written.Add(json);

        var ratios = Path.Combine(outDirectory, "ratios.md");
        await File.WriteAllTextAsync(ratios, RatioTable(results), cancellationToken);
        written.Add(ratios);

        var modules = await VegaAssets.EnsureAsync(npmCache, log, cancellationToken);
        foreach (var (name, _, spec) in specs)
        {
            var specPath = Path.Combine(plots, name + ".vl.json");
            await File.WriteAllTextAsync(specPath, spec.ToJsonString(), cancellationToken);
            var svg = Path.Combine(plots, name + ".svg");
            await RunAsync(Path.Combine(modules, ".bin", "vl2svg"), [specPath, svg], cancellationToken);
            var png = Path.Combine(plots, name + ".png");
            await RunAsync("rsvg-convert", ["--zoom=2", svg, "-o", png], cancellationToken);
            written.Add(svg);
            written.Add(png);
        }

        var html = Path.Combine(outDirectory, "report.html");
        await File.WriteAllTextAsync(html, Html(results, specs, modules), cancellationToken);
        written.Add(html);
        return written;
    }

    /// <summary>The nexus/baseline ratios at the base load (level 1) and of the densities, as markdown.</summary>
    public static string RatioTable(EvaluationResults results)
    {
        var text = new StringBuilder();
        text.AppendLine("| metric | baseline | nexus | nexus/baseline | goal |");
        text.AppendLine("|---|---:|---:|---:|---|");
        foreach (var (metric, b, n, goal) in Ratios(results))
        {
            var ratio = b > 0 ? n / b : double.NaN;
            text.AppendLine(CultureInfo.InvariantCulture, $"| {metric} | {b:0.##} | {n:0.##} | {ratio:0.00} | {goal} |");
        }

        return text.ToString();
    }

    public static IEnumerable<(string Metric, double Baseline, double Nexus, string Goal)> Ratios(EvaluationResults results)
    {
        var b = results.Runs.FirstOrDefault(r => r.Mode == "baseline" && r.Level == 1);
        var n = results.Runs.FirstOrDefault(r => r.Mode == "nexus" && r.Level == 1);
        if (b is not null && n is not null)
        {
            foreach (var row in LoadRows(b, n, "at base load", split: true))
            {
                yield return row;
            }
        }

        // The same work for both: at the base load a mode that fails invocations holds fewer instances than it needs.
        if (DensityBenchmark.EqualLoadLevel(results.Density) is { } equal && equal != 1)
        {
            var be = results.Runs.LastOrDefault(r => r.Mode == "baseline" && r.Level == equal);
            var ne = results.Runs.LastOrDefault(r => r.Mode == "nexus" && r.Level == equal);
            if (be is not null && ne is not null)
            {
                foreach (var row in LoadRows(be, ne, $"at equal load ({equal:0.###}x, the largest both met)", split: false))
                {
                    yield return row;
                }
            }
        }

        var db = results.Density.FirstOrDefault(d => d.Mode == "baseline");
        var dn = results.Density.FirstOrDefault(d => d.Mode == "nexus");
        if (db is not null && dn is not null)
        {
            yield return ("density (largest rate scale of the base trace within the SLO)", db.BestLevel, dn.BestLevel, Verdict(db.BestLevel, dn.BestLevel, DensityGoal, atMost: false));
            yield return ("  functions deployed at that density", db.Functions, dn.Functions, "");
            yield return ("  peak instances at that density", db.PeakInstances, dn.PeakInstances, "");
        }
    }

    /// <summary>
    /// Why the node memory and CPU of two runs at one load are not judged against their goals, or null when they are: the
    /// modes completed different work (more than a tenth apart), so the one that failed its calls held fewer instances
    /// and spent less (Linux microVMs that boot: baseline failed 208 of 223 calls at the base load, docs/evaluation.md).
    /// </summary>
    public static string? UnequalWork(LevelRun baseline, LevelRun nexus)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(nexus);
        return Math.Abs(baseline.Completed - nexus.Completed) > 0.1 * Math.Max(baseline.Completed, nexus.Completed)
            ? $"not judged: unequal work (baseline completed {baseline.Completed} of {baseline.Issued} calls, nexus {nexus.Completed} of {nexus.Issued})"
            : null;
    }

    private static double MedianInstancePss(LevelRun run)
    {
        var pss = run.Instances.Select(i => i.PssMiB).Where(p => p > 0).ToArray();
        return pss.Length == 0 ? double.NaN : Percentiles.Of(pss).P50;
    }

    /// <summary>Node memory and CPU of one baseline and one nexus run at the same load, with their goals.</summary>
    private static IEnumerable<(string Metric, double Baseline, double Nexus, string Goal)> LoadRows(LevelRun b, LevelRun n, string at, bool split)
    {
        var unequal = UnequalWork(b, n);
        yield return ($"node memory {at}, mean (MiB: node process + sandboxes PSS)", b.MeanNodePssMiB + b.MeanSandboxPssMiB, n.MeanNodePssMiB + n.MeanSandboxPssMiB, unequal ?? Verdict(b.MeanNodePssMiB + b.MeanSandboxPssMiB, n.MeanNodePssMiB + n.MeanSandboxPssMiB, MemoryGoal, atMost: true));
        yield return ("  sandboxes PSS, mean (MiB)", b.MeanSandboxPssMiB, n.MeanSandboxPssMiB, "");
        yield return ("  one instance's PSS, median over the level's instances (MiB)", MedianInstancePss(b), MedianInstancePss(n), "");
        yield return ("    of which fork templates", b.MeanTemplatePssMiB, n.MeanTemplatePssMiB, "");
        yield return ("  node process PSS, mean (MiB)", b.MeanNodePssMiB, n.MeanNodePssMiB, "");
        if (split && b.NodeMemorySplit is not null && n.NodeMemorySplit is not null)
        {
            foreach (var kind in n.NodeMemorySplit.Select(m => m.Kind).Union(b.NodeMemorySplit.Select(m => m.Kind)))
            {
                double Of(LevelRun r) => r.NodeMemorySplit!.FirstOrDefault(m => m.Kind == kind)?.MeanMiB ?? 0;
                yield return ($"    {kind} (smaps)", Of(b), Of(n), "");
            }
        }

        double Per(LevelRun r, double seconds) => r.Completed > 0 ? seconds * 1000 / r.Completed : double.NaN;
        yield return ($"node CPU per invocation {at} (ms: node process + sandboxes)", Per(b, b.NodeCpuSeconds + b.SandboxCpuSeconds), Per(n, n.NodeCpuSeconds + n.SandboxCpuSeconds), unequal ?? Verdict(Per(b, b.NodeCpuSeconds + b.SandboxCpuSeconds), Per(n, n.NodeCpuSeconds + n.SandboxCpuSeconds), CpuGoal, atMost: true));
        yield return ("  sandboxes CPU per invocation (ms)", Per(b, b.SandboxCpuSeconds), Per(n, n.SandboxCpuSeconds), "");
        yield return ("  node process CPU per invocation (ms)", Per(b, b.NodeCpuSeconds), Per(n, n.NodeCpuSeconds), "");
        if (split && b.NodeCpuSplit is not null && n.NodeCpuSplit is not null)
        {
            // Components in the order of nexus's largest share; perf samples, so shares carry sampling error.
            foreach (var component in n.NodeCpuSplit.Select(c => c.Component).Union(b.NodeCpuSplit.Select(c => c.Component)))
            {
                double Of(LevelRun r) => Per(r, r.NodeCpuSplit!.FirstOrDefault(c => c.Component == component)?.CpuSeconds ?? 0);
                yield return ($"    {component} (perf samples)", Of(b), Of(n), "");
            }
        }

        if (b.MeanStorePssMiB > 0 || n.MeanStorePssMiB > 0)
        {
            // A remote store's process, as the paper reports it: on its own, not in the node figures above.
            yield return ("storage process CPU per invocation (ms; remote store, not in the node figures)", Per(b, b.StoreCpuSeconds), Per(n, n.StoreCpuSeconds), "");
            yield return ("storage process PSS, mean (MiB; remote store, not in the node figures)", b.MeanStorePssMiB, n.MeanStorePssMiB, "");
        }

        yield return ($"p99 slowdown {at}", b.Verdict.P99Slowdown, n.Verdict.P99Slowdown, "");
        yield return ($"  invocations failed {at}", b.Failed, n.Failed, "");
    }

    private static string Verdict(double baseline, double nexus, double goal, bool atMost)
    {
        if (!(baseline > 0))
        {
            return atMost ? $"≤ {goal:0.00}: no baseline figure" : $"≥ {goal:0.0}x: no baseline figure";
        }

        var ratio = nexus / baseline;
        return atMost
            ? ratio <= goal ? $"≤ {goal:0.00}: met" : $"≤ {goal:0.00}: MISSED by {ratio - goal:0.00}"
            : ratio >= goal ? $"≥ {goal:0.0}x: met" : $"≥ {goal:0.0}x: MISSED by {goal - ratio:0.00}";
    }

    private static string Html(EvaluationResults results, IReadOnlyList<(string Name, string Title, JsonObject Spec)> specs, string modules)
    {
        static string Script(string path) => File.ReadAllText(path).Replace("</script", "<\\/script", StringComparison.OrdinalIgnoreCase);
        var page = new StringBuilder();
        page.AppendLine("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Nexus evaluation</title>");
        page.AppendLine("<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}.chart{margin:1.5em 0}</style>");
        foreach (var file in new[] { "vega/build/vega.min.js", "vega-lite/build/vega-lite.min.js", "vega-embed/build/vega-embed.min.js" })
        {
            page.Append("<script>").Append(Script(Path.Combine(modules, file))).AppendLine("</script>");
        }

        page.AppendLine("</head><body>");
        page.AppendLine(CultureInfo.InvariantCulture, $"<h1>Nexus evaluation: nexus vs baseline</h1><p>{Escape(results.Machine)}, {results.Cores} cores, {results.Started:u}. Command: <code>{Escape(results.Command)}</code>. SLO: p99 slowdown ≤ {results.Slo.Factor} (latency over the function's unloaded p50, warm or cold, plus {results.Slo.SlackMs} ms slack; failures and timeouts are violations).</p>");
        page.AppendLine("<h2>Ratios</h2><table><tr><th>metric</th><th>baseline</th><th>nexus</th><th>nexus/baseline</th><th>goal</th></tr>");
        foreach (var (metric, b, n, goal) in Ratios(results))
        {
            page.AppendLine(CultureInfo.InvariantCulture, $"<tr><td>{Escape(metric)}</td><td>{b:0.##}</td><td>{n:0.##}</td><td>{(b > 0 ? n / b : double.NaN):0.00}</td><td>{Escape(goal)}</td></tr>");
        }

        page.AppendLine("</table>");
        for (var i = 0; i < specs.Count; i++)
        {
            page.AppendLine(CultureInfo.InvariantCulture, $"<h2>{Escape(specs[i].Title)}</h2><div class=\"chart\" id=\"chart-{specs[i].Name}\"></div>");
        }

        page.AppendLine("<script>");
        page.AppendLine("const specs = {");
        foreach (var (name, _, spec) in specs)
        {
            page.AppendLine(CultureInfo.InvariantCulture, $"  {JsonSerializer.Serialize(name)}: {spec.ToJsonString().Replace("</", "<\\/", StringComparison.Ordinal)},");
        }

        page.AppendLine("};");
        page.AppendLine("Promise.all(Object.entries(specs).map(([name, spec]) => vegaEmbed('#chart-' + name, spec, {renderer: 'svg', actions: false})))");
        page.AppendLine("  .then(views => { document.body.dataset.charts = String(views.length); })");
        page.AppendLine("  .catch(e => { document.body.dataset.chartError = String(e); });");
        page.AppendLine("</script></body></html>");
        return page.ToString();
    }

    private static string Escape(string text) => System.Net.WebUtility.HtmlEncode(text);

    private static async Task RunAsync(string file, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{file} is not installed ({e.Message}); rsvg-convert comes from Debian's librsvg2-bin", e);
        }

        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            await process.StandardOutput.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken);
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed (exit {process.ExitCode}): {await stderr}");
            }
        }
    }
}
