// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Nexus.Node.Metrics;

/// <summary>
/// Aggregates the measurements of one <see cref="Meter"/> and writes them in the Prometheus text exposition
/// format (version 0.0.4): counters as sums, histograms as cumulative buckets with _sum and _count, observable
/// gauges read at scrape time. Written here because no Prometheus exporter package is served to this project.
/// </summary>
public sealed class PrometheusExporter : IDisposable
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private readonly Lock _lock = new();
    private readonly MeterListener _listener = new();
    private readonly Dictionary<Instrument, Family> _families = [];
    private readonly List<Instrument> _order = [];
    private Dictionary<Instrument, Dictionary<string, double>>? _scrapeGauges;

    public PrometheusExporter(Meter meter)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, meter))
            {
                lock (_lock)
                {
                    _families[instrument] = new Family(instrument);
                    _order.Add(instrument);
                }

                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _listener.Start();
    }

    /// <summary>The current exposition text.</summary>
    public string Scrape()
    {
        lock (_lock)
        {
            _scrapeGauges = [];
        }

        // Observable instruments call back into Record, which fills _scrapeGauges.
        _listener.RecordObservableInstruments();
        var text = new StringBuilder();
        lock (_lock)
        {
            foreach (var instrument in _order)
            {
                _families[instrument].Write(text, _scrapeGauges!.GetValueOrDefault(instrument));
            }

            _scrapeGauges = null;
        }

        return text.ToString();
    }

    public void Dispose() => _listener.Dispose();

    /// <summary>Escapes a label value: backslash, double quote and newline, as the format requires.</summary>
    public static string EscapeLabel(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static string FormatValue(double value) =>
        double.IsPositiveInfinity(value) ? "+Inf"
        : double.IsNegativeInfinity(value) ? "-Inf"
        : double.IsNaN(value) ? "NaN"
        : value.ToString("R", CultureInfo.InvariantCulture);

    // Recorded on the invocation path (four measurements per invocation): labels sorted by name in place and written
    // into a reused builder, so that a series key costs its one string.
    [ThreadStatic]
    private static StringBuilder? s_labels;

    private static string LabelKey(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.Length == 0)
        {
            return "";
        }

        Span<int> order = tags.Length <= 16 ? stackalloc int[tags.Length] : new int[tags.Length];
        for (var i = 0; i < order.Length; i++)
        {
            var at = i;
            while (at > 0 && string.CompareOrdinal(tags[order[at - 1]].Key, tags[i].Key) > 0)
            {
                order[at] = order[at - 1];
                at--;
            }

            order[at] = i;
        }

        var text = s_labels ??= new StringBuilder(128);
        text.Clear();
        foreach (var i in order)
        {
            if (text.Length > 0)
            {
                text.Append(',');
            }

            text.Append(tags[i].Key).Append("=\"").Append(EscapeLabel(Convert.ToString(tags[i].Value, CultureInfo.InvariantCulture) ?? "")).Append('"');
        }

        return text.ToString();
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        lock (_lock)
        {
            if (instrument.IsObservable)
            {
                if (_scrapeGauges is not null)
                {
                    if (!_scrapeGauges.TryGetValue(instrument, out var values))
                    {
                        _scrapeGauges[instrument] = values = [];
                    }

                    values[LabelKey(tags)] = value;
                }

                return;
            }

            _families[instrument].Add(tags, value);
        }
    }

    private sealed class Family(Instrument instrument)
    {
        private const int RecentSets = 8;

        private readonly SortedDictionary<string, Series> _series = new(StringComparer.Ordinal);
        private readonly double[]? _bounds = instrument is Histogram<double> h
            ? (h.Advice?.HistogramBucketBoundaries?.ToArray() ?? NodeMetrics.DurationBuckets)
            : null;

        // The series of the label sets recorded last, most recent first: an invocation records the same few label sets
        // as the ones before it, which then cost neither a key string nor a lookup.
        private readonly List<(KeyValuePair<string, object?>[] Tags, Series Series)> _recent = [];

        public void Add(ReadOnlySpan<KeyValuePair<string, object?>> tags, double value)
        {
            var series = Recent(tags);
            if (series is null)
            {
                var key = LabelKey(tags);
                if (!_series.TryGetValue(key, out series))
                {
                    _series[key] = series = new Series(_bounds?.Length ?? 0);
                }

                if (_recent.Count == RecentSets)
                {
                    _recent.RemoveAt(RecentSets - 1);
                }

                _recent.Insert(0, (tags.ToArray(), series));
            }

            series.Sum += value;
            series.Count++;
            if (_bounds is not null)
            {
                var i = Array.BinarySearch(_bounds, value);
                series.Buckets[i >= 0 ? i : ~i]++;
            }
        }

        private Series? Recent(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            foreach (var (recent, series) in _recent)
            {
                if (recent.Length != tags.Length)
                {
                    continue;
                }

                var same = true;
                for (var i = 0; i < tags.Length && same; i++)
                {
                    same = string.Equals(recent[i].Key, tags[i].Key, StringComparison.Ordinal) && Equals(recent[i].Value, tags[i].Value);
                }

                if (same)
                {
                    return series;
                }
            }

            return null;
        }

        public void Write(StringBuilder text, Dictionary<string, double>? gauges)
        {
            var name = instrument.Name;
            var type = _bounds is not null ? "histogram" : instrument is ObservableGauge<int> or ObservableGauge<long> or ObservableGauge<double> ? "gauge" : "counter";
            var help = (instrument.Description ?? name).Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
            text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
            text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
            if (instrument.IsObservable)
            {
                foreach (var (key, value) in (gauges ?? []).OrderBy(g => g.Key, StringComparer.Ordinal))
                {
                    Sample(text, name, key, value);
                }

                return;
            }

            foreach (var (key, series) in _series)
            {
                if (_bounds is null)
                {
                    Sample(text, name, key, series.Sum);
                    continue;
                }

                long cumulative = 0;
                for (var i = 0; i <= _bounds.Length; i++)
                {
                    cumulative += series.Buckets[i];
                    var le = i < _bounds.Length ? FormatValue(_bounds[i]) : "+Inf";
                    var labels = key.Length == 0 ? $"le=\"{le}\"" : $"{key},le=\"{le}\"";
                    Sample(text, name + "_bucket", labels, cumulative);
                }

                Sample(text, name + "_sum", key, series.Sum);
                Sample(text, name + "_count", key, series.Count);
            }
        }

        private static void Sample(StringBuilder text, string name, string labels, double value)
        {
            text.Append(name);
            if (labels.Length > 0)
            {
                text.Append('{').Append(labels).Append('}');
            }

            text.Append(' ').Append(FormatValue(value)).Append('\n');
        }
    }

    private sealed class Series(int bounds)
    {
        public long[] Buckets { get; } = new long[bounds + 1];

        public double Sum { get; set; }

        public long Count { get; set; }
    }
}
