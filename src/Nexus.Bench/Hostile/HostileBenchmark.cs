// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using System.Globalization;
using System.Text;
using Nexus.Node;

namespace Nexus.Bench.Hostile;

/// <summary>What <c>nexus bench hostile</c> runs.</summary>
public sealed record HostileBenchOptions
{
    /// <summary>Node options (a private home: the benchmark starts its own node).</summary>
    public required NodeOptions Node { get; init; }

    /// <summary>Script that seeds the examples' inputs (the victim reads one).</summary>
    public required string SeedScript { get; init; }

    /// <summary>Victim invocations per block (alone, then with one attack).</summary>
    public int Invocations { get; init; } = 200;

    /// <summary>Rounds per attack: a block alone, then a block with the attack, this many times in a row.</summary>
    public int Rounds { get; init; } = 1;

    public IReadOnlyList<HostileTenant> Attacks { get; init; } = HostileTenants.All;

    /// <summary>
    /// True: the victim and every tenant run in microVMs (<c>sandbox: microvm</c>; the node's options name the guest
    /// kernel); false: in containers.
    /// </summary>
    public bool Microvm { get; init; }
}

/// <summary>
/// The victim's latency alone and with one hostile tenant attacking over all rounds (<see cref="RoundSummary"/>), what
/// the attack's invocations ended in, and the node CPU its invocations were charged on the invoke path and waited for
/// (docs/node.md#cpu) during the attack, and the node process's whole CPU time (node, backend, store: the benchmark runs
/// them in-process) during the blocks alone and with the attack, summed over the rounds.
/// </summary>
public sealed record HostileResult(
    string Attack,
    RoundSummary Rounds,
    int VictimErrors,
    IReadOnlyDictionary<string, int> AttackOutcomes,
    TimeSpan InvokePathCpu,
    TimeSpan BudgetWait,
    TimeSpan NodeCpuAlone,
    TimeSpan NodeCpuWith)
{
    public double P99Ratio => Rounds.PooledRatio;
}

/// <summary>
/// A victim function's p99 alone and with each hostile tenant (<see cref="HostileTenants"/>) attacking on the same node:
/// per attack and round, a block of the victim alone, then the attack started and invoked again and again (each attack
/// invocation ends contained: killed, timed out, refused) while the same number of victim invocations run back to
/// back, then the attack stopped. Alone and with alternate, round after round, so that drift in the machine's load
/// falls on both. Latency is wall time at the node's in-process invoke entry, as in `bench compare`.
/// </summary>
public static class HostileBenchmark
{
    /// <summary>Issue 13's goal: the victim's p99 with a hostile tenant at most this many times its p99 alone.</summary>
    public const double Goal = 1.5;

    public static async Task<IReadOnlyList<HostileResult>> RunAsync(HostileBenchOptions options, TextWriter log, CancellationToken cancellationToken)
    {
        await using var node = await NexusNode.StartAsync(options.Node, progress: new Progress<string>(line => log.WriteLine("  " + line)), cancellationToken: cancellationToken);
        log.WriteLine($"node up: api {node.ApiAddress}, store {node.StoreAddress}");
        await InputSeeder.SeedAsync(options.SeedScript, node, cancellationToken);
        foreach (var tenant in options.Attacks.Prepend(HostileTenants.Victim))
        {
            using var package = (options.Microvm ? tenant.InMicrovm() : tenant).Package();
            await node.DeployAsync(package, cancellationToken);
        }

        var victim = Function(node, HostileTenants.Victim.Name);
        await VictimSampleAsync(node, victim, 20, cancellationToken);

        // One attack invocation of each tenant first, to its end: it makes what the tenant's later cold starts reuse (a
        // container's template, a microVM's ready snapshot: seconds in a Linux guest), so that the blocks with the attack
        // measure the attack, not its first start.
        foreach (var tenant in options.Attacks)
        {
            var first = await node.InvokeAsync(Function(node, tenant.Name), Encoding.UTF8.GetBytes(tenant.Event), Guid.NewGuid().ToString(), cancellationToken);
            log.WriteLine($"{tenant.Name}: first invocation ({(first.ColdStart ? "cold" : "warm")}) ended {first.Result.ErrorType ?? first.Outcome} after {first.Duration.TotalSeconds:0.00} s");
        }

        var results = new List<HostileResult>();
        foreach (var tenant in options.Attacks)
        {
            var rounds = new List<HostileRound>();
            var outcomes = new Dictionary<string, int>(StringComparer.Ordinal);
            var (errors, cpuAlone, cpuWith) = (0, TimeSpan.Zero, TimeSpan.Zero);
            var (pathBefore, waitBefore) = node.InvokePathTotals(tenant.Name);
            for (var round = 1; round <= options.Rounds; round++)
            {
                var alone = await VictimSampleAsync(node, victim, options.Invocations, cancellationToken);
                using var stop = new CancellationTokenSource();
                var attack = AttackLoopAsync(node, Function(node, tenant.Name), tenant, stop.Token);

                // The first attack invocation starts an instance (its template too); the block begins once it runs.
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
                var with = await VictimSampleAsync(node, victim, options.Invocations, cancellationToken);
                await stop.CancelAsync();
                foreach (var (ended, count) in await attack)
                {
                    outcomes[ended] = outcomes.GetValueOrDefault(ended) + count;
                }

                var sample = new HostileRound(alone.Ms, with.Ms);
                rounds.Add(sample);
                (errors, cpuAlone, cpuWith) = (errors + alone.Errors + with.Errors, cpuAlone + alone.NodeCpu, cpuWith + with.NodeCpu);
                if (options.Rounds > 1)
                {
                    log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{tenant.Name} round {round}/{options.Rounds}: victim p99 {Percentiles.Of(alone.Ms).P99:0.00} ms alone, {Percentiles.Of(with.Ms).P99:0.00} ms with the attack ({sample.P99Ratio:0.00}x)"));
                }
            }

            var (pathAfter, waitAfter) = node.InvokePathTotals(tenant.Name);
            var result = new HostileResult(tenant.Name, RoundSummary.Of(rounds), errors, outcomes, pathAfter - pathBefore, waitAfter - waitBefore, cpuAlone, cpuWith);
            results.Add(result);
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{tenant.Name}: victim p99 {result.Rounds.Alone.P99:0.00} ms alone, {result.Rounds.With.P99:0.00} ms with the attack ({result.P99Ratio:0.00}x); attack invocations: {Outcomes(outcomes)}"));
        }

        return results;
    }

    public static string Format(IReadOnlyList<HostileResult> results)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{"attack",-18} {"alone p50",10} {"alone p99",10} {"with p50",9} {"with p99",9} {"p99 ratio",10} {"95% interval",13} {"goal",6} {"rounds",7} {"round ratio med (min-max)",26} {"up/down",8} {"sign p",7} {"victim errors",14} {"node cpu ms alone/with",23} {"attack path ms",15} {"budget wait s",14}  attack invocations ended");
        foreach (var r in results)
        {
            var s = r.Rounds;
            text.AppendLine(CultureInfo.InvariantCulture, $"{r.Attack,-18} {s.Alone.P50,10:0.00} {s.Alone.P99,10:0.00} {s.With.P50,9:0.00} {s.With.P99,9:0.00} {r.P99Ratio,9:0.00}x {$"{s.RatioLow:0.00}-{s.RatioHigh:0.00}",13} {Verdict(s),6} {s.Rounds,7} {$"{s.RatioMedian:0.00}x ({s.RatioMin:0.00}-{s.RatioMax:0.00})",26} {$"{s.RoundsAbove}/{s.RoundsBelow}",8} {s.SignTestP,7:0.000} {r.VictimErrors,14} {$"{r.NodeCpuAlone.TotalMilliseconds:0}/{r.NodeCpuWith.TotalMilliseconds:0}",23} {r.InvokePathCpu.TotalMilliseconds,15:0.0} {r.BudgetWait.TotalSeconds,14:0.00}  {Outcomes(r.AttackOutcomes)}");
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"latency in ms at the node's invoke entry, pooled over the rounds; p99 ratio: pooled p99 with the attack / pooled p99 alone");
        text.AppendLine(CultureInfo.InvariantCulture, $"95% interval: of the pooled ratio, bootstrap over whole rounds ({RoundSummary.Resamples} resamples); goal (p99 with <= {Goal:0.0}x alone): met if the interval is at or below it, missed if above, open if it straddles it");
        text.AppendLine("round ratio: each round's p99 with / p99 alone; up/down: rounds whose p99 with the attack was above / below that round's p99 alone; sign p: two-sided sign test on them (small: the attack moves the tail beyond the rounds' noise)");
        text.AppendLine("node cpu ms: the node process's CPU time during the victim's blocks alone and with the attack, summed over the rounds (node, backend and store run in it)");
        text.AppendLine("attack path ms: node CPU the attack's warm invocations were charged on the invoke path; budget wait s: time they waited for their invoke budget");
        return text.ToString();
    }

    /// <summary>The goal judged on the pooled ratio's interval: "met", "missed", or "open" where the rounds cannot tell.</summary>
    public static string Verdict(RoundSummary rounds) =>
        rounds.RatioHigh <= Goal ? "met" : rounds.RatioLow > Goal ? "missed" : "open";

    private static string Outcomes(IReadOnlyDictionary<string, int> outcomes) =>
        string.Join(", ", outcomes.OrderByDescending(o => o.Value).Select(o => $"{o.Value} {o.Key}"));

    private static DeployedFunction Function(NexusNode node, string name) =>
        node.TryGetFunction(name, out var function) ? function : throw new InvalidOperationException($"function '{name}' vanished during the benchmark");

    private static async Task<(List<double> Ms, int Errors, TimeSpan NodeCpu)> VictimSampleAsync(NexusNode node, DeployedFunction victim, int count, CancellationToken cancellationToken)
    {
        using var self = Process.GetCurrentProcess();
        var cpuBefore = self.TotalProcessorTime;
        var payload = Encoding.UTF8.GetBytes(HostileTenants.Victim.Event);
        var sample = new List<double>(count);
        var errors = 0;
        for (var i = 0; i < count; i++)
        {
            var started = Stopwatch.GetTimestamp();
            var outcome = await node.InvokeAsync(victim, payload, Guid.NewGuid().ToString(), cancellationToken);
            sample.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            if (outcome.Outcome != "success")
            {
                errors++;
            }
        }

        self.Refresh();
        return (sample, errors, self.TotalProcessorTime - cpuBefore);
    }

    // Invokes the attack back to back until stopped (the invocation running then is let finish); counts how each ended:
    // its Lambda errorType, "ok", or the exception the node threw.
    private static async Task<IReadOnlyDictionary<string, int>> AttackLoopAsync(NexusNode node, DeployedFunction function, HostileTenant tenant, CancellationToken stop)
    {
        var payload = Encoding.UTF8.GetBytes(tenant.Event);
        var outcomes = new Dictionary<string, int>(StringComparer.Ordinal);
        while (!stop.IsCancellationRequested)
        {
            string ended;
            try
            {
                var outcome = await node.InvokeAsync(function, payload, Guid.NewGuid().ToString(), CancellationToken.None);
                ended = outcome.Result.IsError ? outcome.Result.ErrorType ?? outcome.Outcome : "ok";
            }
            catch (Exception e) when (e is Node.Pool.ThrottledException or Node.Pool.SandboxStartException)
            {
                ended = e.GetType().Name;
            }

            outcomes[ended] = outcomes.GetValueOrDefault(ended) + 1;
        }

        return outcomes;
    }
}
