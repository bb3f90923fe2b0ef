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

    /// <summary>Victim invocations per sample (alone, then with one attack).</summary>
    public int Invocations { get; init; } = 200;

    public IReadOnlyList<HostileTenant> Attacks { get; init; } = HostileTenants.All;
}

/// <summary>
/// The victim's latency alone and with one hostile tenant attacking, what the attack's invocations ended in, and the
/// node CPU its invocations were charged on the invoke path and waited for (docs/node.md#cpu) during the attack, and the
/// node process's whole CPU time (node, backend, store: the benchmark runs them in-process) during each sample.
/// </summary>
public sealed record HostileResult(
    string Attack,
    Percentiles AloneMs,
    Percentiles WithMs,
    int VictimErrors,
    IReadOnlyDictionary<string, int> AttackOutcomes,
    TimeSpan InvokePathCpu,
    TimeSpan BudgetWait,
    TimeSpan NodeCpuAlone,
    TimeSpan NodeCpuWith)
{
    public double P99Ratio => WithMs.P99 / AloneMs.P99;
}

/// <summary>
/// A victim function's p99 alone and with each hostile tenant (<see cref="HostileTenants"/>) attacking on the same node:
/// per attack, a sample of the victim alone, then the attack started and invoked again and again (each attack
/// invocation ends contained: killed, timed out, refused) while the same number of victim invocations run back to
/// back. Alone and with alternate per attack, so that drift in the machine's load falls on both. Latency is wall time
/// at the node's in-process invoke entry, as in `bench compare`.
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
            using var package = tenant.Package();
            await node.DeployAsync(package, cancellationToken);
        }

        var victim = Function(node, HostileTenants.Victim.Name);
        await VictimSampleAsync(node, victim, 20, cancellationToken);
        var results = new List<HostileResult>();
        foreach (var tenant in options.Attacks)
        {
            var (alone, aloneErrors, aloneCpu) = await VictimSampleAsync(node, victim, options.Invocations, cancellationToken);
            using var stop = new CancellationTokenSource();
            var (cpuBefore, waitBefore) = node.InvokePathTotals(tenant.Name);
            var attack = AttackLoopAsync(node, Function(node, tenant.Name), tenant, stop.Token);

            // The first attack invocation starts an instance (its template too); the sample begins once it runs.
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            var (with, withErrors, withCpu) = await VictimSampleAsync(node, victim, options.Invocations, cancellationToken);
            await stop.CancelAsync();
            var outcomes = await attack;
            var (cpuAfter, waitAfter) = node.InvokePathTotals(tenant.Name);
            var result = new HostileResult(tenant.Name, alone, with, aloneErrors + withErrors, outcomes, cpuAfter - cpuBefore, waitAfter - waitBefore, aloneCpu, withCpu);
            results.Add(result);
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{tenant.Name}: victim p99 {alone.P99:0.00} ms alone, {with.P99:0.00} ms with the attack ({result.P99Ratio:0.00}x); attack invocations: {Outcomes(outcomes)}"));
        }

        return results;
    }

    public static string Format(IReadOnlyList<HostileResult> results)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{"attack",-18} {"alone p50",10} {"alone p99",10} {"with p50",9} {"with p99",9} {"p99 ratio",10} {"goal",6} {"victim errors",14} {"node cpu ms alone/with",23} {"attack path ms",15} {"budget wait s",14}  attack invocations ended");
        foreach (var r in results)
        {
            var goal = r.P99Ratio <= Goal ? "met" : "missed";
            text.AppendLine(CultureInfo.InvariantCulture, $"{r.Attack,-18} {r.AloneMs.P50,10:0.00} {r.AloneMs.P99,10:0.00} {r.WithMs.P50,9:0.00} {r.WithMs.P99,9:0.00} {r.P99Ratio,9:0.00}x {goal,6} {r.VictimErrors,14} {$"{r.NodeCpuAlone.TotalMilliseconds:0}/{r.NodeCpuWith.TotalMilliseconds:0}",23} {r.InvokePathCpu.TotalMilliseconds,15:0.0} {r.BudgetWait.TotalSeconds,14:0.00}  {Outcomes(r.AttackOutcomes)}");
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"latency in ms at the node's invoke entry; goal: p99 with the attack <= {Goal:0.0}x p99 alone");
        text.AppendLine("node cpu ms: the node process's CPU time during the victim's sample alone and with the attack (node, backend and store run in it)");
        text.AppendLine("attack path ms: node CPU the attack's warm invocations were charged on the invoke path; budget wait s: time they waited for their invoke budget");
        return text.ToString();
    }

    private static string Outcomes(IReadOnlyDictionary<string, int> outcomes) =>
        string.Join(", ", outcomes.OrderByDescending(o => o.Value).Select(o => $"{o.Value} {o.Key}"));

    private static DeployedFunction Function(NexusNode node, string name) =>
        node.TryGetFunction(name, out var function) ? function : throw new InvalidOperationException($"function '{name}' vanished during the benchmark");

    private static async Task<(Percentiles Ms, int Errors, TimeSpan NodeCpu)> VictimSampleAsync(NexusNode node, DeployedFunction victim, int count, CancellationToken cancellationToken)
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
        return (Percentiles.Of(sample), errors, self.TotalProcessorTime - cpuBefore);
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
