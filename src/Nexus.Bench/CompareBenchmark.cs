// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime;
using System.Text;
using System.Text.Json.Nodes;
using Nexus.Bench.Remote;
using Nexus.Functions;
using Nexus.Node;
using Nexus.Node.Pool;
using Nexus.Sandbox;

namespace Nexus.Bench;

/// <summary>One way of running a function in the comparison.</summary>
public sealed record BenchConfiguration(string Name, IoMode Io, WriteBackMode? WriteBack, bool? Prefetch)
{
    /// <summary>Real boto3 and the Runtime API in the sandbox, as production does today.</summary>
    public static BenchConfiguration Baseline { get; } = new("baseline", IoMode.Baseline, null, null);

    /// <summary>Nexus mode with every write acknowledged by storage and no prefetch.</summary>
    public static BenchConfiguration NexusSync { get; } = new("nexus-sync", IoMode.Nexus, WriteBackMode.Sync, false);

    /// <summary>Nexus mode with input prefetch and write-back (the defaults of a nexus-mode function).</summary>
    public static BenchConfiguration NexusAsync { get; } = new("nexus-async", IoMode.Nexus, WriteBackMode.Async, true);

    public static IReadOnlyList<BenchConfiguration> All { get; } = [Baseline, NexusSync, NexusAsync];

    public static BenchConfiguration Parse(string name) =>
        All.FirstOrDefault(c => c.Name == name) ?? throw new ArgumentException($"unknown configuration '{name}' (known: {string.Join(", ", All.Select(c => c.Name))})");
}

/// <summary>One workload of the comparison: a function folder and the input object its S3 event names.</summary>
public sealed record BenchCase(string Folder, string Size, string Key)
{
    public string Function => Path.GetFileName(Path.TrimEndingDirectorySeparator(Folder));

    public string Label => $"{Function} {Size}";

    /// <summary>The input sizes the benchmark knows and each workload's object of that size (seeded by seed_inputs.py).</summary>
    public static BenchCase For(string folder, string size)
    {
        var function = Path.GetFileName(Path.TrimEndingDirectorySeparator(folder));
        var key = (function, size) switch
        {
            ("hello-s3", "1kib") => "hello-s3/input/hello.txt",
            ("hello-s3", "1mib") => "hello-s3/input/blob-1mib.bin",
            ("hello-s3", "10mib") => "hello-s3/input/blob-10mib.bin",
            ("image-rotate", "1mib") => "image-rotate/input/photo-1mib.jpg",
            ("image-rotate", "10mib") => "image-rotate/input/photo-10mib.jpg",

            // The generic-path workload: the key names the order the item is kept under (no S3 object is read).
            ("ddb-orders", "1kib") => "ddb-orders/order-1",

            // The functions-invoking-functions workload: the key is only passed on to the callee.
            ("lambda-invoke", "1kib") => "lambda-invoke/request-1",
            _ => throw new ArgumentException($"no {size} input for {function} (sizes: hello-s3 1kib, 1mib, 10mib; image-rotate 1mib, 10mib; ddb-orders 1kib; lambda-invoke 1kib)"),
        };
        return new BenchCase(folder, size, key);
    }
}

/// <summary>What <see cref="CompareBenchmark"/> runs.</summary>
public sealed record CompareOptions
{
    public required IReadOnlyList<BenchCase> Cases { get; init; }

    public IReadOnlyList<BenchConfiguration> Configurations { get; init; } = BenchConfiguration.All;

    /// <summary>Warm invocations per case and configuration (latency sample).</summary>
    public int Warm { get; init; } = 100;

    /// <summary>Cold invocations per case and configuration.</summary>
    public int Cold { get; init; } = 10;

    /// <summary>Warm invocations per case and configuration whose CPU is measured (back to back).</summary>
    public int CpuInvocations { get; init; } = 50;

    /// <summary>Script that seeds the examples' inputs (run with Debian's python3 and boto3).</summary>
    public required string SeedScript { get; init; }

    /// <summary>Node options (a private home: the benchmark starts its own node).</summary>
    public required NodeOptions Node { get; init; }

    /// <summary>Whole repetitions of every case (each its own deploys); the report gives medians and their spread.</summary>
    public int Runs { get; init; } = 1;

    /// <summary>Function folders deployed once as they are (their own name and mode) before the cases: functions the cases' functions invoke.</summary>
    public IReadOnlyList<string> Companions { get; init; } = [];

    /// <summary>A remote store the node uses (already in <see cref="Node"/>); null: the embedded store.</summary>
    public RemoteStore? RemoteStore { get; init; }

    /// <summary>The sandbox the cases' functions run in (their manifests' <c>sandbox</c>); null: the node's default.</summary>
    public string? Sandbox { get; init; }
}

/// <summary>Figures of one case in one configuration.</summary>
public sealed record ModeResult(
    string Function,
    string Size,
    BenchConfiguration Configuration,
    Percentiles WarmMs,
    Percentiles ColdMs,
    Percentiles WarmNodeOverheadUs,
    IReadOnlyList<(string Name, Percentiles Us)> WarmStagesUs,
    double FirstStartMs,
    double SandboxCpuMsPerInvocation,
    double NodeCpuMsPerInvocation,
    double StoreCpuMsPerInvocation,
    double LinkCpuMsPerInvocation,
    SandboxMemory Memory,
    int Errors,
    int Run)
{
    public IoMode Mode => Configuration.Io;

    /// <summary>
    /// <see cref="WarmNodeOverheadUs"/> with the doorbell write after the hand-over counted as the node's (the boundary
    /// before the event counted as handed at its post), so that figures from either side of that change compare.
    /// </summary>
    public Percentiles WarmNodeOverheadWithDoorbellUs { get; init; } = Percentiles.Of([]);

    /// <summary>The same warm invocations through the Invoke API, split by <see cref="ApiStages"/> (empty when not run).</summary>
    public IReadOnlyList<(string Name, Percentiles Us)> WarmApiStagesUs { get; init; } = [];

    /// <summary>Of <see cref="NodeCpuMsPerInvocation"/>, the time this process spent compiling code during the sample.</summary>
    public double NodeJitMsPerInvocation { get; init; } = double.NaN;

    /// <summary>
    /// The fork template the measured instance came from (its share of the pages both hold, left out of
    /// <see cref="Memory"/>); null when the instance was not forked.
    /// </summary>
    public SandboxMemory? TemplateMemory { get; init; }
}

/// <summary>
/// Baseline and nexus side by side in one run, on one node started for the purpose: the same function folder is
/// deployed once per configuration (only io, writeback and prefetch differ), inputs seeded once, and the configurations
/// are invoked alternately so that machine noise falls on all alike. Every event is an S3 event record naming the
/// input, as a real trigger sends it. A cold start is an invocation that finds no warm instance: the function's idle
/// instances are stopped before each (in nexus mode its template stays, as it would in production).
/// </summary>
public static class CompareBenchmark
{
    private const int JitRound = 10;
    private const int JitSettleLimit = 1000;
    private static readonly TimeSpan s_jitSettleTime = TimeSpan.FromSeconds(60);

    public static async Task<IReadOnlyList<ModeResult>> RunAsync(CompareOptions options, TextWriter log, CancellationToken cancellationToken)
    {
        await using var node = await NexusNode.StartAsync(options.Node, progress: new Progress<string>(line => log.WriteLine("  " + line)), cancellationToken: cancellationToken);
        log.WriteLine($"node up: api {node.ApiAddress}, store {node.StoreAddress}");
        await InputSeeder.SeedAsync(options.SeedScript, node, cancellationToken, benchInputs: true);
        foreach (var folder in options.Companions)
        {
            var manifest = ManifestParser.LoadFolder(folder);
            using var package = FunctionVariant.Package(folder, manifest.Name, manifest.Io);
            await node.DeployAsync(package, cancellationToken);
            log.WriteLine($"deployed {manifest.Name} (invoked by the cases)");
        }

        var results = new List<ModeResult>();
        for (var run = 1; run <= options.Runs; run++)
        {
            if (options.RemoteStore is { } remote)
            {
                var connects = await remote.MeasureConnectTimesAsync(20, cancellationToken);
                log.WriteLine($"run {run}/{options.Runs}: TCP connect to the remote store ({remote.Profile.Name}): median {Percentiles.Of([.. connects.Select(c => c.TotalMilliseconds)]).P50:0.000} ms over {connects.Count}");
            }
            else
            {
                log.WriteLine($"run {run}/{options.Runs}");
            }

            foreach (var benchCase in options.Cases)
            {
                results.AddRange(await RunCaseAsync(node, options, benchCase, run, log, cancellationToken));
            }
        }

        return results;
    }

    private static async Task<IReadOnlyList<ModeResult>> RunCaseAsync(NexusNode node, CompareOptions options, BenchCase benchCase, int run, TextWriter log, CancellationToken cancellationToken)
    {
        var configurations = options.Configurations;
        var results = new List<ModeResult>();
        var payload = S3Event("nexus-examples", benchCase.Key);
        var deployed = new Dictionary<BenchConfiguration, string>();
        var errors = configurations.ToDictionary(c => c, _ => 0);
        var first = new Dictionary<BenchConfiguration, double>();
        foreach (var configuration in configurations)
        {
            var name = $"{benchCase.Function}-{benchCase.Size}-{configuration.Name}-r{run}";
            using (var package = FunctionVariant.Package(benchCase.Folder, name, configuration.Io, configuration.WriteBack, configuration.Prefetch, options.Sandbox))
            {
                await node.DeployAsync(package, cancellationToken);
            }

            deployed[configuration] = name;

            // The first start after a deploy also makes the function's template (nexus mode): reported on its own.
            var (ms, outcome, _, _) = await InvokeAsync(node, name, payload, cancellationToken);
            first[configuration] = ms;
            Check(outcome, name, "first", log, errors, configuration);
        }

        var cold = configurations.ToDictionary(c => c, _ => new List<double>());
        var warm = configurations.ToDictionary(c => c, _ => new List<double>());
        var overhead = configurations.ToDictionary(c => c, _ => new List<double>());
        var withDoorbell = configurations.ToDictionary(c => c, _ => new List<double>());
        var stages = configurations.ToDictionary(c => c, _ => new NodeStages());
        log.WriteLine($"{benchCase.Label}: {options.Cold} cold invocations per configuration");
        for (var i = 0; i < options.Cold; i++)
        {
            foreach (var configuration in configurations)
            {
                await node.StopIdleInstancesAsync(deployed[configuration]);
                var (ms, outcome, _, _) = await InvokeAsync(node, deployed[configuration], payload, cancellationToken);
                if (Check(outcome, deployed[configuration], $"cold {i}", log, errors, configuration) && outcome.ColdStart)
                {
                    cold[configuration].Add(ms);
                }
            }
        }

        log.WriteLine($"{benchCase.Label}: {options.Warm} warm invocations per configuration");
        var instance = new Dictionary<BenchConfiguration, string>();
        for (var i = -1; i < options.Warm; i++)
        {
            foreach (var configuration in configurations)
            {
                var (ms, outcome, entry, resumed) = await InvokeAsync(node, deployed[configuration], payload, cancellationToken);
                instance[configuration] = outcome.InstanceId;
                if (Check(outcome, deployed[configuration], $"warm {i}", log, errors, configuration) && i >= 0 && !outcome.ColdStart)
                {
                    // i == -1 is the warm-up call that may start the instance.
                    warm[configuration].Add(ms);

                    // The node's own part: wall time at the invoke entry minus the time in the sandbox (handler,
                    // its storage calls, the runtime), as the transport measured it.
                    overhead[configuration].Add((ms * 1000) - outcome.SandboxTime.TotalMicroseconds);
                    var t = outcome.Timeline;
                    withDoorbell[configuration].Add((ms * 1000) - (t.Rung != 0 && t.Arrived >= t.Rung ? Stopwatch.GetElapsedTime(t.Rung, t.Arrived) : outcome.SandboxTime).TotalMicroseconds);
                    stages[configuration].Add(outcome.Timeline, entry, resumed);
                }
            }
        }

        log.WriteLine($"{benchCase.Label}: {options.Warm} warm invocations per configuration through the Invoke API");
        var api = await InvokeThroughApiAsync(node, configurations, deployed, payload, options.Warm, log, errors, cancellationToken);

        foreach (var configuration in configurations)
        {
            var settled = await SettleJitAsync(node, deployed[configuration], payload, (outcome, what) => Check(outcome, deployed[configuration], what, log, errors, configuration), cancellationToken);
            log.WriteLine($"{benchCase.Label} {configuration.Name}: the node's JIT {(settled.Settled ? "settled" : "had not settled")} after {settled.Invocations} more warm invocations (nothing compiled over the last {settled.Quiet.Invocations} calls, {settled.Quiet.Time.TotalMilliseconds:F0} ms)");

            // The instance the sample runs on is the one the settling calls ended on: one that failed a call since the warm
            // loop (counted and logged as an error) was replaced, and its replacement is what is warm now.
            instance[configuration] = settled.Instance;
            var cpu = await MeasureCpuAsync(node, options.RemoteStore, deployed[configuration], instance[configuration], payload, options.CpuInvocations, cancellationToken);
            var memory = node.ReadInstanceUsage(instance[configuration])?.Memory ?? new SandboxMemory(0, 0, 0, 0);
            var templateMemory = node.ReadInstanceTemplateMemory(instance[configuration]);
            results.Add(new ModeResult(benchCase.Function, benchCase.Size, configuration, Percentiles.Of(warm[configuration]), Percentiles.Of(cold[configuration]), Percentiles.Of(overhead[configuration]), stages[configuration].Summarize(), first[configuration], cpu.SandboxMs, cpu.NodeMs, cpu.StoreMs, cpu.LinkMs, memory, errors[configuration], run) { NodeJitMsPerInvocation = cpu.JitMs, TemplateMemory = templateMemory, WarmNodeOverheadWithDoorbellUs = Percentiles.Of(withDoorbell[configuration]), WarmApiStagesUs = api[configuration].Summarize() });
        }

        foreach (var name in deployed.Values)
        {
            await node.RemoveAsync(name, cancellationToken);
        }

        return results;
    }

    /// <summary>An S3 ObjectCreated event for one object, its key URL-encoded as S3 sends it.</summary>
    public static byte[] S3Event(string bucket, string key)
    {
        var encoded = string.Join('/', key.Split('/').Select(s => Uri.EscapeDataString(s).Replace("%20", "+", StringComparison.Ordinal)));
        var record = new JsonObject
        {
            ["eventVersion"] = "2.1",
            ["eventSource"] = "aws:s3",
            ["awsRegion"] = "us-east-1",
            ["eventName"] = "ObjectCreated:Put",
            ["s3"] = new JsonObject
            {
                ["s3SchemaVersion"] = "1.0",
                ["bucket"] = new JsonObject { ["name"] = bucket, ["arn"] = $"arn:aws:s3:::{bucket}" },
                ["object"] = new JsonObject { ["key"] = encoded },
            },
        };
        return Encoding.UTF8.GetBytes(new JsonObject { ["Records"] = new JsonArray(record) }.ToJsonString());
    }

    private static bool Check(InvocationOutcome outcome, string name, string what, TextWriter log, Dictionary<BenchConfiguration, int> errors, BenchConfiguration configuration)
    {
        if (outcome.Outcome == "success")
        {
            return true;
        }

        errors[configuration]++;
        log.WriteLine($"  {name}: {what} invocation: {outcome.Outcome} {Encoding.UTF8.GetString(outcome.Result.Payload.Span)}");
        return false;
    }

    private static async Task<(double Ms, InvocationOutcome Outcome, long Entry, long Resumed)> InvokeAsync(NexusNode node, string name, byte[] payload, CancellationToken cancellationToken)
    {
        if (!node.TryGetFunction(name, out var function))
        {
            throw new InvalidOperationException($"function '{name}' vanished during the benchmark");
        }

        var started = Stopwatch.GetTimestamp();
        var outcome = await node.InvokeAsync(function, payload, Guid.NewGuid().ToString(), cancellationToken);
        var resumed = Stopwatch.GetTimestamp();
        return (Stopwatch.GetElapsedTime(started, resumed).TotalMilliseconds, outcome, started, resumed);
    }

    /// <summary>
    /// The warm invocations again through the node's Invoke API (HTTP on loopback, as a caller on this machine sends
    /// them), configurations alternating, each split at the client's stamps, the API's and the pool's.
    /// </summary>
    private static async Task<Dictionary<BenchConfiguration, ApiStages>> InvokeThroughApiAsync(NexusNode node, IReadOnlyList<BenchConfiguration> configurations, Dictionary<BenchConfiguration, string> deployed, byte[] payload, int warm, TextWriter log, Dictionary<BenchConfiguration, int> errors, CancellationToken cancellationToken)
    {
        var stages = configurations.ToDictionary(c => c, _ => new ApiStages());
        var observed = new ConcurrentDictionary<string, InvocationOutcome>(StringComparer.Ordinal);
        node.InvocationObserver = (requestId, outcome) => observed[requestId] = outcome;
        try
        {
            using var http = new HttpClient { BaseAddress = node.ApiAddress };

            // The node's own credential, as its CLI sends it: the API refuses unauthenticated callers.
            http.DefaultRequestHeaders.Add(KeyPair.ManagementTokenHeader, node.AdminKey.ManagementToken());
            for (var i = -1; i < warm; i++)
            {
                foreach (var configuration in configurations)
                {
                    var name = deployed[configuration];
                    var sent = Stopwatch.GetTimestamp();
                    using var content = new ByteArrayContent(payload);
                    using var response = await http.PostAsync($"2015-03-31/functions/{Uri.EscapeDataString(name)}/invocations", content, cancellationToken);
                    var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
                    var received = Stopwatch.GetTimestamp();
                    var requestId = response.Headers.TryGetValues("x-amzn-RequestId", out var ids) ? ids.First() : "";
                    if (!response.IsSuccessStatusCode || response.Headers.Contains("X-Amz-Function-Error") || !observed.TryRemove(requestId, out var outcome))
                    {
                        errors[configuration]++;
                        log.WriteLine($"  {name}: warm {i} invocation through the Invoke API: {(int)response.StatusCode} {Encoding.UTF8.GetString(body)}");
                        continue;
                    }

                    // The API stamps its response after Kestrel took it, which can be after the client has it.
                    var spin = Stopwatch.GetTimestamp();
                    while (outcome.Timeline.ApiResponded == 0 && Stopwatch.GetElapsedTime(spin) < TimeSpan.FromMilliseconds(5))
                    {
                        Thread.Yield();
                    }

                    if (i >= 0 && !outcome.ColdStart)
                    {
                        stages[configuration].Add(outcome.Timeline, sent, received);
                    }
                }
            }
        }
        finally
        {
            node.InvocationObserver = null;
        }

        return stages;
    }

    /// <summary>
    /// Warm invocations until this process stops compiling code: tiered compilation re-compiles a method after its first
    /// calls, so a node that has served a few hundred calls is still compiling the code they share. An always-on node is
    /// past that, so the CPU sample waits for it (both modes alike) by <see cref="JitSettle"/>'s rule, bounded by
    /// <see cref="JitSettleLimit"/> and <see cref="s_jitSettleTime"/>; the sample then reports what compiling it still saw.
    /// </summary>
    private static async Task<(bool Settled, int Invocations, (int Invocations, TimeSpan Time) Quiet, string Instance)> SettleJitAsync(NexusNode node, string name, byte[] payload, Func<InvocationOutcome, string, bool> check, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var readings = new List<JitReading> { Read(0) };
        while (true)
        {
            var instance = "";
            for (var i = 0; i < JitRound; i++)
            {
                var (_, outcome, _, _) = await InvokeAsync(node, name, payload, cancellationToken);
                check(outcome, "jit settle");
                instance = outcome.InstanceId;
            }

            readings.Add(Read(readings[^1].Invocations + JitRound));
            var settled = JitSettle.IsSettled(readings);
            if (settled || readings[^1].Invocations >= JitSettleLimit || readings[^1].At > s_jitSettleTime)
            {
                return (settled, readings[^1].Invocations, JitSettle.Quiet(readings), instance);
            }
        }

        JitReading Read(int invocations) => new(Stopwatch.GetElapsedTime(started), invocations, JitInfo.GetCompiledMethodCount(currentThread: false), JitInfo.GetCompilationTime(currentThread: false));
    }

    /// <summary>
    /// CPU per warm invocation: the instance's cgroup (sandbox), this process (node: invoke path, the embedded store
    /// when there is no remote one, and the backend or the Runtime API, whichever the mode uses) and the remote storage
    /// process and the link emulator (each reported apart, as the paper does: not the node's), over back-to-back
    /// invocations on one instance.
    /// Uploads the invocations left to write-back are waited for and counted: they are part of the invocations' cost.
    /// </summary>
    private static async Task<(double SandboxMs, double NodeMs, double StoreMs, double LinkMs, double JitMs)> MeasureCpuAsync(NexusNode node, RemoteStore? remote, string name, string instanceId, byte[] payload, int count, CancellationToken cancellationToken)
    {
        await DrainWriteBackAsync(node, cancellationToken);
        var process = Process.GetCurrentProcess();
        var sandboxBefore = node.ReadInstanceUsage(instanceId)?.Cpu ?? TimeSpan.Zero;
        var storeBefore = remote?.ReadServerUsage().Cpu;
        var linkBefore = remote?.ReadLinkUsage().Cpu;
        process.Refresh();
        var nodeBefore = process.TotalProcessorTime;
        var jitBefore = JitInfo.GetCompilationTime();
        for (var i = 0; i < count; i++)
        {
            var (_, outcome, _, _) = await InvokeAsync(node, name, payload, cancellationToken);
            if (outcome.InstanceId != instanceId)
            {
                throw new InvalidOperationException($"{name}: the CPU sample moved to another instance ({outcome.InstanceId}, {outcome.Outcome}: {Encoding.UTF8.GetString(outcome.Result.Payload.Span)}); is the instance being replaced?");
            }
        }

        await DrainWriteBackAsync(node, cancellationToken);
        process.Refresh();
        var nodeAfter = process.TotalProcessorTime;
        var jitMs = (JitInfo.GetCompilationTime() - jitBefore).TotalMilliseconds / count;
        var sandboxAfter = node.ReadInstanceUsage(instanceId)?.Cpu ?? TimeSpan.Zero;
        var storeMs = remote is null ? double.NaN : (remote.ReadServerUsage().Cpu - storeBefore!.Value).TotalMilliseconds / count;
        var linkMs = remote is null ? double.NaN : (remote.ReadLinkUsage().Cpu - linkBefore!.Value).TotalMilliseconds / count;
        return ((sandboxAfter - sandboxBefore).TotalMilliseconds / count, (nodeAfter - nodeBefore).TotalMilliseconds / count, storeMs, linkMs, jitMs);
    }

    private static async Task DrainWriteBackAsync(NexusNode node, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while ((node.Status().WriteBack?.Pending ?? 0) > 0)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("write-backs did not drain within 2 minutes");
            }

            await Task.Delay(5, cancellationToken);
        }
    }
}
