// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Text;

namespace Nexus.Bench.Trace;

/// <summary>Writes a trace as the InVitro loader's invocations.csv, durations.csv and memory.csv.</summary>
public static class TraceWriter
{
    public static void Write(TraceData trace, string directory)
    {
        Directory.CreateDirectory(directory);
        var inv = new StringBuilder("HashOwner,HashApp,HashFunction,Trigger");
        for (var m = 1; m <= trace.Minutes; m++)
        {
            inv.Append(CultureInfo.InvariantCulture, $",{m}");
        }

        inv.Append('\n');
        var dur = new StringBuilder("HashOwner,HashApp,HashFunction,Average,Count,Minimum,Maximum,percentile_Average_0,percentile_Average_1,percentile_Average_25,percentile_Average_50,percentile_Average_75,percentile_Average_99,percentile_Average_100\n");
        var mem = new StringBuilder("HashOwner,HashApp,HashFunction,SampleCount,AverageAllocatedMb,AverageAllocatedMb_pct1,AverageAllocatedMb_pct5,AverageAllocatedMb_pct25,AverageAllocatedMb_pct50,AverageAllocatedMb_pct75,AverageAllocatedMb_pct95,AverageAllocatedMb_pct99,AverageAllocatedMb_pct100\n");
        foreach (var f in trace.Functions)
        {
            inv.Append(CultureInfo.InvariantCulture, $"{f.HashOwner},{f.HashApp},{f.HashFunction},{f.Trigger},{string.Join(',', f.PerMinute)}\n");
            var d = f.Duration;
            dur.Append(CultureInfo.InvariantCulture, $"{f.HashOwner},{f.HashApp},{f.HashFunction},{d.Average:0.###},{d.Count},{d.Minimum:0.###},{d.Maximum:0.###},{d.P0:0.###},{d.P1:0.###},{d.P25:0.###},{d.P50:0.###},{d.P75:0.###},{d.P99:0.###},{d.P100:0.###}\n");
            var m = f.Memory;
            mem.Append(CultureInfo.InvariantCulture, $"{f.HashOwner},{f.HashApp},{f.HashFunction},{m.SampleCount},{m.Average:0.###},{m.P1:0.###},{m.P5:0.###},{m.P25:0.###},{m.P50:0.###},{m.P75:0.###},{m.P95:0.###},{m.P99:0.###},{m.P100:0.###}\n");
        }

        File.WriteAllText(Path.Combine(directory, "invocations.csv"), inv.ToString());
        File.WriteAllText(Path.Combine(directory, "durations.csv"), dur.ToString());
        File.WriteAllText(Path.Combine(directory, "memory.csv"), mem.ToString());
    }
}
