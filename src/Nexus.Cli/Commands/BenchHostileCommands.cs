// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.CommandLine;
using Nexus.Bench.Hostile;
using Nexus.Node;

namespace Nexus.Cli.Commands;

/// <summary>`nexus bench hostile`: a victim's p99 alone and with each hostile tenant attacking on the same node.</summary>
public static class BenchHostileCommands
{
    public static void AddTo(Command bench) => bench.Subcommands.Add(CreateHostile());

    private static Command CreateHostile()
    {
        var invocations = new Option<int>("--invocations") { Description = "victim invocations per block (alone, and with each attack)", DefaultValueFactory = _ => 200 };
        var rounds = new Option<int>("--rounds") { Description = "rounds per attack: a block alone, then a block with the attack, alternated this many times (pooled p99s, the spread of the rounds' ratios, a sign test)", DefaultValueFactory = _ => 1 };
        var attacks = new Option<string>("--attacks") { Description = "comma-separated hostile tenants (default: all)", DefaultValueFactory = _ => string.Join(",", HostileTenants.All.Select(t => t.Name)) };
        var examples = new Option<DirectoryInfo?>("--examples") { Description = "examples folder (its seed_inputs.py seeds the victim's input; default: found from here)" };
        var sandbox = new BenchSandboxOptions("the victim and every tenant");
        var hostile = new Command("hostile", "Measure a victim function's p99 alone and with each hostile tenant (ring flood, slot hoarding, ignored completions, fork bomb, full /tmp, memory hog, doorbell storm) attacking on a private node")
        {
            invocations, rounds, attacks, examples,
        };
        sandbox.AddTo(hostile);
        hostile.SetAction(async (parse, cancellationToken) =>
        {
            var folder = parse.GetValue(examples)?.FullName ?? BenchCommands.FindExamples();
            if (folder is null || !File.Exists(Path.Combine(folder, "seed_inputs.py")))
            {
                Console.Error.WriteLine("error: no examples folder with seed_inputs.py found; pass --examples DIR");
                return 2;
            }

            if (parse.GetValue(invocations) < 1 || parse.GetValue(rounds) < 1)
            {
                Console.Error.WriteLine("error: --invocations and --rounds must be at least 1");
                return 2;
            }

            if (!sandbox.TryGetGuestKernel(parse, out var linuxKernel))
            {
                return 2;
            }

            List<HostileTenant> chosen;
            try
            {
                chosen = [.. parse.GetValue(attacks)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(HostileTenants.Get)];
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine("error: --attacks: " + e.Message);
                return 2;
            }

            if (await BenchCommands.NodeAnswersAsync(NodeOptions.Load().ApiUrl, cancellationToken))
            {
                Console.Error.WriteLine("error: a node is running; the benchmark starts its own node on the same host network, so stop it first (nexus down)");
                return 2;
            }

            var home = Directory.CreateTempSubdirectory("nexus-bench-").FullName;
            try
            {
                var options = new HostileBenchOptions
                {
                    Node = BenchSandboxOptions.Apply(NodeOptions.Load(o => o with { Home = home }), linuxKernel),
                    Microvm = linuxKernel is not null,
                    SeedScript = Path.Combine(folder, "seed_inputs.py"),
                    Invocations = parse.GetValue(invocations),
                    Rounds = parse.GetValue(rounds),
                    Attacks = chosen,
                };
                var results = await HostileBenchmark.RunAsync(options, Console.Out, cancellationToken);
                Console.WriteLine();
                Console.WriteLine($"victim p99 alone and with each hostile tenant on {Environment.MachineName}, {Environment.ProcessorCount} cores, {(linuxKernel is null ? "oci driver (runc)" : $"microvm driver (Linux guests of {Path.GetFileName(linuxKernel)}) on {Nexus.Bench.Microvm.MicrovmColdStarts.KvmKind}")}, {options.Rounds} round(s) per attack of {options.Invocations} victim invocations alone then {options.Invocations} with the attack, one after another");
                Console.WriteLine($"load average at the end: {File.ReadAllText("/proc/loadavg").Trim()}");
                Console.Write(HostileBenchmark.Format(results));
                return results.Any(r => r.VictimErrors > 0) ? 1 : 0;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                Console.Error.WriteLine($"nexus: bench hostile interrupted: its node and every sandbox it started are stopped, its node home {home} is removed; no results were printed");
                throw;
            }
            finally
            {
                Directory.Delete(home, recursive: true);
            }
        });
        return hostile;
    }
}
