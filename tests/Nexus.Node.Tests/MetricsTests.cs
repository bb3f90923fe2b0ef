// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Node.Metrics;

namespace Nexus.Node.Tests;

public sealed class MetricsTests
{
    [Fact]
    public void ExpositionHasHelpTypeCountersHistogramsAndGauges()
    {
        var writeBack = new Nexus.Backend.WriteBack.WriteBackStats(2, 4096, 1, 17, 5, 3, 0, TimeSpan.FromSeconds(2), DeadLetters: 1, DeadLetterBytes: 21);
        using var metrics = new NodeMetrics(() => [("f", "idle", 2), ("f", "busy", 1)], () => 3, () => writeBack);
        using var exporter = new PrometheusExporter(metrics.Meter);
        metrics.Invocation("f", "success", cold: true, TimeSpan.FromMilliseconds(30));
        metrics.Invocation("f", "success", cold: false, TimeSpan.FromMilliseconds(3));
        metrics.Invocation("f", "success", cold: false, TimeSpan.FromMilliseconds(4));
        metrics.Invocation("f", "timeout", cold: false, TimeSpan.FromSeconds(3));
        metrics.InstanceStarted("f");
        metrics.InstanceStopped("f", "timeout");
        metrics.Error("timeout");

        var lines = exporter.Scrape().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("# TYPE nexus_invocations_total counter", lines);
        Assert.Contains("nexus_invocations_total{function=\"f\",outcome=\"success\"} 3", lines);
        Assert.Contains("nexus_invocations_total{function=\"f\",outcome=\"timeout\"} 1", lines);
        Assert.Contains("nexus_cold_starts_total{function=\"f\"} 1", lines);
        Assert.Contains("nexus_warm_starts_total{function=\"f\"} 3", lines);
        Assert.Contains("# TYPE nexus_invocation_duration_seconds histogram", lines);
        Assert.Contains("nexus_invocation_duration_seconds_bucket{function=\"f\",start=\"warm\",le=\"0.0025\"} 0", lines);
        Assert.Contains("nexus_invocation_duration_seconds_bucket{function=\"f\",start=\"warm\",le=\"0.005\"} 2", lines);
        Assert.Contains("nexus_invocation_duration_seconds_bucket{function=\"f\",start=\"warm\",le=\"5\"} 3", lines);
        Assert.Contains("nexus_invocation_duration_seconds_bucket{function=\"f\",start=\"warm\",le=\"+Inf\"} 3", lines);
        Assert.Contains("nexus_invocation_duration_seconds_count{function=\"f\",start=\"warm\"} 3", lines);
        Assert.Contains("nexus_invocation_duration_seconds_bucket{function=\"f\",start=\"cold\",le=\"0.05\"} 1", lines);
        Assert.Single(lines, l => l.StartsWith("nexus_invocation_duration_seconds_sum{function=\"f\",start=\"warm\"} 3.00", StringComparison.Ordinal));
        Assert.Contains("# TYPE nexus_instances gauge", lines);
        Assert.Contains("nexus_instances{function=\"f\",state=\"idle\"} 2", lines);
        Assert.Contains("nexus_instances{function=\"f\",state=\"busy\"} 1", lines);
        Assert.Contains("nexus_pending_invocations 3", lines);
        Assert.Contains("nexus_instance_stops_total{function=\"f\",reason=\"timeout\"} 1", lines);
        Assert.Contains("nexus_errors_total{kind=\"timeout\"} 1", lines);
        Assert.Contains("# TYPE nexus_writeback_pending gauge", lines);
        Assert.Contains("nexus_writeback_pending 2", lines);
        Assert.Contains("nexus_writeback_pending_bytes 4096", lines);
        Assert.Contains("# TYPE nexus_writeback_uploaded_total counter", lines);
        Assert.Contains("nexus_writeback_uploaded_total 17", lines);
        Assert.Contains("nexus_writeback_retries_total 5", lines);
        Assert.Contains("nexus_writeback_dead_letters 1", lines);
        Assert.Contains("nexus_writeback_dead_letter_bytes 21", lines);

        // Every sample line is "name{labels} value" or "name value" with a parseable value.
        foreach (var line in lines.Where(l => !l.StartsWith('#')))
        {
            var value = line[(line.LastIndexOf(' ') + 1)..];
            Assert.True(value == "+Inf" || double.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out _), line);
        }
    }

    [Fact]
    public void BucketsAreCumulativeAndMonotonic()
    {
        using var metrics = new NodeMetrics();
        using var exporter = new PrometheusExporter(metrics.Meter);
        foreach (var ms in new[] { 0.5, 2, 7, 70, 700, 7000, 70000, 7e6 })
        {
            metrics.Invocation("g", "success", cold: false, TimeSpan.FromMilliseconds(ms));
        }

        var counts = exporter.Scrape().Split('\n')
            .Where(l => l.StartsWith("nexus_invocation_duration_seconds_bucket{function=\"g\"", StringComparison.Ordinal))
            .Select(l => long.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture))
            .ToList();
        Assert.Equal(NodeMetrics.DurationBuckets.Length + 1, counts.Count);
        Assert.Equal(counts.Order(), counts);
        Assert.Equal(8, counts[^1]);
        Assert.Equal(1, counts[0]);
    }

    [Fact]
    public void LabelsInAnyOrderAreOneSeriesWrittenSortedByName()
    {
        using var meter = new System.Diagnostics.Metrics.Meter("nexus-label-test");
        using var exporter = new PrometheusExporter(meter);
        var counter = meter.CreateCounter<long>("t_total");
        counter.Add(1, new("zone", "z\"1"), new("app", "a"), new("kind", "k"));
        counter.Add(2, new("app", "a"), new("kind", "k"), new("zone", "z\"1"));
        counter.Add(4, new("kind", "k"), new("zone", "z\"1"), new("app", "a"));

        var lines = exporter.Scrape().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines, l => l.StartsWith("t_total{", StringComparison.Ordinal));
        Assert.Contains("t_total{app=\"a\",kind=\"k\",zone=\"z\\\"1\"} 7", lines);
    }

    [Fact]
    public void LabelValuesAreEscaped()
    {
        Assert.Equal("a\\\\b\\\"c\\nd", PrometheusExporter.EscapeLabel("a\\b\"c\nd"));
        using var metrics = new NodeMetrics();
        using var exporter = new PrometheusExporter(metrics.Meter);
        metrics.Error("we\"ird\nkind");
        Assert.Contains("nexus_errors_total{kind=\"we\\\"ird\\nkind\"} 1", exporter.Scrape(), StringComparison.Ordinal);
    }
}
