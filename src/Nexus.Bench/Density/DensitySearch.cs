// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Bench.Density;

/// <summary>One load level tried (a rate scale of the base trace), and whether it met the SLO.</summary>
public sealed record Probe(double Level, bool Met);

/// <summary>
/// Bounded search for the largest load level (a continuous rate scale of the base trace) that meets the SLO,
/// assuming it is monotone: start at 1x, double while it passes (up to <c>maxLevel</c>) or halve while it fails
/// (down to <c>minLevel</c>), then bisect geometrically between the highest pass and the lowest failure until they
/// are within <c>resolution</c> of each other (a ratio) or <c>maxProbes</c> levels were tried. Returns 0 when even
/// <c>minLevel</c> fails.
/// </summary>
public static class DensitySearch
{
    public static async Task<(double Best, IReadOnlyList<Probe> Probes)> FindAsync(
        Func<double, Task<bool>> meets, double minLevel, double maxLevel, int maxProbes, double resolution = 1.2)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(minLevel);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLevel, minLevel);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxProbes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(resolution, 1.0);
        var probes = new List<Probe>();
        double pass = 0, fail = double.PositiveInfinity;
        var level = Math.Clamp(1.0, minLevel, maxLevel);
        while (probes.Count < maxProbes)
        {
            var met = await meets(level);
            probes.Add(new Probe(level, met));
            if (met)
            {
                pass = level;
            }
            else
            {
                fail = level;
            }

            if (pass >= maxLevel || fail <= minLevel)
            {
                break;
            }

            if (double.IsPositiveInfinity(fail))
            {
                level = Math.Min(pass * 2, maxLevel);
            }
            else if (pass == 0)
            {
                level = Math.Max(fail / 2, minLevel);
            }
            else if (fail / pass <= resolution)
            {
                break;
            }
            else
            {
                // Geometric midpoint, rounded to 1/64 so levels read well and the arrival thinning is repeatable.
                level = Math.Round(Math.Sqrt(pass * fail) * 64) / 64;
                if (level <= pass || level >= fail)
                {
                    break;
                }
            }
        }

        return (pass, probes);
    }
}
