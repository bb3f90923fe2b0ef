// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using System.Text;
using Nexus.Functions;
using Nexus.Node;
using Nexus.Node.Pool;
using Nexus.Sandbox;

namespace Nexus.Bench;

/// <summary>What <see cref="CompareBenchmark"/> runs.</summary>
public sealed record CompareOptions
{
    /// <summary>Example folders to compare (each is deployed once per mode).</summary>
    public required IReadOnlyList<string> FunctionFolders { get; init; }

    /// <summary>Warm invocations per function and mode (latency sample).</summary>
    public int Warm { get; init; } = 100;

    /// <summary>Cold invocations per function and mode.</summary>
    public int Cold { get; init; } = 10;

    /// <summary>Warm invocations per function and mode whose CPU is measured (back to back).</summary>
    public int CpuInvocations { get; init; } = 50;

    /// <summary>Script that seeds the examples' inputs (run with Debian's python3 and boto3).</summary>
    public required string SeedScript { get; init; }

    /// <summary>Node options (a private home: the benchmark starts its own node).</summary>
    public required NodeOptions Node { get; init; }
}

/// <summary>Figures of one function in one mode.</summary>
public sealed record ModeResult(
    string Function,
    IoMode Mode,
    Percentiles WarmMs,
    Percentiles ColdMs,
    double SandboxCpuMsPerInvocation,
    double NodeCpuMsPerInvocation,
    SandboxMemory Memory,
    int Errors);

/// <summary>
/// nexus against baseline, side by side in one run, on one node started for the purpose: the same function
/// folder is deployed twice (only <c>io</c> differs), inputs seeded once, and the two modes are invoked
/// alternately so that machine noise falls on both alike.
/// </summary>
public static class CompareBenchmark
{
    private static readonly IoMode[] s_modes = [IoMode.Baseline, IoMode.Nexus];

    public static async Task<IReadOnlyList<ModeResult>> RunAsync(CompareOptions options, TextWriter log, CancellationToken cancellationToken)
    {
        await using var node = await NexusNode.StartAsync(options.Node, progress: new Progress<string>(line => log.WriteLine("  " + line)), cancellationToken: cancellationToken);
        log.WriteLine($"node up: api {node.ApiAddress}, store {node.StoreAddress}");
        await InputSeeder.SeedAsync(options.SeedScript, node, cancellationToken);

        var results = new List<ModeResult>();
        foreach (var folder in options.FunctionFolders)
        {
            var example = Path.GetFileName(Path.TrimEndingDirectorySeparator(folder));
            var payload = await File.ReadAllBytesAsync(Path.Combine(folder, "event.json"), cancellationToken);
            var deployed = new Dictionary<IoMode, string>();
            foreach (var mode in s_modes)
            {
                var name = $"{example}-{mode.ToString().ToLowerInvariant()}";
                using var package = FunctionVariant.Package(folder, name, mode);
                await node.DeployAsync(package, cancellationToken);
                deployed[mode] = name;
            }

            var errors = s_modes.ToDictionary(m => m, _ => 0);
            var cold = s_modes.ToDictionary(m => m, _ => new List<double>());
            var warm = s_modes.ToDictionary(m => m, _ => new List<double>());

            log.WriteLine($"{example}: {options.Cold} cold invocations per mode");
            for (var i = 0; i < options.Cold; i++)
            {
                foreach (var mode in s_modes)
                {
                    await RedeployAndDrainAsync(node, folder, deployed[mode], mode, cancellationToken);
                    var (ms, outcome) = await InvokeAsync(node, deployed[mode], payload, cancellationToken);
                    if (outcome.Outcome != "success" || !outcome.ColdStart)
                    {
                        errors[mode]++;
                        log.WriteLine($"  {deployed[mode]}: cold invocation {i}: {outcome.Outcome} (cold={outcome.ColdStart}) {Encoding.UTF8.GetString(outcome.Result.Payload.Span)}");
                    }
                    else
                    {
                        cold[mode].Add(ms);
                    }
                }
            }

            log.WriteLine($"{example}: {options.Warm} warm invocations per mode");
            var instance = new Dictionary<IoMode, string>();
            for (var i = -1; i < options.Warm; i++)
            {
                foreach (var mode in s_modes)
                {
                    var (ms, outcome) = await InvokeAsync(node, deployed[mode], payload, cancellationToken);
                    instance[mode] = outcome.InstanceId;
                    if (outcome.Outcome != "success")
                    {
                        errors[mode]++;
                    }
                    else if (i >= 0 && !outcome.ColdStart)
                    {
                        // i == -1 is the warm-up call that may start the instance.
                        warm[mode].Add(ms);
                    }
                }
            }

            foreach (var mode in s_modes)
            {
                var (sandboxCpu, nodeCpu) = await MeasureCpuAsync(node, deployed[mode], instance[mode], payload, options.CpuInvocations, cancellationToken);
                var memory = node.ReadInstanceUsage(instance[mode])?.Memory ?? new SandboxMemory(0, 0, 0, 0);
                results.Add(new ModeResult(example, mode, Percentiles.Of(warm[mode]), Percentiles.Of(cold[mode]), sandboxCpu, nodeCpu, memory, errors[mode]));
            }

            foreach (var name in deployed.Values)
            {
                await node.RemoveAsync(name, cancellationToken);
            }
        }

        return results;
    }

    private static async Task<(double Ms, InvocationOutcome Outcome)> InvokeAsync(NexusNode node, string name, byte[] payload, CancellationToken cancellationToken)
    {
        if (!node.TryGetFunction(name, out var function))
        {
            throw new InvalidOperationException($"function '{name}' vanished during the benchmark");
        }

        var started = Stopwatch.GetTimestamp();
        var outcome = await node.InvokeAsync(function, payload, Guid.NewGuid().ToString(), cancellationToken);
        return (Stopwatch.GetElapsedTime(started).TotalMilliseconds, outcome);
    }

    /// <summary>
    /// CPU per warm invocation: the instance's cgroup (sandbox) and this process (node: invoke path, store, and
    /// the backend or the Runtime API, whichever the mode uses), over back-to-back invocations on one instance.
    /// </summary>
    private static async Task<(double SandboxMs, double NodeMs)> MeasureCpuAsync(NexusNode node, string name, string instanceId, byte[] payload, int count, CancellationToken cancellationToken)
    {
        var process = Process.GetCurrentProcess();
        var sandboxBefore = node.ReadInstanceUsage(instanceId)?.Cpu ?? TimeSpan.Zero;
        process.Refresh();
        var nodeBefore = process.TotalProcessorTime;
        for (var i = 0; i < count; i++)
        {
            var (_, outcome) = await InvokeAsync(node, name, payload, cancellationToken);
            if (outcome.InstanceId != instanceId)
            {
                throw new InvalidOperationException($"{name}: the CPU sample moved to another instance ({outcome.InstanceId}); is the instance being replaced?");
            }
        }

        process.Refresh();
        var nodeAfter = process.TotalProcessorTime;
        var sandboxAfter = node.ReadInstanceUsage(instanceId)?.Cpu ?? TimeSpan.Zero;
        return ((sandboxAfter - sandboxBefore).TotalMilliseconds / count, (nodeAfter - nodeBefore).TotalMilliseconds / count);
    }

    /// <summary>Deploys the same package again, which retires the warm instances, and waits until they are gone.</summary>
    private static async Task RedeployAndDrainAsync(NexusNode node, string folder, string name, IoMode mode, CancellationToken cancellationToken)
    {
        using (var package = FunctionVariant.Package(folder, name, mode))
        {
            await node.DeployAsync(package, cancellationToken);
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (node.Status().Instances.Any(s => s.Function == name && s.Starting + s.Idle + s.Busy > 0))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{name}: retired instances did not stop within 30 s");
            }

            await Task.Delay(20, cancellationToken);
        }
    }
}
