// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using Nexus.Bench.Remote;
using Nexus.Bench.Replay;
using Nexus.Bench.Trace;
using Nexus.Functions;
using Nexus.Node;

namespace Nexus.Bench.Density;

/// <summary>What <see cref="DensityBenchmark"/> runs.</summary>
public sealed record DensityOptions
{
    /// <summary>Example folders the trace's functions map onto (function.yaml, handler, event.json).</summary>
    public required IReadOnlyList<string> WorkloadFolders { get; init; }

    /// <summary>Scripts that seed the workloads' inputs (Debian python3 with boto3).</summary>
    public required IReadOnlyList<string> SeedScripts { get; init; }

    public required NodeOptions Node { get; init; }

    /// <summary>
    /// The base trace. Load level s (a rate scale, continuous) replays ceil(s) copies of it, each copy deployed as its
    /// own F functions, every arrival kept with probability s / ceil(s): s times the base rate, in ceil(s)·F functions.
    /// </summary>
    public GeneratorOptions Trace { get; init; } = new() { Functions = 8, Minutes = 3 };

    /// <summary>Load a trace from this folder instead of generating one.</summary>
    public string? TraceFolder { get; init; }

    public ScheduleOptions Schedule { get; init; } = new() { SecondsPerMinute = 10 };

    public Slo Slo { get; init; } = new();

    public double MinLevel { get; init; } = 0.125;

    public double MaxLevel { get; init; } = 16;

    /// <summary>The search stops when the highest pass and the lowest failure are within this ratio.</summary>
    public double Resolution { get; init; } = 1.2;

    public int MaxProbes { get; init; } = 5;

    /// <summary>Sequential warm invocations per workload and mode for the unloaded reference.</summary>
    public int UnloadedWarm { get; init; } = 20;

    public int UnloadedCold { get; init; } = 3;

    public IReadOnlyList<IoMode> Modes { get; init; } = [IoMode.Baseline, IoMode.Nexus];

    public string Command { get; init; } = "";

    /// <summary>A remote store the node uses (already in <see cref="Node"/>); its process is sampled apart. Null: embedded.</summary>
    public RemoteStore? RemoteStore { get; init; }
}

/// <summary>
/// Density per mode on one in-process node: unloaded latencies of every workload, then a bounded search for the
/// largest number of copies of the trace the node replays within the SLO, the modes taking turns at each step.
/// </summary>
public static class DensityBenchmark
{
    public static async Task<EvaluationResults> RunAsync(DensityOptions options, TextWriter log, CancellationToken cancellationToken)
    {
        var started = DateTimeOffset.UtcNow;
        var trace = LoadTrace(options);
        if (trace.Functions.Count == 0)
        {
            throw new InvalidOperationException("the trace has no function present in all three files");
        }

        log.WriteLine(Plan(trace, options));
        var workloads = options.WorkloadFolders.ToDictionary(f => Path.GetFileName(Path.TrimEndingDirectorySeparator(f)), f => f);
        await using var node = await NexusNode.StartAsync(options.Node, progress: new Progress<string>(line => log.WriteLine("  " + line)), cancellationToken: cancellationToken);
        log.WriteLine($"node up: api {node.ApiAddress}, store {node.StoreAddress}");
        foreach (var script in options.SeedScripts)
        {
            await InputSeeder.SeedAsync(script, node, cancellationToken);
        }

        var unloaded = new Dictionary<string, IReadOnlyList<UnloadedLatency>>();
        foreach (var mode in options.Modes)
        {
            var list = new List<UnloadedLatency>();
            foreach (var (name, path) in workloads)
            {
                list.Add(await MeasureUnloadedAsync(node, name, path, mode, options, cancellationToken));
                log.WriteLine($"unloaded {name} ({Mode(mode)}): warm p50 {list[^1].WarmP50Ms:0.0} ms, cold p50 {list[^1].ColdP50Ms:0.0} ms");
            }

            unloaded[Mode(mode)] = list;
        }

        // Trace functions map onto workloads by the baseline's unloaded warm p50 (the reference) and their declared memory.
        var baseline = unloaded[Mode(options.Modes[0])];
        var profiles = baseline.Select(u => new WorkloadProfile(u.Workload, u.WarmP50Ms, ManifestParser.LoadFolder(workloads[u.Workload]).MemoryMb)).ToList();
        var mapping = WorkloadMapper.Map(trace, profiles);
        var reference = baseline.ToDictionary(u => u.Workload);

        var runs = new List<LevelRun>();
        var densities = new List<ModeDensity>();
        foreach (var mode in options.Modes)
        {
            var (best, probes) = await DensitySearch.FindAsync(
                async level =>
                {
                    var run = await RunLevelAsync(node, trace, mapping, workloads, reference, mode, level, options, log, cancellationToken);
                    runs.Add(run);
                    return run.Verdict.Met;
                },
                options.MinLevel,
                options.MaxLevel,
                options.MaxProbes,
                options.Resolution);
            var atBest = runs.FirstOrDefault(r => r.Mode == Mode(mode) && r.Level == best);
            densities.Add(new ModeDensity(Mode(mode), best, atBest?.Functions ?? 0, atBest?.PeakInstances ?? 0, probes));
            log.WriteLine($"{Mode(mode)}: density {best:0.###}x the base trace's rate ({atBest?.Functions ?? 0} functions, peak {atBest?.PeakInstances ?? 0} instances)");
        }

        // Memory and CPU compared at the same work: the largest load every mode met. At the base load a mode that fails
        // invocations (baseline's cold starts past the init timeout) holds fewer instances and looks lighter than it is.
        if (EqualLoadLevel(densities) is { } equal)
        {
            foreach (var mode in options.Modes.Where(m => !runs.Any(r => r.Mode == Mode(m) && r.Level == equal)))
            {
                log.WriteLine($"{Mode(mode)}: the equal-load run, at {equal:0.###}x");
                runs.Add(await RunLevelAsync(node, trace, mapping, workloads, reference, mode, equal, options, log, cancellationToken));
            }
        }

        return new EvaluationResults(
            Environment.MachineName, Environment.ProcessorCount, started, options.Command,
            options.Trace, options.Schedule, options.Slo, options.MaxLevel, options.MaxProbes,
            mapping, unloaded, runs, densities);
    }

    /// <summary>
    /// Failed invocations by reason, most frequent first, each with its first record's full outcome. The reason is the
    /// outcome up to its message: "init_error Sandbox.Timedout" (a node outcome and its Lambda error type), or "error:
    /// ThrottledException" (an exception the replay caught).
    /// </summary>
    public static IEnumerable<(string Why, int Count)> FailureReasons(IEnumerable<InvocationRecord> records) =>
        records.Where(r => !r.Success)
            .GroupBy(r => string.Join(": ", r.Outcome.Split(": ").Take(r.Outcome.StartsWith("error: ", StringComparison.Ordinal) ? 2 : 1)), StringComparer.Ordinal)
            .Select(g => (Why: g.First().Outcome, Count: g.Count()))
            .OrderByDescending(g => g.Count)
            .ThenBy(g => g.Why, StringComparer.Ordinal);

    /// <summary>The largest load every mode met the SLO at (the lowest of their densities); null when one met none.</summary>
    public static double? EqualLoadLevel(IReadOnlyList<ModeDensity> densities) =>
        densities.Count > 0 && densities.All(d => d.BestLevel > 0) ? densities.Min(d => d.BestLevel) : null;

    /// <summary>The trace replayed: the given folder's first <c>Trace.Minutes</c> minutes, or a generated one of that length.</summary>
    public static TraceData LoadTrace(DensityOptions options) =>
        options.TraceFolder is { } folder ? TraceReader.Load(folder, options.Trace.Minutes) : TraceGenerator.Generate(options.Trace);

    /// <summary>The planned wall time, said before the node starts: a long trace replayed uncompressed runs for hours.</summary>
    public static string Plan(TraceData trace, DensityOptions options)
    {
        var perLevel = TimeSpan.FromSeconds(trace.Minutes * options.Schedule.SecondsPerMinute);
        var levels = options.MaxProbes * options.Modes.Count;
        var total = perLevel * levels;
        return $"plan: {trace.Functions.Count} trace functions × {trace.Minutes} minute(s) at {options.Schedule.SecondsPerMinute:0.##} s per minute = {Duration(perLevel)} "
            + $"per load level; at most {options.MaxProbes} levels × {options.Modes.Count} modes = up to {Duration(total)} of replay "
            + "(plus node start, deploys and the unloaded runs); --minutes and --seconds-per-minute shorten it";
    }

    private static string Duration(TimeSpan span) =>
        span.TotalHours >= 1 ? $"{span.TotalHours:0.#} h" : span.TotalMinutes >= 1 ? $"{span.TotalMinutes:0.#} min" : $"{span.TotalSeconds:0} s";

    private static string Mode(IoMode mode) => mode.ToString().ToLowerInvariant();

    private static async Task<LevelRun> RunLevelAsync(
        NexusNode node, TraceData trace, IReadOnlyList<WorkloadMapping> mapping, Dictionary<string, string> workloads,
        Dictionary<string, UnloadedLatency> reference, IoMode mode, double level, DensityOptions options, TextWriter log, CancellationToken cancellationToken)
    {
        await WaitTemplatesStoppedAsync(node, cancellationToken);

        // Copy c of trace function f is deployed as its own function; arrivals of copy c come from schedule seed + c,
        // thinned by a seeded coin so that the rate is exactly scaled in expectation and the same level replays the same.
        var count = trace.Functions.Count;
        var copies = (int)Math.Ceiling(level);
        var keep = level / copies;
        var names = new string[copies * count];
        var payloads = new byte[copies * count][];
        var workloadOf = new string[copies * count];
        var arrivals = new List<Arrival>();
        for (var c = 0; c < copies; c++)
        {
            for (var f = 0; f < count; f++)
            {
                var i = (c * count) + f;
                workloadOf[i] = mapping[f].Workload;
                names[i] = $"t{c}-{f}-{Mode(mode)}";
                using (var package = FunctionVariant.Package(workloads[workloadOf[i]], names[i], mode))
                {
                    await node.DeployAsync(package, cancellationToken);
                }

                payloads[i] = await File.ReadAllBytesAsync(Path.Combine(workloads[workloadOf[i]], "event.json"), cancellationToken);
            }

            var coin = new Random(options.Schedule.Seed + c + 7919);
            arrivals.AddRange(ArrivalSchedule.Build(trace, options.Schedule with { Seed = options.Schedule.Seed + c })
                .Where(_ => coin.NextDouble() < keep)
                .Select(a => a with { Function = (c * count) + a.Function }));
        }

        var schedule = arrivals.OrderBy(a => a.At).ToList();
        log.WriteLine($"{Mode(mode)} level {level:0.###}x: {names.Length} functions, {schedule.Count} invocations over {options.Schedule.SecondsPerMinute * trace.Minutes:0} s");
        ReplayResult result;
        IReadOnlyList<ResourceSample> samples;
        IReadOnlyList<InstanceSample> instances;
        var target = new NodeTarget(node, names, payloads);
        var sampler = new ResourceSampler(node, options.RemoteStore);
        target.Sampler = sampler;
        var split = CpuSplit.TryStart(Path.Combine(Path.GetTempPath(), $"nexus-cpu-split-{Environment.ProcessId}.data"), out var noSplit);
        if (noSplit is not null && level == 1)
        {
            log.WriteLine($"  node process CPU is not split by component: {noSplit}");
        }

        try
        {
            var progress = new Progress<(int Issued, int Done, int Planned)>(p => log.Write($"\r  issued {p.Issued}/{p.Planned}, done {p.Done}   "));
            var drain = TimeSpan.FromSeconds(options.Node.InitTimeoutSeconds + 60);
            result = await Replayer.RunAsync(schedule, target, drain, progress, cancellationToken);
            log.WriteLine();
        }
        catch
        {
            // perf samples the whole machine: it must not outlive a replay that was cancelled or failed.
            split?.Abandon();
            throw;
        }
        finally
        {
            await sampler.DisposeAsync();
        }

        samples = [.. sampler.Samples];
        instances = [.. sampler.Instances];
        var last = samples.Count > 0 ? samples[^1] : new ResourceSample(0, 0, 0, 0, 0, 0, 0);
        var cpuSplit = split is null ? null : await split.StopAsync(last.NodeCpuSeconds, cancellationToken);

        var verdict = options.Slo.Evaluate(result.Records, f => reference[workloadOf[f]]);
        foreach (var name in names)
        {
            await node.RemoveAsync(name, cancellationToken);
        }

        await WaitDrainedAsync(node, names.ToHashSet(), cancellationToken);
        var run = new LevelRun(
            Mode(mode), level, names.Length, verdict, result.Planned, result.Issued, result.Completed, result.Failed, result.WallSeconds,
            samples.Count > 0 ? samples.Max(s => s.Instances) : 0, last.NodeCpuSeconds, last.SandboxCpuSeconds,
            samples.Count > 0 ? samples.Average(s => s.NodePssMiB) : 0, samples.Count > 0 ? samples.Average(s => s.SandboxPssMiB) : 0,
            result.Records, samples, instances, cpuSplit, sampler.MemoryByMapping,
            last.StoreCpuSeconds, samples.Count > 0 ? samples.Average(s => s.StorePssMiB) : 0, samples.Count > 0 ? samples.Average(s => s.TemplatePssMiB) : 0);
        log.WriteLine($"  {(verdict.Met ? "met" : "MISSED")}: p99 slowdown {verdict.P99Slowdown:0.00}, {result.Completed}/{result.Issued} ok, {result.Failed} failed, peak {run.PeakInstances} instances");
        foreach (var (why, failed) in FailureReasons(result.Records).Take(3))
        {
            log.WriteLine($"    {failed} failed: {why}");
        }

        return run;
    }

    private static async Task<UnloadedLatency> MeasureUnloadedAsync(NexusNode node, string workload, string folder, IoMode mode, DensityOptions options, CancellationToken cancellationToken)
    {
        var name = $"ref-{workload}-{Mode(mode)}";
        var payload = await File.ReadAllBytesAsync(Path.Combine(folder, "event.json"), cancellationToken);
        var cold = new List<double>();
        for (var i = 0; i < options.UnloadedCold; i++)
        {
            // A fresh deployment retires the warm instances: the next call is a cold start.
            using (var package = FunctionVariant.Package(folder, name, mode))
            {
                await node.DeployAsync(package, cancellationToken);
            }

            await WaitDrainedAsync(node, [name], cancellationToken);
            var (ms, outcome) = await InvokeTimedAsync(node, name, payload, cancellationToken);
            Require(outcome, name);
            if (outcome.ColdStart)
            {
                cold.Add(ms);
            }
        }

        var warm = new List<double>();
        for (var i = 0; i < options.UnloadedWarm; i++)
        {
            var (ms, outcome) = await InvokeTimedAsync(node, name, payload, cancellationToken);
            Require(outcome, name);
            if (!outcome.ColdStart)
            {
                warm.Add(ms);
            }
        }

        await node.RemoveAsync(name, cancellationToken);
        await WaitDrainedAsync(node, [name], cancellationToken);
        return new UnloadedLatency(workload, Percentiles.Of(warm).P50, Percentiles.Of(cold).P50);
    }

    private static void Require(Nexus.Node.Pool.InvocationOutcome outcome, string name)
    {
        if (outcome.Outcome != "success")
        {
            throw new InvalidOperationException($"{name}: unloaded invocation failed ({outcome.Outcome}): {System.Text.Encoding.UTF8.GetString(outcome.Result.Payload.Span)}");
        }
    }

    private static async Task<(double Ms, Nexus.Node.Pool.InvocationOutcome Outcome)> InvokeTimedAsync(NexusNode node, string name, byte[] payload, CancellationToken cancellationToken)
    {
        if (!node.TryGetFunction(name, out var function))
        {
            throw new InvalidOperationException($"function '{name}' is not deployed");
        }

        var started = Stopwatch.GetTimestamp();
        var outcome = await node.InvokeAsync(function, payload, Guid.NewGuid().ToString(), cancellationToken);
        return (Stopwatch.GetElapsedTime(started).TotalMilliseconds, outcome);
    }

    /// <summary>Waits until no instance of <paramref name="names"/> is starting, idle or busy (60 s at most).</summary>
    internal static async Task WaitDrainedAsync(NexusNode node, HashSet<string> names, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (node.Status().Instances.Any(s => names.Contains(s.Function) && s.Starting + s.Idle + s.Busy > 0))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"instances of {string.Join(", ", names.Take(3))}… did not stop within 60 s");
            }

            await Task.Delay(50, cancellationToken);
        }
    }

    /// <summary>
    /// Waits until no fork template runs (60 s at most). Between levels no function is deployed, but the removed ones'
    /// instances are still being stopped after <see cref="WaitDrainedAsync"/> (which sees them leave the pool at once),
    /// and their templates stop only after the last of them: under load that took ~20 s, and the previous level's
    /// templates (30-80 MiB) were counted in the next level's memory, the equal-load level's included.
    /// </summary>
    internal static async Task WaitTemplatesStoppedAsync(NexusNode node, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (node.ReadTemplateUsage().Count > 0)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{node.ReadTemplateUsage().Count} fork templates still ran 60 s after their functions were removed");
            }

            await Task.Delay(50, cancellationToken);
        }
    }

    /// <summary>Invokes the deployed copies in-process, as the invoke API would.</summary>
    private sealed class NodeTarget(NexusNode node, string[] names, byte[][] payloads) : IReplayTarget
    {
        private const int MessageChars = 160;

        public ResourceSampler? Sampler { get; set; }

        public async Task<ReplayOutcome> InvokeAsync(int function, CancellationToken cancellationToken)
        {
            if (!node.TryGetFunction(names[function], out var deployed))
            {
                return new ReplayOutcome(false, false, "not deployed", null);
            }

            var outcome = await node.InvokeAsync(deployed, payloads[function], Guid.NewGuid().ToString(), cancellationToken);
            Sampler?.Saw(outcome.InstanceId, function);
            return new ReplayOutcome(outcome.Outcome == "success", outcome.ColdStart, Describe(outcome), outcome.InstanceId);
        }

        /// <summary>The outcome, and for a failure its Lambda error type and the start of its message: why the load failed it.</summary>
        private static string Describe(Nexus.Node.Pool.InvocationOutcome outcome)
        {
            if (outcome.Outcome == "success" || outcome.Result.ErrorType is not { } type)
            {
                return outcome.Outcome;
            }

            var message = "";
            try
            {
                using var json = System.Text.Json.JsonDocument.Parse(outcome.Result.Payload);
                if (json.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object && json.RootElement.TryGetProperty("errorMessage", out var text))
                {
                    message = text.ToString();
                }
            }
            catch (System.Text.Json.JsonException)
            {
                // The error type alone says enough.
            }

            return $"{outcome.Outcome} {type}{(message.Length == 0 ? "" : ": " + message[..Math.Min(message.Length, MessageChars)])}";
        }
    }
}
