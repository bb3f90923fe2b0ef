// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Bench.Replay;

namespace Nexus.Bench.Density;

/// <summary>A workload's unloaded latency (sequential invocations on an otherwise idle node), ms.</summary>
public sealed record UnloadedLatency(string Workload, double WarmP50Ms, double ColdP50Ms);

/// <summary>Whether a replay met the SLO, and by how much.</summary>
public sealed record SloVerdict(bool Met, double P99Slowdown, int Invocations, int Violations, int Failures);

/// <summary>
/// The SLO (docs/evaluation.md): each invocation's slowdown is its latency over its reference, the function's
/// unloaded p50 (warm for warm calls, cold for cold starts) plus a small absolute slack; a failed or timed-out call
/// has infinite slowdown. A load meets the SLO when the p99 slowdown is at most <see cref="Factor"/>. Calls planned in
/// the first <see cref="WarmupMs"/> of the replay are a warm-up, as in InVitro, and only count if they failed: every
/// function's first call is a cold start and a compressed trace starts them all at once, a pile-up that no load level
/// (however low) avoids and that a node running the trace for real sees only when it starts.
/// </summary>
public sealed record Slo(double Factor = 2.0, double SlackMs = 10, double WarmupMs = 0)
{
    public double Slowdown(InvocationRecord record, UnloadedLatency reference)
    {
        if (!record.Success)
        {
            return double.PositiveInfinity;
        }

        var basis = (record.Cold ? reference.ColdP50Ms : reference.WarmP50Ms) + (SlackMs / Factor);
        return record.LatencyMs / basis;
    }

    /// <summary>The verdict on <paramref name="records"/>; <paramref name="workloadOf"/> gives each record's function's reference.</summary>
    public SloVerdict Evaluate(IReadOnlyList<InvocationRecord> records, Func<int, UnloadedLatency> workloadOf)
    {
        records = [.. records.Where(r => r.PlannedMs >= WarmupMs || !r.Success)];
        if (records.Count == 0)
        {
            return new SloVerdict(false, double.NaN, 0, 0, 0);
        }

        var slowdowns = records.Select(r => Slowdown(r, workloadOf(r.Function))).Order().ToArray();
        var p99 = Percentiles.Rank(slowdowns, 0.99);
        return new SloVerdict(p99 <= Factor, p99, records.Count, slowdowns.Count(s => s > Factor), records.Count(r => !r.Success));
    }
}
