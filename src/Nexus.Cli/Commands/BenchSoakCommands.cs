// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.CommandLine;
using System.Globalization;
using Nexus.Bench.Density;
using Nexus.Bench.Soak;
using Nexus.Node;

namespace Nexus.Cli.Commands;

/// <summary>`nexus bench soak`: a node held at its density limit for minutes, every invocation accounted for, its host resources watched for leaks.</summary>
public static class BenchSoakCommands
{
    public static void AddTo(Command bench) => bench.Subcommands.Add(Create());

    private static Command Create()
    {
        var minutes = new Option<double>("--minutes") { Description = "how long the load runs", DefaultValueFactory = _ => 10 };
        var instances = new Option<int?>("--instances") { Description = "busy instances (one function and one closed-loop client each); default: the peak instances at the density `--density-results` found, else 12" };
        var densityResults = new Option<FileInfo?>("--density-results") { Description = "results JSON of `nexus bench density`: soak at the peak instances of its highest density" };
        var examples = new Option<DirectoryInfo?>("--examples") { Description = "the examples folder (default: ./examples)" };
        var workload = new Option<string>("--workload") { Description = "the example every soak function runs", DefaultValueFactory = _ => "hello-s3" };
        var redeployEvery = new Option<int>("--redeploy-every") { Description = "each client redeploys its function after this many calls (instances and templates churn)", DefaultValueFactory = _ => 20 };
        var sampleSeconds = new Option<double>("--sample-seconds") { Description = "seconds between samples", DefaultValueFactory = _ => 10 };
        var sandbox = new BenchSandboxOptions("every soak function");
        var soak = new Command("soak", "Hold a private node at its density limit for --minutes with every invocation accounted for; sample its fds, memfds, cgroups, netns, veths, firewall rules, spool files, threads and PSS, its child processes, and its microVMs' VMMs, cgroups, run folders, ready snapshots, drives and host TAPs, and judge each series flat or leaking")
        {
            minutes, instances, densityResults, examples, workload, redeployEvery, sampleSeconds,
        };
        sandbox.AddTo(soak);
        soak.SetAction(async (parse, cancellationToken) =>
        {
            if (!sandbox.TryGetGuestKernel(parse, out var linuxKernel))
            {
                return 2;
            }

            var folder = Path.Combine(parse.GetValue(examples)?.FullName ?? Path.GetFullPath("examples"), parse.GetValue(workload)!);
            if (!File.Exists(Path.Combine(folder, "function.yaml")) || !File.Exists(Path.Combine(folder, "event.json")))
            {
                Console.Error.WriteLine($"error: --workload: {folder} has no function.yaml and event.json");
                return 2;
            }

            if (!(parse.GetValue(minutes) > 0) || !(parse.GetValue(sampleSeconds) > 0) || parse.GetValue(redeployEvery) < 1 || parse.GetValue(instances) is < 1)
            {
                Console.Error.WriteLine("error: --minutes and --sample-seconds must be positive, --redeploy-every and --instances at least 1");
                return 2;
            }

            int count;
            try
            {
                count = parse.GetValue(instances) ?? (parse.GetValue(densityResults) is { } file ? PeakAtDensity(file.FullName) : 12);
            }
            catch (Exception e) when (e is IOException or InvalidDataException)
            {
                Console.Error.WriteLine($"error: --density-results: {e.Message}");
                return 2;
            }

            var home = Directory.CreateTempSubdirectory("nexus-soak-").FullName;
            try
            {
                var options = new SoakOptions
                {
                    WorkloadFolder = folder,
                    SeedScript = Path.Combine(Path.GetDirectoryName(folder)!, "seed_inputs.py"),
                    Node = BenchSandboxOptions.Apply(NodeOptions.Load(o => o with { Home = home, MaxInstancesPerNode = Math.Max(o.MaxInstancesPerNode, count * 2) }), linuxKernel),
                    Duration = TimeSpan.FromMinutes(parse.GetValue(minutes)),
                    Instances = count,
                    RedeployEvery = parse.GetValue(redeployEvery),
                    SampleInterval = TimeSpan.FromSeconds(parse.GetValue(sampleSeconds)),
                };
                Console.WriteLine(SoakBenchmark.Header);
                var result = await SoakBenchmark.RunAsync(options, Console.Out, cancellationToken);
                Print(result);
                return result.Accounted && !result.Leaking ? 0 : 1;
            }
            finally
            {
                Directory.Delete(home, recursive: true);
            }
        });
        return soak;
    }

    /// <summary>The peak instances at the highest density any mode reached.</summary>
    private static int PeakAtDensity(string path)
    {
        var results = EvaluationResults.FromJson(path);
        var best = results.Density.Where(d => d.BestLevel > 0).MaxBy(d => d.PeakInstances)
            ?? throw new InvalidDataException($"{path}: no mode met the SLO at any level, so there is no density limit to soak at");
        return best.PeakInstances;
    }

    private static void Print(SoakResult result)
    {
        var c = CultureInfo.InvariantCulture;
        Console.WriteLine();
        Console.WriteLine("before and after (every function removed, released):");
        Console.WriteLine(SoakBenchmark.Header);
        Console.WriteLine(SoakBenchmark.Row(result.Before));
        Console.WriteLine(SoakBenchmark.Row(result.After));
        Console.WriteLine();
        Console.WriteLine(string.Create(c, $"invocations: issued {result.Issued} = completed {result.Completed} + failed {result.Failed}: {(result.Accounted ? "accounted" : "NOT ACCOUNTED")}; {result.Redeploys} redeploys over {result.Instances} functions"));
        Console.WriteLine("outcomes: " + string.Join(", ", result.Outcomes.OrderByDescending(o => o.Value).Select(o => $"{o.Key} {o.Value}")));
        Console.WriteLine("descriptors held after release and not before: " + (result.DescriptorsGained.Any() ? string.Join(", ", result.DescriptorsGained.Select(k => $"{k.Kind} +{k.More}")) : "none"));
        Console.WriteLine();
        Console.WriteLine($"{"series",-12} {"before",8} {"first",8} {"last",8} {"after",8} {"slope/min",10} {"2nd-half growth",15} {"tolerance",9}  verdict");
        foreach (var v in result.Verdicts)
        {
            Console.WriteLine(string.Create(c, $"{v.Series,-12} {v.Before,8:0.#} {v.First,8:0.#} {v.Last,8:0.#} {v.After,8:0.#} {v.SlopePerMinute,10:0.00} {v.SecondHalfGrowth,15:0.0} {v.Tolerance,9:0.#}  {(v.Leaking ? "LEAKING: " : "")}{v.Why}"));
        }
    }
}
