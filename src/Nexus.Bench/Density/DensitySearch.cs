// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Bench.Density;

/// <summary>One load level tried, and whether it met the SLO.</summary>
public sealed record Probe(int Level, bool Met);

/// <summary>
/// Bounded search for the largest load level that meets the SLO, assuming it is monotone: double from 1 until a level
/// fails (or <c>maxLevel</c>), then bisect between the last pass and the first failure; at most <c>maxProbes</c>
/// levels are tried. Returns 0 when level 1 already fails.
/// </summary>
public static class DensitySearch
{
    public static async Task<(int Best, IReadOnlyList<Probe> Probes)> FindAsync(Func<int, Task<bool>> meets, int maxLevel, int maxProbes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLevel, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxProbes, 1);
        var probes = new List<Probe>();
        int pass = 0, fail = maxLevel + 1;
        var level = 1;
        while (probes.Count < maxProbes && pass < maxLevel)
        {
            var met = await meets(level);
            probes.Add(new Probe(level, met));
            if (met)
            {
                pass = level;
                if (fail > maxLevel)
                {
                    level = Math.Min(level * 2, maxLevel);
                    continue;
                }
            }
            else
            {
                fail = level;
            }

            if (fail - pass <= 1)
            {
                break;
            }

            level = pass + ((fail - pass) / 2);
        }

        return (pass, probes);
    }
}
