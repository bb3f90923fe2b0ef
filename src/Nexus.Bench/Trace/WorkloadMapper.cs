// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Bench.Trace;

/// <summary>A workload a trace function can stand for: its unloaded warm p50 duration and memory.</summary>
public sealed record WorkloadProfile(string Name, double P50DurationMs, double P50MemoryMb);

/// <summary>A trace function's proxy and how far it is (log-space Euclidean distance).</summary>
public sealed record WorkloadMapping(string HashFunction, string Workload, double Distance);

/// <summary>
/// Maps each trace function to the workload nearest in (log p50 duration, log p50 memory), as InVitro's mapper
/// does; unlike it there is no synthetic fallback, every function gets a real workload (the distance is kept).
/// </summary>
public static class WorkloadMapper
{
    public static IReadOnlyList<WorkloadMapping> Map(TraceData trace, IReadOnlyList<WorkloadProfile> workloads)
    {
        if (workloads.Count == 0)
        {
            throw new ArgumentException("no workloads to map the trace's functions to", nameof(workloads));
        }

        return [.. trace.Functions.Select(f =>
        {
            var best = workloads
                .Select(w => (w.Name, Distance: Distance(f.Duration.P50, f.Memory.P50, w)))
                .MinBy(c => c.Distance);
            return new WorkloadMapping(f.HashFunction, best.Name, best.Distance);
        })];
    }

    public static double Distance(double durationMs, double memoryMb, WorkloadProfile workload)
    {
        var dd = Math.Log(Math.Max(durationMs, 0.001)) - Math.Log(Math.Max(workload.P50DurationMs, 0.001));
        var dm = Math.Log(Math.Max(memoryMb, 0.001)) - Math.Log(Math.Max(workload.P50MemoryMb, 0.001));
        return Math.Sqrt((dd * dd) + (dm * dm));
    }
}
