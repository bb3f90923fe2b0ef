// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text.Json;
using System.Text.Json.Nodes;
using Nexus.Bench.Density;

namespace Nexus.Bench.Report;

/// <summary>The report's Vega-Lite specs, data inlined, built from the density results.</summary>
public static class Charts
{
    private const string Schema = "https://vega.github.io/schema/vega-lite/v6.json";

    public static IReadOnlyList<(string Name, string Title, JsonObject Spec)> All(EvaluationResults results)
    {
        var baseRuns = results.Runs.Where(r => r.Level == 1).ToList();
        return
        [
            ("latency-cdf", "Latency CDF at base load, cold and warm, per mode", LatencyCdf(baseRuns)),
            ("instance-memory", "Memory per instance at base load (PSS and USS)", InstanceMemory(baseRuns)),
            ("cpu-per-invocation", "CPU per invocation at base load (node process and sandboxes)", CpuPerInvocation(baseRuns)),
            ("node-cpu-over-time", "Node CPU over time at base load (cores busy)", NodeCpuOverTime(baseRuns)),
            ("node-memory-over-time", "Node memory over time at base load (node process + sandboxes PSS)", NodeMemoryOverTime(baseRuns)),
            ("density", "Density search: p99 slowdown per load level (SLO line)", DensityCurve(results)),
        ];
    }

    private static JsonObject LatencyCdf(IEnumerable<LevelRun> runs)
    {
        var values = new List<object>();
        foreach (var run in runs)
        {
            foreach (var cold in new[] { false, true })
            {
                var sorted = run.Records.Where(r => r.Success && r.Cold == cold).Select(r => r.LatencyMs).Order().ToArray();
                for (var i = 0; i < sorted.Length; i++)
                {
                    values.Add(new { mode = run.Mode, start = cold ? "cold" : "warm", series = $"{run.Mode} {(cold ? "cold" : "warm")}", latencyMs = Math.Max(sorted[i], 0.01), fraction = (i + 1.0) / sorted.Length });
                }
            }
        }

        return Spec(values, new
        {
            mark = new { type = "line", interpolate = "step-after" },
            encoding = new
            {
                x = new { field = "latencyMs", type = "quantitative", scale = new { type = "log" }, title = "latency (ms, log)" },
                y = new { field = "fraction", type = "quantitative", title = "fraction of invocations" },
                color = new { field = "series", type = "nominal" },
                tooltip = new object[] { new { field = "series" }, new { field = "latencyMs", format = ".1f" }, new { field = "fraction", format = ".3f" } },
            },
        });
    }

    private static JsonObject InstanceMemory(IEnumerable<LevelRun> runs)
    {
        var values = runs.SelectMany(r => r.Instances.SelectMany(i => new[]
        {
            (object)new { mode = r.Mode, kind = "PSS", mib = i.PssMiB, instance = i.InstanceId },
            new { mode = r.Mode, kind = "USS", mib = i.UssMiB, instance = i.InstanceId },
        })).ToList();
        return Spec(values, new
        {
            mark = new { type = "boxplot", extent = "min-max" },
            encoding = new
            {
                x = new { field = "mode", type = "nominal" },
                xOffset = new { field = "kind" },
                color = new { field = "kind", type = "nominal" },
                y = new { field = "mib", type = "quantitative", title = "MiB per instance" },
            },
        });
    }

    private static JsonObject CpuPerInvocation(IEnumerable<LevelRun> runs)
    {
        var values = runs.Where(r => r.Completed > 0).SelectMany(r => new[]
        {
            (object)new { mode = r.Mode, part = "node process", ms = r.NodeCpuSeconds * 1000 / r.Completed },
            new { mode = r.Mode, part = "sandboxes", ms = r.SandboxCpuSeconds * 1000 / r.Completed },
        }).ToList();
        return Spec(values, new
        {
            mark = "bar",
            encoding = new
            {
                x = new { field = "mode", type = "nominal" },
                y = new { field = "ms", type = "quantitative", title = "CPU ms per completed invocation" },
                color = new { field = "part", type = "nominal" },
                tooltip = new object[] { new { field = "part" }, new { field = "ms", format = ".2f" } },
            },
        });
    }

    private static JsonObject NodeCpuOverTime(IEnumerable<LevelRun> runs)
    {
        var values = new List<object>();
        foreach (var run in runs)
        {
            for (var i = 1; i < run.Samples.Count; i++)
            {
                var a = run.Samples[i - 1];
                var b = run.Samples[i];
                var dt = b.Seconds - a.Seconds;
                if (dt > 0)
                {
                    values.Add(new { mode = run.Mode, seconds = b.Seconds, cores = (b.NodeCpuSeconds + b.SandboxCpuSeconds - a.NodeCpuSeconds - a.SandboxCpuSeconds) / dt });
                }
            }
        }

        return Spec(values, Line("cores", "cores busy (node process + sandboxes)"));
    }

    private static JsonObject NodeMemoryOverTime(IEnumerable<LevelRun> runs)
    {
        var values = runs.SelectMany(r => r.Samples.Select(s => (object)new { mode = r.Mode, seconds = s.Seconds, mib = s.NodePssMiB + s.SandboxPssMiB })).ToList();
        return Spec(values, Line("mib", "MiB (node process + sandboxes PSS)"));
    }

    private static JsonObject DensityCurve(EvaluationResults results)
    {
        var values = results.Runs.Select(r => (object)new
        {
            mode = r.Mode,
            level = r.Level,
            functions = r.Functions,
            slowdown = double.IsFinite(r.Verdict.P99Slowdown) ? Math.Min(r.Verdict.P99Slowdown, 1000) : 1000,
            met = r.Verdict.Met ? "met" : "missed",
        }).ToList();
        var spec = new
        {
            layer = new object[]
            {
                new
                {
                    mark = new { type = "line", point = true },
                    encoding = new
                    {
                        x = new { field = "level", type = "quantitative", title = "load level (rate scale of the base trace)", scale = new { type = "log", @base = 2 } },
                        y = new { field = "slowdown", type = "quantitative", scale = new { type = "log" }, title = "p99 slowdown (log)" },
                        color = new { field = "mode", type = "nominal" },
                        shape = new { field = "met", type = "nominal" },
                        tooltip = new object[] { new { field = "mode" }, new { field = "level" }, new { field = "functions" }, new { field = "slowdown", format = ".2f" }, new { field = "met" } },
                    },
                },
                new
                {
                    mark = new { type = "rule", strokeDash = new[] { 4, 4 } },
                    encoding = new { y = new { datum = results.Slo.Factor } },
                },
            },
        };
        return Spec(values, spec);
    }

    private static object Line(string field, string title) => new
    {
        mark = "line",
        encoding = new
        {
            x = new { field = "seconds", type = "quantitative", title = "seconds into the replay" },
            y = new { field, type = "quantitative", title },
            color = new { field = "mode", type = "nominal" },
        },
    };

    private static JsonObject Spec(IReadOnlyList<object> values, object body)
    {
        var spec = JsonSerializer.SerializeToNode(body)!.AsObject();
        spec.Insert(0, "$schema", Schema);
        spec.Insert(1, "width", 640);
        spec.Insert(2, "height", 300);
        var data = JsonSerializer.SerializeToNode(values)!;
        spec.Insert(3, "data", new JsonObject { ["values"] = data });
        return spec;
    }
}
