// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text.Json;
using System.Text.Json.Serialization;
using Nexus.Bench.Replay;
using Nexus.Bench.Trace;

namespace Nexus.Bench.Density;

/// <summary>One replay of the trace at one load level (rate scale of the base trace) in one mode.</summary>
public sealed record LevelRun(
    string Mode, double Level, int Functions, SloVerdict Verdict,
    int Planned, int Issued, int Completed, int Failed, double WallSeconds,
    int PeakInstances, double NodeCpuSeconds, double SandboxCpuSeconds, double MeanNodePssMiB, double MeanSandboxPssMiB,
    IReadOnlyList<InvocationRecord> Records, IReadOnlyList<ResourceSample> Samples, IReadOnlyList<InstanceSample> Instances,
    IReadOnlyList<ComponentCpu>? NodeCpuSplit = null,
    IReadOnlyList<MappingPss>? NodeMemorySplit = null,
    double StoreCpuSeconds = 0,
    double MeanStorePssMiB = 0,
    double MeanTemplatePssMiB = 0);

/// <summary>A mode's density: the largest level meeting the SLO and what it holds.</summary>
public sealed record ModeDensity(string Mode, double BestLevel, int Functions, int PeakInstances, IReadOnlyList<Probe> Probes);

/// <summary>Everything `nexus bench density` measured; `nexus bench report` reads it back.</summary>
public sealed record EvaluationResults(
    string Machine, int Cores, DateTimeOffset Started, string Command,
    GeneratorOptions Trace, ScheduleOptions Schedule, Slo Slo, double MaxLevel, int MaxProbes,
    IReadOnlyList<WorkloadMapping> Mapping,
    IReadOnlyDictionary<string, IReadOnlyList<UnloadedLatency>> Unloaded,
    IReadOnlyList<LevelRun> Runs,
    IReadOnlyList<ModeDensity> Density)
{
    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public static EvaluationResults FromJson(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<EvaluationResults>(File.ReadAllText(path), JsonOptions)
                ?? throw new InvalidDataException($"{path}: empty results");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a results file of `nexus bench density` ({e.Message})", e);
        }
    }
}
