// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;

namespace Nexus.Interop;

/// <summary>Sums of a group of mappings' smaps fields, in KiB: RSS, PSS and USS (Private_Clean + Private_Dirty).</summary>
public sealed class SmapsTotals
{
    public long PssKiB { get; private set; }

    public long UssKiB { get; private set; }

    public long RssKiB { get; private set; }

    /// <summary>The sums of several groups.</summary>
    public static SmapsTotals Sum(IEnumerable<SmapsTotals> groups)
    {
        ArgumentNullException.ThrowIfNull(groups);
        var sum = new SmapsTotals();
        foreach (var g in groups)
        {
            (sum.PssKiB, sum.UssKiB, sum.RssKiB) = (sum.PssKiB + g.PssKiB, sum.UssKiB + g.UssKiB, sum.RssKiB + g.RssKiB);
        }

        return sum;
    }

    /// <summary>Adds one "Key:   123 kB" line of a mapping (other keys are ignored).</summary>
    public void Add(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        if (line.StartsWith("Pss:", StringComparison.Ordinal))
        {
            PssKiB += Smaps.ParseKiB(line);
        }
        else if (line.StartsWith("Rss:", StringComparison.Ordinal))
        {
            RssKiB += Smaps.ParseKiB(line);
        }
        else if (line.StartsWith("Private_Clean:", StringComparison.Ordinal) || line.StartsWith("Private_Dirty:", StringComparison.Ordinal))
        {
            UssKiB += Smaps.ParseKiB(line);
        }
    }
}

/// <summary>A process's memory by mapping, from /proc/&lt;pid&gt;/smaps.</summary>
public static class Smaps
{
    /// <summary>
    /// Sums the mappings of <paramref name="pid"/> into <paramref name="groups"/> totals: each mapping goes to the group
    /// <paramref name="groupOf"/> gives its header line ("start-end perms offset dev inode [path]").
    /// </summary>
    public static SmapsTotals[] Read(int pid, int groups, Func<string, int> groupOf)
    {
        ArgumentNullException.ThrowIfNull(groupOf);
        var totals = Enumerable.Range(0, groups).Select(_ => new SmapsTotals()).ToArray();
        var current = totals[0];
        foreach (var line in File.ReadLines($"/proc/{pid}/smaps"))
        {
            // A header is "<hex>-<hex> ..."; no field line ("Key:   123 kB") holds a dash.
            if (line.Length > 0 && char.IsAsciiHexDigit(line[0]) && line.Contains('-', StringComparison.Ordinal))
            {
                current = totals[groupOf(line)];
                continue;
            }

            current.Add(line);
        }

        return totals;
    }

    /// <summary>The mapping's start address (hex, as smaps writes it) from its header line.</summary>
    public static string StartOf(string header)
    {
        ArgumentNullException.ThrowIfNull(header);
        return header[..header.IndexOf('-', StringComparison.Ordinal)];
    }

    /// <summary>The value of a "Key:   123 kB" line.</summary>
    public static long ParseKiB(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }
}
