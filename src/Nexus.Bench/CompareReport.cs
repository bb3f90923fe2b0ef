// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Text;
using System.Text.Json;
using Nexus.Functions;

namespace Nexus.Bench;

/// <summary>Prints a comparison as a table of baseline and nexus figures with nexus/baseline ratios.</summary>
public static class CompareReport
{
    private const double MiB = 1024 * 1024;

    /// <summary>The issue's goals for hello-s3 (nexus/baseline, lower is better).</summary>
    private static readonly (string Metric, double Goal)[] s_goals =
    [
        ("instance PSS (MiB)", 0.40),
        ("CPU per invocation, total (ms)", 0.50),
        ("warm p50 (ms)", 0.40),
    ];

    public static string Format(IReadOnlyList<ModeResult> results)
    {
        var text = new StringBuilder();
        foreach (var function in results.Select(r => r.Function).Distinct())
        {
            var baseline = results.Single(r => r.Function == function && r.Mode == IoMode.Baseline);
            var nexus = results.Single(r => r.Function == function && r.Mode == IoMode.Nexus);
            text.AppendLine(CultureInfo.InvariantCulture, $"{function}  (warm n={baseline.WarmMs.Count}/{nexus.WarmMs.Count}, cold n={baseline.ColdMs.Count}/{nexus.ColdMs.Count}, errors {baseline.Errors}/{nexus.Errors})");
            text.AppendLine(CultureInfo.InvariantCulture, $"  {"metric",-34}{"baseline",12}{"nexus",12}{"nexus/base",12}");
            foreach (var (metric, b, n) in Rows(baseline, nexus))
            {
                var goal = function == "hello-s3" ? s_goals.FirstOrDefault(g => g.Metric == metric) : default;
                var ratio = b > 0 ? n / b : double.NaN;
                var verdict = goal.Metric is null ? "" : ratio <= goal.Goal ? $"  goal <= {goal.Goal:0.00}: met" : $"  goal <= {goal.Goal:0.00}: MISSED";
                text.AppendLine(CultureInfo.InvariantCulture, $"  {metric,-34}{b,12:0.00}{n,12:0.00}{ratio,12:0.00}{verdict}");
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
                mode = r.Mode.ToString().ToLowerInvariant(),
                warmMs = r.WarmMs,
                coldMs = r.ColdMs,
                sandboxCpuMsPerInvocation = r.SandboxCpuMsPerInvocation,
                nodeCpuMsPerInvocation = r.NodeCpuMsPerInvocation,
                memory = r.Memory,
                errors = r.Errors,
            }),
            new JsonSerializerOptions { WriteIndented = true });

    private static IEnumerable<(string Metric, double Baseline, double Nexus)> Rows(ModeResult b, ModeResult n)
    {
        yield return ("warm p50 (ms)", b.WarmMs.P50, n.WarmMs.P50);
        yield return ("warm p99 (ms)", b.WarmMs.P99, n.WarmMs.P99);
        yield return ("cold p50 (ms)", b.ColdMs.P50, n.ColdMs.P50);
        yield return ("cold p99 (ms)", b.ColdMs.P99, n.ColdMs.P99);
        yield return ("instance PSS (MiB)", b.Memory.PssBytes / MiB, n.Memory.PssBytes / MiB);
        yield return ("instance USS (MiB)", b.Memory.UssBytes / MiB, n.Memory.UssBytes / MiB);
        yield return ("instance cgroup memory (MiB)", b.Memory.CgroupBytes / MiB, n.Memory.CgroupBytes / MiB);
        yield return ("CPU per invocation, sandbox (ms)", b.SandboxCpuMsPerInvocation, n.SandboxCpuMsPerInvocation);
        yield return ("CPU per invocation, node (ms)", b.NodeCpuMsPerInvocation, n.NodeCpuMsPerInvocation);
        yield return ("CPU per invocation, total (ms)", b.SandboxCpuMsPerInvocation + b.NodeCpuMsPerInvocation, n.SandboxCpuMsPerInvocation + n.NodeCpuMsPerInvocation);
    }
}
