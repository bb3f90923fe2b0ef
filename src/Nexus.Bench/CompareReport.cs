// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Nexus.Bench;

/// <summary>Prints a comparison as a table per case: each configuration's figures, and each nexus configuration over baseline.</summary>
public static class CompareReport
{
    private const double MiB = 1024 * 1024;

    /// <summary>The goals, for nexus-async / baseline (lower is better): issue 4's for latency, issue 3's for hello-s3's memory and CPU.</summary>
    private static readonly (string Metric, double Goal, string? Function)[] s_goals =
    [
        ("warm p50 (ms)", 0.40, null),
        ("cold p50 (ms)", 0.60, null),
        ("instance PSS (MiB)", 0.40, "hello-s3"),
        ("CPU per invocation, total (ms)", 0.50, "hello-s3"),
    ];

    public static string Format(IReadOnlyList<ModeResult> results)
    {
        var text = new StringBuilder();
        foreach (var group in results.GroupBy(r => (r.Function, r.Size)))
        {
            var byName = group.ToDictionary(r => r.Configuration.Name);
            var configurations = group.Select(r => r.Configuration).ToList();
            var baseline = byName.GetValueOrDefault(BenchConfiguration.Baseline.Name);
            var ratioColumns = configurations.Where(c => c.Name != BenchConfiguration.Baseline.Name && baseline is not null).ToList();
            text.AppendLine(CultureInfo.InvariantCulture, $"{group.Key.Function} {group.Key.Size}  ({string.Join(", ", group.Select(r => $"{r.Configuration.Name}: warm n={r.WarmMs.Count}, cold n={r.ColdMs.Count}, errors {r.Errors}"))})");
            text.Append(CultureInfo.InvariantCulture, $"  {"metric",-34}");
            foreach (var c in configurations)
            {
                text.Append(CultureInfo.InvariantCulture, $"{c.Name,13}");
            }

            foreach (var c in ratioColumns)
            {
                text.Append(CultureInfo.InvariantCulture, $"{ShortName(c) + "/base",13}");
            }

            text.AppendLine();
            foreach (var (metric, value) in Rows())
            {
                text.Append(CultureInfo.InvariantCulture, $"  {metric,-34}");
                foreach (var c in configurations)
                {
                    text.Append(CultureInfo.InvariantCulture, $"{value(byName[c.Name]),13:0.00}");
                }

                string? verdict = null;
                foreach (var c in ratioColumns)
                {
                    var b = value(baseline!);
                    var ratio = b > 0 ? value(byName[c.Name]) / b : double.NaN;
                    text.Append(CultureInfo.InvariantCulture, $"{ratio,13:0.00}");
                    var goal = s_goals.FirstOrDefault(g => g.Metric == metric && (g.Function is null || g.Function == group.Key.Function));
                    if (c.Name == BenchConfiguration.NexusAsync.Name && goal.Metric is not null)
                    {
                        verdict = ratio <= goal.Goal ? $"  goal <= {goal.Goal:0.00}: met" : $"  goal <= {goal.Goal:0.00}: MISSED";
                    }
                }

                text.AppendLine(verdict);
            }

            // Where a warm invocation's wall time goes, stage by stage (p50 and p99); "-" where a transport takes no stamp.
            text.Append(CultureInfo.InvariantCulture, $"  {"warm invocation by stage (us, p50 / p99)",-44}");
            foreach (var c in configurations)
            {
                text.Append(CultureInfo.InvariantCulture, $"{c.Name,17}");
            }

            text.AppendLine();
            for (var stage = 0; stage < NodeStages.Names.Count; stage++)
            {
                var (name, isNode) = NodeStages.Names[stage];
                text.Append(CultureInfo.InvariantCulture, $"    {(isNode ? "[node] " : "       ") + name,-42}");
                foreach (var c in configurations)
                {
                    var us = byName[c.Name].WarmStagesUs[stage].Us;
                    text.Append(us.Count == 0 ? $"{"-",17}" : string.Create(CultureInfo.InvariantCulture, $"{us.P50,8:0.0} /{us.P99,7:0}"));
                }

                text.AppendLine();
            }

            text.AppendLine();
        }

        return text.ToString();
    }

    public static string Json(IReadOnlyList<ModeResult> results) =>
        JsonSerializer.Serialize(
            results.Select(r => new
            {
                function = r.Function,
                size = r.Size,
                configuration = r.Configuration.Name,
                warmMs = r.WarmMs,
                coldMs = r.ColdMs,
                warmNodeOverheadUs = r.WarmNodeOverheadUs,
                warmStagesUs = r.WarmStagesUs.ToDictionary(s => s.Name, s => s.Us),
                firstStartMs = r.FirstStartMs,
                sandboxCpuMsPerInvocation = r.SandboxCpuMsPerInvocation,
                nodeCpuMsPerInvocation = r.NodeCpuMsPerInvocation,
                memory = r.Memory,
                errors = r.Errors,
            }),
            new JsonSerializerOptions { WriteIndented = true });

    private static string ShortName(BenchConfiguration c) => c.Name.StartsWith("nexus-", StringComparison.Ordinal) ? c.Name["nexus-".Length..] : c.Name;

    private static IEnumerable<(string Metric, Func<ModeResult, double> Value)> Rows()
    {
        yield return ("warm p50 (ms)", r => r.WarmMs.P50);
        yield return ("warm p99 (ms)", r => r.WarmMs.P99);
        yield return ("node overhead, warm p50 (us)", r => r.WarmNodeOverheadUs.P50);
        yield return ("node overhead, warm p99 (us)", r => r.WarmNodeOverheadUs.P99);
        yield return ("cold p50 (ms)", r => r.ColdMs.P50);
        yield return ("cold p99 (ms)", r => r.ColdMs.P99);
        yield return ("first start after deploy (ms)", r => r.FirstStartMs);
        yield return ("instance PSS (MiB)", r => r.Memory.PssBytes / MiB);
        yield return ("instance USS (MiB)", r => r.Memory.UssBytes / MiB);
        yield return ("instance cgroup memory (MiB)", r => r.Memory.CgroupBytes / MiB);
        yield return ("CPU per invocation, sandbox (ms)", r => r.SandboxCpuMsPerInvocation);
        yield return ("CPU per invocation, node (ms)", r => r.NodeCpuMsPerInvocation);
        yield return ("CPU per invocation, total (ms)", r => r.SandboxCpuMsPerInvocation + r.NodeCpuMsPerInvocation);
    }
}
