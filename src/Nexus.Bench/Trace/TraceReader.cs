// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;

namespace Nexus.Bench.Trace;

/// <summary>
/// Reads invocations.csv, durations.csv and memory.csv as the InVitro loader does: the first header cells of
/// invocations.csv matched by name ignoring case (counts start after Trigger, or at column 3 without it), at most
/// <c>min(minutes, 1440)</c> minutes; durations and memory by header name in any column order; Count and SampleCount
/// must be above 0; only functions present in all three files are kept.
/// </summary>
public static class TraceReader
{
    public const int MaxMinutes = 1440;

    private static readonly string[] s_durationColumns =
        ["HashFunction", "Average", "Count", "Minimum", "Maximum", "percentile_Average_0", "percentile_Average_1", "percentile_Average_25", "percentile_Average_50", "percentile_Average_75", "percentile_Average_99", "percentile_Average_100"];

    private static readonly string[] s_memoryColumns =
        ["HashFunction", "SampleCount", "AverageAllocatedMb", "AverageAllocatedMb_pct1", "AverageAllocatedMb_pct5", "AverageAllocatedMb_pct25", "AverageAllocatedMb_pct50", "AverageAllocatedMb_pct75", "AverageAllocatedMb_pct95", "AverageAllocatedMb_pct99", "AverageAllocatedMb_pct100"];

    public static TraceData Load(string directory, int minutes = MaxMinutes)
    {
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"trace folder {directory} does not exist");
        }

        var (span, invocations) = ReadInvocations(Path.Combine(directory, "invocations.csv"), Math.Clamp(minutes, 1, MaxMinutes));
        var durations = ReadDurations(Path.Combine(directory, "durations.csv"));
        var memory = ReadMemory(Path.Combine(directory, "memory.csv"));
        var functions = new List<TraceFunction>();
        foreach (var (owner, app, hash, trigger, counts) in invocations)
        {
            if (durations.TryGetValue(hash, out var d) && memory.TryGetValue(hash, out var m))
            {
                functions.Add(new TraceFunction(owner, app, hash, trigger, counts, d, m));
            }
        }

        return new TraceData(span, functions);
    }

    private static (int Minutes, List<(string Owner, string App, string Hash, string Trigger, int[] Counts)> Rows) ReadInvocations(string path, int minutes)
    {
        var lines = ReadLines(path);
        var header = Split(lines[0]);
        string[] names = ["hashowner", "hashapp", "hashfunction"];
        for (var i = 0; i < names.Length; i++)
        {
            if (header.Length <= i || !header[i].Trim().Equals(names[i], StringComparison.OrdinalIgnoreCase))
            {
                throw new TraceFormatException(path, 1, $"column {i + 1} must be {names[i]} (header: HashOwner,HashApp,HashFunction,Trigger,1,2,...), found '{(header.Length > i ? header[i] : "")}'");
            }
        }

        var hasTrigger = header.Length > 3 && header[3].Trim().Equals("trigger", StringComparison.OrdinalIgnoreCase);
        var first = hasTrigger ? 4 : 3;
        var span = Math.Min(minutes, header.Length - first);
        if (span < 1)
        {
            throw new TraceFormatException(path, 1, "no per-minute columns after the name columns");
        }

        var rows = new List<(string, string, string, string, int[])>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var n = 1; n < lines.Length; n++)
        {
            if (lines[n].Length == 0)
            {
                continue;
            }

            var cells = Split(lines[n]);
            if (cells.Length != header.Length)
            {
                throw new TraceFormatException(path, n + 1, $"{cells.Length} cells, the header has {header.Length}");
            }

            if (!seen.Add(cells[2]))
            {
                throw new TraceFormatException(path, n + 1, $"function {cells[2]} appears twice");
            }

            var counts = new int[span];
            for (var m = 0; m < span; m++)
            {
                if (!int.TryParse(cells[first + m], NumberStyles.None, CultureInfo.InvariantCulture, out counts[m]))
                {
                    throw new TraceFormatException(path, n + 1, $"minute {m + 1} (column {first + m + 1}): '{cells[first + m]}' is not a count (a non-negative integer)");
                }
            }

            rows.Add((cells[0], cells[1], cells[2], hasTrigger ? cells[3] : "", counts));
        }

        return (span, rows);
    }

    private static Dictionary<string, DurationStats> ReadDurations(string path) =>
        ReadByName(path, s_durationColumns, (v, fail) =>
        {
            var count = (long)v[2];
            if (count <= 0 || count != v[2])
            {
                fail("Count must be a whole number above 0");
            }

            return new DurationStats(v[1], count, v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11]);
        });

    private static Dictionary<string, MemoryStats> ReadMemory(string path) =>
        ReadByName(path, s_memoryColumns, (v, fail) =>
        {
            var count = (long)v[1];
            if (count <= 0 || count != v[1])
            {
                fail("SampleCount must be a whole number above 0");
            }

            return new MemoryStats(count, v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10]);
        });

    /// <summary>Rows keyed by HashFunction; <paramref name="columns"/>[0] is HashFunction, the rest are numbers (v[0] unused).</summary>
    private static Dictionary<string, T> ReadByName<T>(string path, string[] columns, Func<double[], Action<string>, T> make)
    {
        var lines = ReadLines(path);
        var header = Split(lines[0]).Select(h => h.Trim()).ToArray();
        var index = new int[columns.Length];
        for (var c = 0; c < columns.Length; c++)
        {
            index[c] = Array.FindIndex(header, h => h.Equals(columns[c], StringComparison.OrdinalIgnoreCase));
            if (index[c] < 0)
            {
                throw new TraceFormatException(path, 1, $"missing column {columns[c]}");
            }
        }

        var rows = new Dictionary<string, T>(StringComparer.Ordinal);
        for (var n = 1; n < lines.Length; n++)
        {
            if (lines[n].Length == 0)
            {
                continue;
            }

            var cells = Split(lines[n]);
            if (cells.Length != header.Length)
            {
                throw new TraceFormatException(path, n + 1, $"{cells.Length} cells, the header has {header.Length}");
            }

            var values = new double[columns.Length];
            for (var c = 1; c < columns.Length; c++)
            {
                var cell = cells[index[c]];
                if (!double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out values[c]) || !double.IsFinite(values[c]) || values[c] < 0)
                {
                    throw new TraceFormatException(path, n + 1, $"{columns[c]}: '{cell}' is not a non-negative number");
                }
            }

            var line = n + 1;
            var row = make(values, message => throw new TraceFormatException(path, line, message));
            if (!rows.TryAdd(cells[index[0]], row))
            {
                throw new TraceFormatException(path, n + 1, $"function {cells[index[0]]} appears twice");
            }
        }

        return rows;
    }

    private static string[] ReadLines(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"trace file {path} is missing (a trace folder holds invocations.csv, durations.csv and memory.csv)", path);
        }

        var lines = File.ReadAllLines(path).Select(l => l.TrimEnd('\r')).ToArray();
        if (lines.Length == 0 || lines[0].Length == 0)
        {
            throw new TraceFormatException(path, 1, "empty file: expected a header row");
        }

        return lines;
    }

    // The trace files hold hashes, names and numbers only: no quoting.
    private static string[] Split(string line) => line.Split(',');
}
