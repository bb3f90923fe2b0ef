// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Collections.Concurrent;
using System.Diagnostics;
using Nexus.Bench.Remote;
using Nexus.Node;

namespace Nexus.Bench.Density;

/// <summary>
/// Node totals at one moment of a replay: the node process and the sum over live instances; and, apart (not the node's),
/// a remote storage process. The sandboxes' figures include the fork templates' (<see cref="TemplatePssMiB"/> of them).
/// </summary>
public sealed record ResourceSample(double Seconds, int Instances, double NodeCpuSeconds, double NodePssMiB, double SandboxCpuSeconds, double SandboxPssMiB, double SandboxUssMiB, double StoreCpuSeconds = 0, double StorePssMiB = 0, double TemplatePssMiB = 0);

/// <summary>An instance's last memory reading and CPU used while sampled.</summary>
public sealed record InstanceSample(string InstanceId, int Function, double PssMiB, double UssMiB, double CgroupMiB, double CpuSeconds);

/// <summary>
/// Samples the node once a second during a replay: this process's CPU and PSS (node: invoke API, store, backend
/// or Runtime API all run in it), every instance seen so far (cgroup CPU, smaps PSS/USS via the node) and every running
/// fork template (an instance's PSS holds only its share of the pages it shares with its template: the template's
/// share is node memory too, and its CPU node CPU); with a remote store, its process too, kept apart.
/// </summary>
public sealed class ResourceSampler : IAsyncDisposable
{
    private const double MiB = 1024 * 1024;
    private readonly NexusNode _node;
    private readonly ConcurrentDictionary<string, int> _instances = new();
    private readonly Dictionary<string, InstanceSample> _last = [];
    private readonly List<ResourceSample> _samples = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Task _loop;
    private readonly TimeSpan _cpuAtStart;
    private readonly RemoteStore? _remote;
    private readonly TimeSpan _storeCpuAtStart;
    private readonly Dictionary<string, long> _mappingKiB = [];
    private readonly Dictionary<string, TimeSpan> _templateCpuAtStart;
    private readonly Dictionary<string, TimeSpan> _templateCpu = [];
    private int _mappingReads;

    public ResourceSampler(NexusNode node, RemoteStore? remote = null)
    {
        _node = node;
        _remote = remote;
        _storeCpuAtStart = remote?.ReadServerUsage().Cpu ?? TimeSpan.Zero;
        _cpuAtStart = Process.GetCurrentProcess().TotalProcessorTime;
        _templateCpuAtStart = node.ReadTemplateUsage().ToDictionary(t => t.SandboxId, t => t.Cpu);
        _loop = Task.Run(LoopAsync);
    }

    public IReadOnlyList<ResourceSample> Samples => _samples;

    public IReadOnlyCollection<InstanceSample> Instances => _last.Values;

    /// <summary>This process's PSS by mapping kind (<see cref="MemorySplit"/>), mean over the replay, largest first.</summary>
    public IReadOnlyList<MappingPss> MemoryByMapping =>
        [.. _mappingKiB.OrderByDescending(k => k.Value).Select(k => new MappingPss(k.Key, k.Value / 1024.0 / Math.Max(_mappingReads, 1)))];

    /// <summary>Tells the sampler about an instance an invocation ran on.</summary>
    public void Saw(string? instanceId, int function)
    {
        if (instanceId is not null)
        {
            _instances.TryAdd(instanceId, function);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        Sample();
        _stop.Dispose();
    }

    /// <summary>PSS of this process in KiB from /proc/self/smaps_rollup (0 when unreadable).</summary>
    public static long ReadOwnPssKiB() => ReadPssKiB("/proc/self/smaps_rollup");

    /// <summary>PSS in KiB from an smaps_rollup file (0 when unreadable, e.g. the process is gone).</summary>
    public static long ReadPssKiB(string smapsRollup)
    {
        try
        {
            foreach (var line in File.ReadLines(smapsRollup))
            {
                if (MemorySplit.PssKiB(line) is { } kib)
                {
                    return kib;
                }
            }
        }
        catch (IOException)
        {
            // Reported as 0: the figure is missing, not wrong.
        }

        return 0;
    }

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            do
            {
                Sample();
            }
            while (await timer.WaitForNextTickAsync(_stop.Token));
        }
        catch (OperationCanceledException)
        {
            // Stopped by DisposeAsync.
        }
    }

    private void Sample()
    {
        double pss = 0, uss = 0, cpu = 0;
        var live = 0;
        foreach (var (id, function) in _instances)
        {
            if (_node.ReadInstanceUsage(id) is { } usage)
            {
                live++;
                var sample = new InstanceSample(id, function, usage.Memory.PssBytes / MiB, usage.Memory.UssBytes / MiB, usage.Memory.CgroupBytes / MiB, usage.Cpu.TotalSeconds);
                _last[id] = sample;
                pss += sample.PssMiB;
                uss += sample.UssMiB;
            }

            // Stopped instances keep their last CPU reading, so the CPU total only grows.
            cpu += _last.TryGetValue(id, out var seen) ? seen.CpuSeconds : 0;
        }

        double templatePss = 0;
        foreach (var template in _node.ReadTemplateUsage())
        {
            templatePss += template.Memory.PssBytes / MiB;
            uss += template.Memory.UssBytes / MiB;
            _templateCpu[template.SandboxId] = template.Cpu - _templateCpuAtStart.GetValueOrDefault(template.SandboxId);
        }

        pss += templatePss;
        cpu += _templateCpu.Values.Sum(t => t.TotalSeconds);

        // smaps of a .NET process has thousands of mappings: read it every fifth sample only.
        if (_samples.Count % 5 == 0)
        {
            foreach (var (kind, kib) in MemorySplit.ReadOwn())
            {
                _mappingKiB[kind] = _mappingKiB.GetValueOrDefault(kind) + kib;
            }

            _mappingReads++;
        }

        var process = Process.GetCurrentProcess();
        var store = _remote?.ReadServerUsage();
        _samples.Add(new ResourceSample(
            _clock.Elapsed.TotalSeconds, live, (process.TotalProcessorTime - _cpuAtStart).TotalSeconds, ReadOwnPssKiB() / 1024.0, cpu, pss, uss,
            store is { } s ? (s.Cpu - _storeCpuAtStart).TotalSeconds : 0, store is { } m ? m.PssKiB / 1024.0 : 0, templatePss));
    }
}
