// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.CommandLine;
using System.Globalization;
using Nexus.Bench.WriteBack;

namespace Nexus.Cli.Commands;

/// <summary>
/// `nexus bench spool`: write-back acknowledgement latency, per-file spool against the journal; `nexus bench crash`:
/// SIGKILL crash trials of write-back and the embedded store (and its hidden worker, `nexus bench crash-worker`).
/// </summary>
public static class BenchWriteBackCommands
{
    public static void AddTo(Command bench)
    {
        bench.Subcommands.Add(CreateSpool());
        bench.Subcommands.Add(CreateCrash());
        bench.Subcommands.Add(CreateCrashWorker());
    }

    private static Command CreateCrash()
    {
        var trials = new Option<int>("--trials") { Description = "crash trials to run", DefaultValueFactory = _ => 100 };
        var seed = new Option<int>("--seed") { Description = "seed of the kill points and the writes", DefaultValueFactory = _ => 1 };
        var delay = new Option<int>("--max-kill-delay-ms") { Description = "the kill comes uniformly within this long after the writers started", DefaultValueFactory = _ => 300 };
        var parallel = new Option<int>("--parallel") { Description = "independent sequences of trials run side by side", DefaultValueFactory = _ => 1 };
        var directory = new Option<DirectoryInfo?>("--dir") { Description = "where the trials' store and spool live (default: a new folder under the node home, removed afterwards)" };
        var crash = new Command("crash", "Kill the node's storage side (embedded store + write-back) with SIGKILL at random points while it writes, restart it, and check every acknowledged write landed, the last writer winning")
        {
            trials, seed, delay, parallel, directory,
        };
        crash.SetAction(async (parse, cancellationToken) =>
        {
            if (parse.GetValue(trials) < 1 || parse.GetValue(delay) < 0 || parse.GetValue(parallel) is < 1 or > 16)
            {
                Console.Error.WriteLine("error: --trials must be at least 1, --max-kill-delay-ms at least 0, --parallel from 1 to 16");
                return 2;
            }

            var given = parse.GetValue(directory)?.FullName;
            var folder = given ?? Path.Combine(CommonOptions.Load(parse).Home, "crash-trials-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(folder);
            try
            {
                var options = new CrashTrialOptions { Trials = parse.GetValue(trials), Seed = parse.GetValue(seed), MaxKillDelayMs = parse.GetValue(delay), Parallel = parse.GetValue(parallel), WorkerCommand = SelfCommand("bench", "crash-worker") };
                var report = await CrashTrials.RunAsync(options, folder, line => Console.Error.WriteLine("bench: " + line), cancellationToken);
                var kills = report.KillDelaysMs.Order().ToArray();
                Console.WriteLine($"{"trials",7}  {"sandbox kills",13}  {"kill point ms (min/p50/max)",27}  {"acknowledged",12}  {"write-back",10}  {"store",6}  {"in flight",9}  {"aborted",7}  {"keys",6}  {"lost",4}");
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{report.Trials,7}  {report.SandboxKills,13}  {$"{kills[0]}/{kills[kills.Length / 2]}/{kills[^1]}",27}  {report.Acknowledged,12}  {report.AcknowledgedWriteBack,10}  {report.AcknowledgedStore,6}  {report.InFlightAtKill,9}  {report.Aborted,7}  {report.KeysChecked,6}  {report.Lost,4}"));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{report.Elapsed.TotalSeconds:0.0} s, {report.Elapsed.TotalMilliseconds * Math.Min(parse.GetValue(parallel), report.Trials) / report.Trials:0} ms per trial and sequence"));
                foreach (var violation in report.Violations)
                {
                    Console.WriteLine("violation: " + violation);
                }

                return report.Lost == 0 && report.Violations.Count == 0 ? 0 : 1;
            }
            finally
            {
                if (given is null)
                {
                    Directory.Delete(folder, recursive: true);
                }
            }
        });
        return crash;
    }

    private static Command CreateCrashWorker()
    {
        var directory = new Option<DirectoryInfo>("--dir") { Required = true };
        var trial = new Option<int>("--trial") { Required = true };
        var seed = new Option<int>("--seed") { Required = true };
        var killSandbox = new Option<bool>("--kill-sandbox");
        var verifyOnly = new Option<bool>("--verify-only");
        var worker = new Command("crash-worker", "One crash trial's storage side (started by `nexus bench crash`)") { directory, trial, seed, killSandbox, verifyOnly };
        worker.Hidden = true;
        worker.SetAction((parse, cancellationToken) => CrashWorker.RunAsync(
            new CrashWorkerOptions
            {
                Directory = parse.GetValue(directory)!.FullName,
                Trial = parse.GetValue(trial),
                Seed = parse.GetValue(seed),
                KillSandbox = parse.GetValue(killSandbox),
                VerifyOnly = parse.GetValue(verifyOnly),
            },
            Console.Out,
            cancellationToken));
        return worker;
    }

    /// <summary>This program's command line (the apphost, or dotnet and nexus.dll) with <paramref name="args"/>.</summary>
    private static List<string> SelfCommand(params string[] args)
    {
        var process = Environment.ProcessPath ?? throw new InvalidOperationException("the path of this program is unknown");
        return Path.GetFileNameWithoutExtension(process) == "dotnet"
            ? [process, typeof(BenchWriteBackCommands).Assembly.Location, .. args]
            : [process, .. args];
    }

    private static Command CreateSpool()
    {
        var writers = new Option<string>("--writers") { Description = "comma-separated counts of concurrent writers", DefaultValueFactory = _ => "1,8" };
        var puts = new Option<int>("--puts") { Description = "measured puts per case", DefaultValueFactory = _ => 4000 };
        var bytes = new Option<int>("--bytes") { Description = "body bytes per put", DefaultValueFactory = _ => 1024 };
        var directory = new Option<DirectoryInfo?>("--dir") { Description = "where to make the spools (default: the node home, where the real spool lives)" };
        var callers = new Option<SpoolCallers>("--callers") { Description = "async callers on the thread pool as the node's (pool, the default), or writers each on a thread of its own (threads)", DefaultValueFactory = _ => SpoolCallers.Pool };
        var spool = new Command("spool", "Write-back acknowledgement latency (p50/p99) under concurrent writers: per-file spool against the journal, on real files with real fsyncs")
        {
            writers, puts, bytes, directory, callers,
        };
        spool.SetAction(async (parse, cancellationToken) =>
        {
            var counts = parse.GetValue(writers)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(w => int.TryParse(w, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is > 0 and <= 256 ? n : -1).ToList();
            if (counts.Count == 0 || counts.Contains(-1) || parse.GetValue(puts) < 10 || parse.GetValue(bytes) < 0)
            {
                Console.Error.WriteLine("error: --writers takes counts from 1 to 256, --puts at least 10, --bytes at least 0");
                return 2;
            }

            var folder = parse.GetValue(directory)?.FullName ?? CommonOptions.Load(parse).Home;
            Directory.CreateDirectory(folder);
            var options = new SpoolBenchOptions { Directory = folder, Writers = counts, Puts = parse.GetValue(puts), BodyBytes = parse.GetValue(bytes), Callers = parse.GetValue(callers) };
            var results = await SpoolLatencyBenchmark.RunAsync(options, line => Console.Error.WriteLine("bench: " + line), cancellationToken);
            Console.WriteLine($"callers: {options.Callers.ToString().ToLowerInvariant()}; pool delay: the wait of a trivial thread-pool work item queued every 1 ms meanwhile");
            Console.WriteLine($"{"writers",7}  {"spool",-8}  {"p50 ms",8}  {"p99 ms",8}  {"mean ms",8}  {"puts/s",8}  {"syncs/put",9}  {"pool delay p50/p99 ms",21}  {"p50 journal/per-file",20}");
            foreach (var result in results)
            {
                var perFile = results.First(r => r.Writers == result.Writers && r.Spool == "per-file");
                var ratio = result.Spool == "journal" ? (result.LatencyMs.P50 / perFile.LatencyMs.P50).ToString("0.00", CultureInfo.InvariantCulture) : "";
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{result.Writers,7}  {result.Spool,-8}  {result.LatencyMs.P50,8:0.000}  {result.LatencyMs.P99,8:0.000}  {result.LatencyMs.Mean,8:0.000}  {result.PutsPerSecond,8:0}  {result.SyncsPerPut,9:0.00}  {$"{result.PoolDelayMs.P50:0.000} / {result.PoolDelayMs.P99:0.000}",21}  {ratio,20}"));
            }

            return 0;
        });
        return spool;
    }
}
