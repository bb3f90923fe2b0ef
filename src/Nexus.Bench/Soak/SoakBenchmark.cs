// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using Nexus.Bench.Density;
using Nexus.Functions;
using Nexus.Node;
using Nexus.Sandbox.Oci;

namespace Nexus.Bench.Soak;

/// <summary>What <see cref="SoakBenchmark"/> runs.</summary>
public sealed record SoakOptions
{
    public required string WorkloadFolder { get; init; }

    public required string SeedScript { get; init; }

    public required NodeOptions Node { get; init; }

    public TimeSpan Duration { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Instances kept busy: one function and one closed-loop client each, the modes alternating.</summary>
    public int Instances { get; init; } = 12;

    /// <summary>Each client redeploys its function after this many invocations (a new revision: its instance and, in
    /// nexus mode, its fork template are retired and the next call starts cold).</summary>
    public int RedeployEvery { get; init; } = 20;

    public TimeSpan SampleInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long the release may take after the last function is removed, before the "after" sample is taken anyway.</summary>
    public TimeSpan ReleaseTimeout { get; init; } = TimeSpan.FromSeconds(90);

    public IReadOnlyList<IoMode> Modes { get; init; } = [IoMode.Nexus, IoMode.Baseline];
}

/// <summary>A soak's figures: accounting, the series over time, what was left after release, and each series' verdict.</summary>
public sealed record SoakResult(
    int Instances, long Issued, long Completed, long Failed, IReadOnlyDictionary<string, long> Outcomes, long Redeploys,
    LeakSample Before, IReadOnlyList<LeakSample> Samples, LeakSample After, IReadOnlyList<LeakVerdict> Verdicts,
    IReadOnlyDictionary<string, int> DescriptorsBefore, IReadOnlyDictionary<string, int> DescriptorsAfter)
{
    /// <summary>Descriptor kinds held more often after release than before, with the difference.</summary>
    public IEnumerable<(string Kind, int More)> DescriptorsGained =>
        DescriptorsAfter.Select(k => (k.Key, k.Value - DescriptorsBefore.GetValueOrDefault(k.Key))).Where(k => k.Item2 > 0).OrderByDescending(k => k.Item2);

    public bool Accounted => Issued == Completed + Failed;

    public bool Leaking => Verdicts.Any(v => v.Leaking);
}

/// <summary>
/// Runs a node at a fixed number of busy instances for a long time and watches what it holds on the host. Each instance
/// is its own function with one closed-loop client (invoke, await, invoke), modes alternating so both the channel path
/// (memfds, fork templates, write-back spool) and the baseline path (veths, netns) are exercised; clients redeploy their
/// function every <see cref="SoakOptions.RedeployEvery"/> calls so instances keep being made and torn down. At the end
/// every function is removed and the node must give back what it took.
/// </summary>
public static class SoakBenchmark
{
    public static async Task<SoakResult> RunAsync(SoakOptions options, TextWriter log, CancellationToken cancellationToken)
    {
        if (options.Instances < 1 || options.RedeployEvery < 1 || options.Duration <= TimeSpan.Zero || options.SampleInterval <= TimeSpan.Zero)
        {
            throw new ArgumentException("instances and redeploy-every must be at least 1, the duration and the sample interval positive");
        }

        await using var node = await NexusNode.StartAsync(options.Node, progress: new Progress<string>(line => log.WriteLine("  " + line)), cancellationToken: cancellationToken);
        log.WriteLine($"node up: api {node.ApiAddress}, store {node.StoreAddress}");
        await InputSeeder.SeedAsync(options.SeedScript, node, cancellationToken);
        var probe = new LeakProbe(new OciDriverOptions(), NexusNode.MicrovmOptions(options.Node), options.Node.WriteBackDirectory);
        var clock = Stopwatch.StartNew();
        var counters = new Counters();
        var payload = await File.ReadAllBytesAsync(Path.Combine(options.WorkloadFolder, "event.json"), cancellationToken);

        // One function per mode deployed, invoked and removed first: what the node takes once (assemblies it maps on
        // first use, the spool journal's segment, pooled connections) is then in the "before" sample, not counted as a leak.
        var initial = await probe.ReadAsync(0, 0, 0, 0, 0, cancellationToken);
        var warmup = options.Modes.Select(m => (Name: "soak-warmup-" + Mode(m), Mode: m)).ToList();
        foreach (var (name, mode) in warmup)
        {
            await DeployAsync(node, options, name, mode, cancellationToken);
            node.TryGetFunction(name, out var function);
            var outcome = await node.InvokeAsync(function, payload, Guid.NewGuid().ToString(), cancellationToken);
            if (outcome.Outcome != "success")
            {
                throw new InvalidOperationException($"{name}: the warm-up invocation failed ({outcome.Outcome}): {System.Text.Encoding.UTF8.GetString(outcome.Result.Payload.Span)}");
            }

            await node.RemoveAsync(name, cancellationToken);
        }

        await DensityBenchmark.WaitDrainedAsync(node, [.. warmup.Select(w => w.Name)], cancellationToken);
        var instanceHeld = LeakSeries.All.Where(s => s.ReleaseSlack == 0).ToList();
        var before = await WaitReleasedAsync(probe, node, counters, initial, instanceHeld, 0, options.ReleaseTimeout, cancellationToken);
        var descriptorsBefore = LeakProbe.DescriptorKinds();

        var names = Enumerable.Range(0, options.Instances).Select(i => $"soak-{i}-{Mode(options.Modes[i % options.Modes.Count])}").ToArray();
        for (var i = 0; i < names.Length; i++)
        {
            await DeployAsync(node, options, names[i], options.Modes[i % options.Modes.Count], cancellationToken);
        }

        log.WriteLine($"soak: {names.Length} functions of {Path.GetFileName(options.WorkloadFolder)} ({string.Join("/", options.Modes.Select(Mode))}), one closed-loop client each, for {options.Duration.TotalMinutes:0.##} min");
        var samples = new List<LeakSample>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        stop.CancelAfter(options.Duration);
        var start = clock.Elapsed;
        var clients = names.Select((name, i) => Task.Run(() => ClientAsync(node, options, name, options.Modes[i % options.Modes.Count], payload, counters, stop.Token), CancellationToken.None)).ToArray();
        using (var timer = new PeriodicTimer(options.SampleInterval))
        {
            try
            {
                while (await timer.WaitForNextTickAsync(stop.Token))
                {
                    samples.Add(await SampleAsync(probe, node, counters, (clock.Elapsed - start).TotalSeconds, cancellationToken));
                    log.WriteLine(Row(samples[^1]));
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // The duration is over.
            }
        }

        // Every client finishes the call it is in: nothing is abandoned mid-invocation, so every issued call is counted.
        await Task.WhenAll(clients);
        samples.Add(await SampleAsync(probe, node, counters, (clock.Elapsed - start).TotalSeconds, cancellationToken));
        log.WriteLine(Row(samples[^1]));
        foreach (var name in names)
        {
            await node.RemoveAsync(name, cancellationToken);
        }

        await DensityBenchmark.WaitDrainedAsync(node, [.. names], cancellationToken);
        var after = await WaitReleasedAsync(probe, node, counters, before, LeakSeries.All, (clock.Elapsed - start).TotalSeconds, options.ReleaseTimeout, cancellationToken);
        var verdicts = LeakSeries.All.Select(s => LeakVerdict.Judge(s, before, samples, after)).ToList();
        return new SoakResult(
            names.Length, counters.Issued, counters.Completed, counters.Failed, counters.Outcomes(), counters.Redeploys,
            before, samples, after, verdicts, descriptorsBefore, LeakProbe.DescriptorKinds());
    }

    /// <summary>The table header of <see cref="Row"/>.</summary>
    public static string Header =>
        $"{"t s",7} {"issued",7} {"ok",7} {"failed",6} {"inst",4} {"fds",5} {"memfd",5} {"cgroups",7} {"netns",5} {"veths",5} {"nft",4} {"spool",5} {"thr",4} {"PSS MiB",8} {"procs",5} {"vmm",4} {"vmcg",4} {"vmdir",5} {"snap",4} {"code",4} {"tap",3}";

    public static string Row(LeakSample s) => string.Create(
        System.Globalization.CultureInfo.InvariantCulture,
        $"{s.Seconds,7:0} {s.Issued,7} {s.Completed,7} {s.Failed,6} {s.Instances,4} {s.Fds,5} {s.Memfds,5} {s.Cgroups,7} {s.Netns,5} {s.Veths,5} {s.NftRules,4} {s.SpoolFiles,5} {s.Threads,4} {s.PssMiB,8:0.0} {s.Processes,5} {s.Vmms,4} {s.VmCgroups,4} {s.VmFolders,5} {s.Snapshots,4} {s.CodeDrives,4} {s.Taps,3}");

    private static async Task ClientAsync(NexusNode node, SoakOptions options, string name, IoMode mode, byte[] payload, Counters counters, CancellationToken stop)
    {
        for (var call = 1; !stop.IsCancellationRequested; call++)
        {
            if (call % options.RedeployEvery == 0)
            {
                await DeployAsync(node, options, name, mode, CancellationToken.None);
                Interlocked.Increment(ref counters.Redeploys);
            }

            Interlocked.Increment(ref counters.Issued);
            string outcome;
            try
            {
                outcome = node.TryGetFunction(name, out var function)
                    ? (await node.InvokeAsync(function, payload, Guid.NewGuid().ToString(), CancellationToken.None)).Outcome
                    : "not deployed";
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                outcome = "exception " + e.GetType().Name;
            }

            counters.Count(outcome);
        }
    }

    private static async Task DeployAsync(NexusNode node, SoakOptions options, string name, IoMode mode, CancellationToken cancellationToken)
    {
        // Channel functions write back asynchronously, so the spool is part of what is watched.
        using var package = FunctionVariant.Package(options.WorkloadFolder, name, mode, mode == IoMode.Nexus ? WriteBackMode.Async : null, null);
        await node.DeployAsync(package, cancellationToken);
    }

    private static async Task<LeakSample> SampleAsync(LeakProbe probe, NexusNode node, Counters counters, double seconds, CancellationToken cancellationToken)
    {
        var live = node.Status().Instances.Sum(s => s.Starting + s.Idle + s.Busy);
        return await probe.ReadAsync(seconds, Volatile.Read(ref counters.Issued), Volatile.Read(ref counters.Completed), Volatile.Read(ref counters.Failed), live, cancellationToken);
    }

    /// <summary>
    /// Samples until each of <paramref name="series"/> that has a release check is back within its slack of
    /// <paramref name="reference"/> (teardown and uploads finish in the background), or the timeout passes; returns the
    /// last sample.
    /// </summary>
    private static async Task<LeakSample> WaitReleasedAsync(
        LeakProbe probe, NexusNode node, Counters counters, LeakSample reference, IReadOnlyList<LeakSeries> series, double seconds, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var sample = await SampleAsync(probe, node, counters, seconds + deadline.Elapsed.TotalSeconds, cancellationToken);
            var released = series.All(s => s.ReleaseSlack is not { } slack || s.Read(sample) <= s.Read(reference) + slack);
            if (released || deadline.Elapsed > timeout)
            {
                return sample;
            }

            await Task.Delay(500, cancellationToken);
        }
    }

    private static string Mode(IoMode mode) => mode.ToString().ToLowerInvariant();

    private sealed class Counters
    {
        private readonly Dictionary<string, long> _outcomes = [];
        public long Issued;
        public long Completed;
        public long Failed;
        public long Redeploys;

        public void Count(string outcome)
        {
            lock (_outcomes)
            {
                _outcomes[outcome] = _outcomes.GetValueOrDefault(outcome) + 1;
            }

            Interlocked.Increment(ref outcome == "success" ? ref Completed : ref Failed);
        }

        public IReadOnlyDictionary<string, long> Outcomes()
        {
            lock (_outcomes)
            {
                return new Dictionary<string, long>(_outcomes);
            }
        }
    }
}
