// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using Nexus.Node.Pool;

namespace Nexus.Node.Tests;

/// <summary>
/// The END + REPORT entry (<see cref="ReportLine"/>) is formatted from integers; it must stay byte for byte the line the
/// node wrote before with double formatting (<c>0.00</c>), which is Lambda's format that log readers parse.
/// </summary>
public sealed class ReportLineTests
{
    [Fact]
    public void A_report_is_lambdas_line()
    {
        Assert.Equal(
            "END RequestId: abc\nREPORT RequestId: abc\tDuration: 2.35 ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\tMax Memory Used: 35 MB",
            ReportLine.Format("abc", TimeSpan.FromTicks(23_456), 128, (35L * 1024 * 1024) + 1000, null, null));
        Assert.Equal(
            "END RequestId: abc\nREPORT RequestId: abc\tDuration: 1000.00 ms\tBilled Duration: 1000 ms\tMemory Size: 3008 MB\tMax Memory Used: 0 MB\tInit Duration: 120.05 ms\tStatus: timeout",
            ReportLine.Format("abc", TimeSpan.FromSeconds(1), 3008, 0, TimeSpan.FromTicks(1_200_450), "timeout"));
    }

    /// <summary>Against the formula it replaced, over durations that hit every rounding case (x.xx5 ms and its neighbours included).</summary>
    [Fact]
    public void Every_figure_is_formatted_as_the_double_formatting_did()
    {
        var random = new Random(15);
        List<long> ticks = [0, 1, 49, 50, 51, 99, 100, 149, 150, 9_999, 10_000, 10_001, 12_345_650, 12_345_649, 99_999_950, TimeSpan.FromMinutes(15).Ticks + 50];
        for (var i = 0; i < 50_000; i++)
        {
            var scale = random.Next(3, 11);
            var value = random.NextInt64((long)Math.Pow(10, scale));
            ticks.Add(value);

            // The midpoint and its neighbours of a random duration.
            ticks.Add((value / 100 * 100) + 50);
            ticks.Add((value / 100 * 100) + 49);
        }

        foreach (var t in ticks)
        {
            var run = TimeSpan.FromTicks(t);
            var init = TimeSpan.FromTicks(t / 3);
            var memory = t % 4096;
            var expected = string.Create(
                CultureInfo.InvariantCulture,
                $"END RequestId: r\nREPORT RequestId: r\tDuration: {run.TotalMilliseconds:0.00} ms\tBilled Duration: {Math.Ceiling(run.TotalMilliseconds):0} ms\tMemory Size: 512 MB\tMax Memory Used: {(memory * 1_000_003) / (1024 * 1024)} MB")
                + string.Create(CultureInfo.InvariantCulture, $"\tInit Duration: {init.TotalMilliseconds:0.00} ms");
            Assert.Equal(expected, ReportLine.Format("r", run, 512, memory * 1_000_003, init, null));
        }
    }
}
