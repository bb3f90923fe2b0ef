// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;

namespace Nexus.Bench.Density;

/// <summary>A kind of mapping's mean share of the node process's PSS during one replay.</summary>
public sealed record MappingPss(string Kind, double MeanMiB);

/// <summary>
/// Splits this process's PSS by what its mappings hold, from /proc/self/smaps: the backend's channel regions
/// (memfds named nexus-&lt;instance&gt;, shared with sandboxes, each counted at the node's share), code and other
/// mapped files, thread stacks, and anonymous memory (the GC heap and native data of every component: store,
/// backend, node and the benchmark share it, so it is not split further).
/// </summary>
public static class MemorySplit
{
    public const string ChannelRegions = "backend channel regions (memfd, shared with sandboxes)";
    public const string Anonymous = "heap and runtime data (all components)";
    public const string Files = "code and mapped files";
    public const string Stacks = "thread stacks";

    /// <summary>PSS in KiB per mapping kind of this process.</summary>
    public static Dictionary<string, long> ReadOwn()
    {
        using var reader = new StreamReader("/proc/self/smaps");
        return Parse(reader);
    }

    /// <summary>Parses smaps text: a header line per mapping, then "Key: value kB" lines; PSS summed by kind.</summary>
    public static Dictionary<string, long> Parse(TextReader reader)
    {
        var kinds = new Dictionary<string, long>();
        var kind = Anonymous;
        while (reader.ReadLine() is { } line)
        {
            if (PssKiB(line) is { } value)
            {
                kinds[kind] = kinds.GetValueOrDefault(kind) + value;
            }
            else if (IsHeader(line))
            {
                kind = KindOf(line);
            }
        }

        return kinds;
    }

    /// <summary>The value of an smaps or smaps_rollup "Pss:   123 kB" line in KiB; null for any other line.</summary>
    public static long? PssKiB(string line) =>
        line.StartsWith("Pss:", StringComparison.Ordinal)
            ? long.Parse(line.AsSpan(4).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture)
            : null;

    /// <summary>The kind of a mapping from its smaps header ("start-end perms offset dev inode [path]").</summary>
    public static string KindOf(string header)
    {
        var fields = header.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
        var path = fields.Length >= 6 ? fields[5].Trim() : string.Empty;
        if (path.StartsWith("/memfd:nexus-", StringComparison.Ordinal))
        {
            return ChannelRegions;
        }

        if (path.StartsWith("[stack", StringComparison.Ordinal))
        {
            return Stacks;
        }

        return path.StartsWith('/') && !path.StartsWith("/memfd:", StringComparison.Ordinal) ? Files : Anonymous;
    }

    // A header starts with "start-end" in hex; attribute lines start with a key and a colon.
    private static bool IsHeader(string line)
    {
        var dash = line.IndexOf('-');
        return dash > 0 && line.IndexOf(':') is var colon && (colon < 0 || colon > dash) && Uri.IsHexDigit(line[0]);
    }
}
