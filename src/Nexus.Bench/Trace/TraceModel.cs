// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Bench.Trace;

/// <summary>One row of durations.csv (Azure 2019 schema, ms, cold starts excluded).</summary>
public sealed record DurationStats(
    double Average, long Count, double Minimum, double Maximum,
    double P0, double P1, double P25, double P50, double P75, double P99, double P100);

/// <summary>One row of memory.csv (InVitro's per-function form of the Azure 2019 app memory schema, MB).</summary>
public sealed record MemoryStats(
    long SampleCount, double Average,
    double P1, double P5, double P25, double P50, double P75, double P95, double P99, double P100);

/// <summary>A trace function: its per-minute invocation counts, durations and memory.</summary>
public sealed record TraceFunction(
    string HashOwner, string HashApp, string HashFunction, string Trigger,
    int[] PerMinute, DurationStats Duration, MemoryStats Memory)
{
    public long Invocations => PerMinute.Sum(c => (long)c);
}

/// <summary>A trace in the InVitro loader's three-file shape: the functions present in all three files.</summary>
public sealed record TraceData(int Minutes, IReadOnlyList<TraceFunction> Functions);

/// <summary>A trace file that does not follow the schema; names the file and line.</summary>
public sealed class TraceFormatException(string file, int line, string message)
    : Exception($"{file}:{line}: {message}")
{
    public string File { get; } = file;

    public int Line { get; } = line;
}
