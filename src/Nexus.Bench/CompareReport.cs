// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Nexus.Bench;

/// <summary>
/// Prints a comparison as a table per case: each configuration's figures and each nexus configuration over baseline.
/// Over several runs every figure is the median of the runs' figures, every ratio the median of the runs' ratios, and
/// the nexus-async ratio's range over the runs is printed beside it.
/// </summary>
public static class CompareReport
{
    private const double MiB = 1024 * 1024;
    private const string NodeCpuRow = "CPU per invocation, node + sandbox (ms)";

    // What one warm instance costs whole: a forked instance's PSS holds only its share of the pages its template
    // shares with it, and the template's share is counted here, not nowhere.
    private const string InstanceWithTemplateRow = "instance + its template's PSS (MiB)";

    /// <summary>Issue 12's goals for nexus-async / baseline (lower is better); null function or size: every one.</summary>
    private static readonly (string Metric, double Goal, string? Function, string? Size)[] s_goals =
    [
        ("warm p50 (ms)", 0.40, "hello-s3", "1mib"),
        ("cold p50 (ms)", 0.30, null, "1mib"),
        ("cold p50 (ms)", 0.50, null, "10mib"),
        (NodeCpuRow, 0.50, "hello-s3", null),
        (NodeCpuRow, 0.80, "image-rotate", null),
    ];

    public static string Format(IReadOnlyList<ModeResult> results)
    {
        var text = new StringBuilder();
        var runs = results.Select(r => r.Run).Distinct().Count();
        foreach (var group in results.GroupBy(r => (r.Function, r.Size)))
        {
            var configurations = group.Select(r => r.Configuration).Distinct().ToList();
            var byRun = group.GroupBy(r => r.Run).Select(g => g.ToDictionary(r => r.Configuration.Name)).ToList();
            var hasBaseline = configurations.Any(c => c.Name == BenchConfiguration.Baseline.Name);
            var ratioColumns = configurations.Where(c => c.Name != BenchConfiguration.Baseline.Name && hasBaseline).ToList();
            var counts = configurations.Select(c =>
                $"{c.Name}: warm n={group.Where(r => r.Configuration == c).Sum(r => r.WarmMs.Count)}, cold n={group.Where(r => r.Configuration == c).Sum(r => r.ColdMs.Count)}, errors {group.Where(r => r.Configuration == c).Sum(r => r.Errors)}");
            text.AppendLine(CultureInfo.InvariantCulture, $"{group.Key.Function} {group.Key.Size}  ({string.Join(", ", counts)}{(runs > 1 ? $"; medians of {runs} runs" : "")})");
            text.Append(CultureInfo.InvariantCulture, $"  {"metric",-40}");
            foreach (var c in configurations)
            {
                text.Append(CultureInfo.InvariantCulture, $"{c.Name,13}");
            }

            foreach (var c in ratioColumns)
            {
                text.Append(CultureInfo.InvariantCulture, $"{ShortName(c) + "/base",13}");
            }

            text.AppendLine(runs > 1 && ratioColumns.Any(IsAsync) ? "  async/base range" : "");
            foreach (var (metric, value) in Rows())
            {
                if (byRun.All(run => run.Values.All(r => double.IsNaN(value(r)))))
                {
                    continue;
                }

                text.Append(CultureInfo.InvariantCulture, $"  {metric,-40}");
                foreach (var c in configurations)
                {
                    text.Append(CultureInfo.InvariantCulture, $"{Median(byRun.Select(run => value(run[c.Name]))),13:0.00}");
                }

                var verdict = new StringBuilder();
                foreach (var c in ratioColumns)
                {
                    var ratios = byRun.Select(run => Ratio(value(run[c.Name]), value(run[BenchConfiguration.Baseline.Name]))).ToList();
                    var ratio = Median(ratios);
                    text.Append(CultureInfo.InvariantCulture, $"{ratio,13:0.00}");
                    if (!IsAsync(c))
                    {
                        continue;
                    }

                    if (runs > 1)
                    {
                        verdict.Append(CultureInfo.InvariantCulture, $"  {ratios.Min():0.00}-{ratios.Max():0.00}");
                    }

                    var goal = s_goals.FirstOrDefault(g => g.Metric == metric && (g.Function is null || g.Function == group.Key.Function) && (g.Size is null || g.Size == group.Key.Size));
                    if (goal.Metric is not null)
                    {
                        verdict.Append(CultureInfo.InvariantCulture, $"  goal <= {goal.Goal:0.00}: {(ratio <= goal.Goal ? "met" : "MISSED")}");
                    }
                }

                text.AppendLine(verdict.ToString());
            }

            // Where a warm invocation's wall time goes, stage by stage (p50 and p99, of the last run); "-" where a
            // transport takes no stamp.
            text.Append(CultureInfo.InvariantCulture, $"  {(runs > 1 ? "warm invocation by stage, last run (us, p50 / p99)" : "warm invocation by stage (us, p50 / p99)"),-60}");
            foreach (var c in configurations)
            {
                text.Append(CultureInfo.InvariantCulture, $"{c.Name,17}");
            }

            text.AppendLine();
            for (var stage = 0; stage < NodeStages.Names.Count; stage++)
            {
                var (name, isNode) = NodeStages.Names[stage];
                text.Append(CultureInfo.InvariantCulture, $"    {(isNode ? "[node] " : "       ") + name,-58}");
                foreach (var c in configurations)
                {
                    text.Append(StageCell(byRun[^1][c.Name].WarmStagesUs[stage].Us));
                }

                text.AppendLine();
            }

            text.AppendLine();
            if (configurations.All(c => byRun[^1][c.Name].WarmApiStagesUs.Count > 0))
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"  {"through the Invoke API (us, p50 / p99)",-60}{string.Concat(configurations.Select(c => $"{c.Name,17}"))}");
                for (var stage = 0; stage <= ApiStages.Names.Count; stage++)
                {
                    text.Append(CultureInfo.InvariantCulture, $"    {byRun[^1][configurations[0].Name].WarmApiStagesUs[stage].Name,-58}");
                    foreach (var c in configurations)
                    {
                        text.Append(StageCell(byRun[^1][c.Name].WarmApiStagesUs[stage].Us));
                    }

                    text.AppendLine();
                }

                text.AppendLine();
            }
        }

        return text.ToString();
    }

    public static string Json(IReadOnlyList<ModeResult> results) =>
        JsonSerializer.Serialize(
            results.Select(r => new
            {
                run = r.Run,
                function = r.Function,
                size = r.Size,
                configuration = r.Configuration.Name,
                warmMs = Sample(r.WarmMs),
                coldMs = Sample(r.ColdMs),
                warmNodeOverheadUs = Sample(r.WarmNodeOverheadUs),
                warmNodeOverheadWithDoorbellUs = Sample(r.WarmNodeOverheadWithDoorbellUs),
                warmStagesUs = r.WarmStagesUs.ToDictionary(s => s.Name, s => Sample(s.Us)),
                warmApiStagesUs = r.WarmApiStagesUs.ToDictionary(s => s.Name, s => Sample(s.Us)),
                firstStartMs = Figure(r.FirstStartMs),
                sandboxCpuMsPerInvocation = Figure(r.SandboxCpuMsPerInvocation),
                nodeCpuMsPerInvocation = Figure(r.NodeCpuMsPerInvocation),
                storeCpuMsPerInvocation = Figure(r.StoreCpuMsPerInvocation),
                linkCpuMsPerInvocation = Figure(r.LinkCpuMsPerInvocation),
                nodeJitMsPerInvocation = Figure(r.NodeJitMsPerInvocation),
                memory = r.Memory,
                templateMemory = r.TemplateMemory,
                errors = r.Errors,
            }),
            new JsonSerializerOptions { WriteIndented = true });

    // JSON has no NaN: a figure that was not measured (a stage a transport does not stamp, no storage process) is null.
    private static Percentiles? Sample(Percentiles p) => p.Count == 0 ? null : p;

    private static double? Figure(double value) => double.IsFinite(value) ? value : null;

    /// <summary>The median of the finite values (NaN when there are none).</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Where(double.IsFinite).Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string StageCell(Percentiles us) =>
        us.Count == 0 ? $"{"-",17}" : string.Create(CultureInfo.InvariantCulture, $"{us.P50,8:0.0} /{us.P99,7:0}");

    private static double Ratio(double value, double baseline) => baseline > 0 ? value / baseline : double.NaN;

    private static bool IsAsync(BenchConfiguration c) => c.Name == BenchConfiguration.NexusAsync.Name;

    private static string ShortName(BenchConfiguration c) => c.Name.StartsWith("nexus-", StringComparison.Ordinal) ? c.Name["nexus-".Length..] : c.Name;

    private static IEnumerable<(string Metric, Func<ModeResult, double> Value)> Rows()
    {
        yield return ("warm p50 (ms)", r => r.WarmMs.P50);
        yield return ("warm p99 (ms)", r => r.WarmMs.P99);
        yield return ("node overhead, warm p50 (us)", r => r.WarmNodeOverheadUs.P50);
        yield return ("node overhead, warm p99 (us)", r => r.WarmNodeOverheadUs.P99);
        yield return ("  with the doorbell write, p50 (us)", r => r.WarmNodeOverheadWithDoorbellUs.P50);
        yield return ("cold p50 (ms)", r => r.ColdMs.P50);
        yield return ("cold p99 (ms)", r => r.ColdMs.P99);
        yield return ("first start after deploy (ms)", r => r.FirstStartMs);
        yield return ("instance PSS (MiB)", r => r.Memory.PssBytes / MiB);
        yield return ("  its fork template's PSS (MiB)", r => (r.TemplateMemory?.PssBytes ?? 0) / MiB);
        yield return (InstanceWithTemplateRow, r => (r.Memory.PssBytes + (r.TemplateMemory?.PssBytes ?? 0)) / MiB);
        yield return ("instance USS (MiB)", r => r.Memory.UssBytes / MiB);
        yield return ("instance cgroup memory (MiB)", r => r.Memory.CgroupBytes / MiB);
        yield return ("CPU per invocation, sandbox (ms)", r => r.SandboxCpuMsPerInvocation);
        yield return ("CPU per invocation, node process (ms)", r => r.NodeCpuMsPerInvocation);
        yield return ("  of which compiling code (JIT, ms)", r => r.NodeJitMsPerInvocation);
        yield return (NodeCpuRow, r => r.SandboxCpuMsPerInvocation + r.NodeCpuMsPerInvocation);

        // The remote store's own process: on its own line, not part of the node figures above (NaN, so left out, when
        // the store is embedded in the node process).
        yield return ("CPU per invocation, storage process (ms)", r => r.StoreCpuMsPerInvocation);
        yield return ("CPU per invocation, link emulator (ms)", r => r.LinkCpuMsPerInvocation);
    }
}
