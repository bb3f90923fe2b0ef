// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.CommandLine;
using Nexus.Bench.Density;
using Nexus.Bench.Remote;
using Nexus.Bench.Replay;
using Nexus.Bench.Report;
using Nexus.Bench.Trace;
using Nexus.Node;

namespace Nexus.Cli.Commands;

/// <summary>`nexus bench trace generate`, `nexus bench density`, `nexus bench report`.</summary>
public static class BenchTraceCommands
{
    private static readonly string[] s_workloads = ["hello-s3", "image-rotate", "thumbnail", "json-serdes", "compression", "aes", "numpy-lr"];

    public static void AddTo(Command bench)
    {
        var trace = new Command("trace", "Azure Functions 2019-shaped traces (InVitro's invocations.csv, durations.csv, memory.csv)");
        trace.Subcommands.Add(CreateGenerate());
        bench.Subcommands.Add(trace);
        bench.Subcommands.Add(CreateDensity());
        bench.Subcommands.Add(CreateReport());
    }

    private static Command CreateGenerate()
    {
        var output = new Option<DirectoryInfo>("--out") { Description = "folder to write the three CSV files into", Required = true };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 2019 };
        var functions = new Option<int>("--functions") { DefaultValueFactory = _ => 24 };
        var minutes = new Option<int>("--minutes") { DefaultValueFactory = _ => 10 };
        var maxRate = new Option<double>("--max-rate") { Description = "invocations per minute of the most popular function", DefaultValueFactory = _ => 30 };
        var generate = new Command("generate", "Write a seeded trace: heavy-tailed rates, Poisson, periodic and bursty functions") { output, seed, functions, minutes, maxRate };
        generate.SetAction(parse =>
        {
            var options = new GeneratorOptions { Seed = parse.GetValue(seed), Functions = parse.GetValue(functions), Minutes = parse.GetValue(minutes), MaxRatePerMinute = parse.GetValue(maxRate) };
            try
            {
                var data = TraceGenerator.Generate(options);
                TraceWriter.Write(data, parse.GetValue(output)!.FullName);
                Console.WriteLine($"wrote {data.Functions.Count} functions × {data.Minutes} minutes ({data.Functions.Sum(f => f.Invocations)} invocations) to {parse.GetValue(output)!.FullName}");
                return 0;
            }
            catch (ArgumentOutOfRangeException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
        });
        return generate;
    }

    private static Command CreateDensity()
    {
        var output = new Option<FileInfo>("--out") { Description = "results JSON", DefaultValueFactory = _ => new FileInfo("density-results.json") };
        var traceFolder = new Option<DirectoryInfo?>("--trace") { Description = "replay this trace folder instead of a generated one" };
        var examples = new Option<DirectoryInfo?>("--examples") { Description = "the examples folder (default: ./examples)" };
        var workloads = new Option<string>("--workloads") { DefaultValueFactory = _ => string.Join(',', s_workloads) };
        var functions = new Option<int>("--functions") { Description = "functions in the generated base trace", DefaultValueFactory = _ => 8 };
        var minutes = new Option<int>("--minutes") { Description = "trace minutes replayed per load level (of a --trace: its first N minutes)", DefaultValueFactory = _ => 3 };
        var secondsPerMinute = new Option<double>("--seconds-per-minute") { Description = "wall seconds per trace minute (time compression)", DefaultValueFactory = _ => 10 };
        var minLevel = new Option<double>("--min-level") { Description = "lowest rate scale of the base trace tried", DefaultValueFactory = _ => 0.125 };
        var maxLevel = new Option<double>("--max-level") { Description = "highest rate scale of the base trace tried", DefaultValueFactory = _ => 16 };
        var maxProbes = new Option<int>("--max-probes") { Description = "load levels tried per mode", DefaultValueFactory = _ => 5 };
        var resolution = new Option<double>("--resolution") { Description = "the search stops when the highest pass and lowest miss are within this ratio", DefaultValueFactory = _ => 1.2 };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 2019 };
        var storage = new BenchStorageOptions();
        var sandbox = new BenchSandboxOptions("every function, both modes");
        var density = new Command("density", "Replay a trace at growing load on a private node, per mode, and find the largest load within the SLO")
        {
            output, traceFolder, examples, workloads, functions, minutes, secondsPerMinute, minLevel, maxLevel, maxProbes, resolution, seed,
        };
        storage.AddTo(density);
        sandbox.AddTo(density);
        density.SetAction(async (parse, cancellationToken) =>
        {
            if (!sandbox.TryGetGuestKernel(parse, out var linuxKernel))
            {
                return 2;
            }

            var folder = parse.GetValue(examples)?.FullName ?? Path.GetFullPath("examples");
            var names = parse.GetValue(workloads)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var missing = names.Where(n => !File.Exists(Path.Combine(folder, n, "function.yaml"))).ToList();
            if (missing.Count > 0)
            {
                Console.Error.WriteLine($"error: --workloads: no example folder with a function.yaml for {string.Join(", ", missing)} in {folder}");
                return 2;
            }

            if (!(parse.GetValue(minLevel) > 0) || parse.GetValue(maxLevel) < parse.GetValue(minLevel))
            {
                Console.Error.WriteLine($"error: --min-level must be above 0 and at most --max-level (got {parse.GetValue(minLevel)} and {parse.GetValue(maxLevel)})");
                return 2;
            }

            if (parse.GetValue(minutes) is < 1 or > TraceReader.MaxMinutes)
            {
                Console.Error.WriteLine($"error: --minutes must be 1..{TraceReader.MaxMinutes}, got {parse.GetValue(minutes)}");
                return 2;
            }

            if (!(parse.GetValue(resolution) > 1))
            {
                Console.Error.WriteLine($"error: --resolution must be above 1 (a ratio between levels), got {parse.GetValue(resolution)}");
                return 2;
            }

            var home = Directory.CreateTempSubdirectory("nexus-density-").FullName;
            RemoteStore? remote = null;
            try
            {
                remote = await storage.StartAsync(parse, Console.Out, cancellationToken);
                var node = BenchSandboxOptions.Apply(NodeOptions.Load(o => o with { Home = home, MaxInstancesPerNode = 512, MaxInstancesPerFunction = 8 }), linuxKernel);
                var options = new DensityOptions
                {
                    WorkloadFolders = [.. names.Select(n => Path.Combine(folder, n))],
                    SeedScripts = [Path.Combine(folder, "seed_inputs.py")],
                    Node = remote?.Apply(node) ?? node,
                    RemoteStore = remote,
                    TraceFolder = parse.GetValue(traceFolder)?.FullName,
                    Trace = new GeneratorOptions { Seed = parse.GetValue(seed), Functions = parse.GetValue(functions), Minutes = parse.GetValue(minutes) },
                    Schedule = new ScheduleOptions { Seed = parse.GetValue(seed), SecondsPerMinute = parse.GetValue(secondsPerMinute) },
                    // The first trace minute is InVitro's warm-up: its cold-start pile-up is not judged (Slo.WarmupMs).
                    Slo = new Slo(WarmupMs: parse.GetValue(secondsPerMinute) * 1000),
                    MinLevel = parse.GetValue(minLevel),
                    MaxLevel = parse.GetValue(maxLevel),
                    MaxProbes = parse.GetValue(maxProbes),
                    Resolution = parse.GetValue(resolution),
                    Command = "nexus " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1)),
                };
                var results = await DensityBenchmark.RunAsync(options, Console.Out, cancellationToken);
                var path = parse.GetValue(output)!.FullName;
                await File.WriteAllTextAsync(path, results.ToJson(), cancellationToken);
                Console.WriteLine($"results written to {path}; `nexus bench report --results {path}` makes the report");
                Console.Write(ReportWriter.RatioTable(results));
                return 0;
            }
            catch (Exception e) when (e is TraceFormatException or FileNotFoundException or DirectoryNotFoundException or ArgumentException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                Console.Error.WriteLine($"nexus: bench density interrupted: its node and every sandbox it started are stopped, its node home {home} is removed; no results were written");
                throw;
            }
            finally
            {
                if (remote is not null)
                {
                    await remote.DisposeAsync();
                }

                Directory.Delete(home, recursive: true);

                // The runtime's perf map (DOTNET_PerfMapEnabled) served the CPU split; it is megabytes per run.
                File.Delete(Path.Combine(Path.GetTempPath(), $"perf-{Environment.ProcessId}.map"));
            }
        });
        return density;
    }

    private static Command CreateReport()
    {
        var results = new Option<FileInfo>("--results") { Description = "results JSON of `nexus bench density`", DefaultValueFactory = _ => new FileInfo("density-results.json") };
        var output = new Option<DirectoryInfo>("--out") { DefaultValueFactory = _ => new DirectoryInfo("nexus-report") };
        var cache = new Option<string>("--npm-cache") { Description = "where vega, vega-lite, vega-embed and vega-cli are installed from npm when absent", DefaultValueFactory = _ => VegaAssets.DefaultCache };
        var report = new Command("report", "Write report.html (self-contained, interactive), SVG/PNG plots, ratios.md and results.json") { results, output, cache };
        report.SetAction(async (parse, cancellationToken) =>
        {
            EvaluationResults data;
            try
            {
                data = EvaluationResults.FromJson(parse.GetValue(results)!.FullName);
            }
            catch (Exception e) when (e is IOException or InvalidDataException)
            {
                Console.Error.WriteLine($"error: --results: {e.Message}");
                return 2;
            }

            var files = await ReportWriter.WriteAsync(data, parse.GetValue(output)!.FullName, parse.GetValue(cache)!, Console.Out, cancellationToken);
            foreach (var file in files)
            {
                Console.WriteLine(file);
            }

            return 0;
        });
        return report;
    }
}
