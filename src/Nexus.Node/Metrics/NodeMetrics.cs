// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics.Metrics;
using Nexus.Backend.Prefetch;
using Nexus.Backend.WriteBack;

namespace Nexus.Node.Metrics;

/// <summary>The node's instruments (System.Diagnostics.Metrics), named as they appear in the Prometheus exposition.</summary>
public sealed class NodeMetrics : IDisposable
{
    public const string MeterName = "Nexus.Node";

    /// <summary>Invocation latency buckets in seconds: from a warm in-memory call to a long function.</summary>
    public static readonly double[] DurationBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900];

    private readonly Meter _meter;
    private readonly Counter<long> _invocations;
    private readonly Counter<long> _coldStarts;
    private readonly Counter<long> _warmStarts;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _instanceStarts;
    private readonly Counter<long> _instanceStops;
    private readonly Counter<long> _errors;
    private readonly Counter<double> _invokePathCpu;
    private readonly Counter<double> _invokeBudgetWait;

    public NodeMetrics(Func<IEnumerable<(string Function, string State, int Count)>>? instances = null, Func<int>? pending = null, Func<WriteBackStats?>? writeBack = null, Func<PrefetchSnapshot>? prefetch = null)
    {
        _meter = new Meter(MeterName);
        _invocations = _meter.CreateCounter<long>("nexus_invocations_total", description: "Invocations by function and outcome (success, error, timeout, oom, crashed, init_error, throttled).");
        _coldStarts = _meter.CreateCounter<long>("nexus_cold_starts_total", description: "Invocations that started a new instance.");
        _warmStarts = _meter.CreateCounter<long>("nexus_warm_starts_total", description: "Invocations served by an idle warm instance.");
        _duration = _meter.CreateHistogram<double>(
            "nexus_invocation_duration_seconds",
            unit: "s",
            description: "End-to-end invocation latency inside the node, by function and start kind.",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        _instanceStarts = _meter.CreateCounter<long>("nexus_instance_starts_total", description: "Instances started, by function.");
        _instanceStops = _meter.CreateCounter<long>("nexus_instance_stops_total", description: "Instances stopped, by function and reason.");
        _errors = _meter.CreateCounter<long>("nexus_errors_total", description: "Errors by kind.");
        _invokePathCpu = _meter.CreateCounter<double>("nexus_invoke_path_cpu_seconds_total", unit: "s", description: "The node's CPU time on warm invocation paths, billed to each function's invoke budget.");
        _invokeBudgetWait = _meter.CreateCounter<double>("nexus_invoke_budget_wait_seconds_total", unit: "s", description: "Time invocations waited at the invoke entry because their function was over its invoke budget.");
        if (instances is not null)
        {
            _meter.CreateObservableGauge(
                "nexus_instances",
                () => instances().Select(i => new Measurement<int>(i.Count, new("function", i.Function), new("state", i.State))),
                description: "Instances by function and state (starting, idle, busy).");
        }

        if (pending is not null)
        {
            _meter.CreateObservableGauge("nexus_pending_invocations", pending, description: "Invocations waiting for an instance or queued as events.");
        }

        if (writeBack is not null)
        {
            _meter.CreateObservableGauge("nexus_writeback_pending", () => writeBack()?.Pending ?? 0, description: "Acknowledged writes not yet uploaded to storage.");
            _meter.CreateObservableGauge("nexus_writeback_pending_bytes", () => writeBack()?.PendingBytes ?? 0, unit: "By", description: "Bytes of acknowledged writes not yet uploaded.");
            _meter.CreateObservableGauge("nexus_writeback_failing", () => writeBack()?.Failing ?? 0, description: "Keys whose last upload attempt failed (retried with backoff).");
            _meter.CreateObservableCounter("nexus_writeback_uploaded_total", () => writeBack()?.Uploaded ?? 0, description: "Spooled writes uploaded.");
            _meter.CreateObservableCounter("nexus_writeback_retries_total", () => writeBack()?.Retries ?? 0, description: "Failed upload attempts that were retried.");
            _meter.CreateObservableGauge("nexus_writeback_dead_letters", () => writeBack()?.DeadLetters ?? 0, description: "Acknowledged writes storage refused for good (their bucket is gone), kept in the spool for the operator.");
            _meter.CreateObservableGauge("nexus_writeback_dead_letter_bytes", () => writeBack()?.DeadLetterBytes ?? 0, unit: "By", description: "Bytes of the write-back dead letters.");
            _meter.CreateObservableCounter("nexus_writeback_superseded_total", () => writeBack()?.Superseded ?? 0, description: "Spooled writes replaced by a newer write of the same key before their upload.");
        }

        if (prefetch is not null)
        {
            _meter.CreateObservableCounter("nexus_prefetch_hits_total", () => prefetch().Hits, description: "GetObjects served from a prefetched copy (no storage round trip).");
            _meter.CreateObservableCounter("nexus_prefetch_hits_at_once_total", () => prefetch().HitsAtOnce, description: "Prefetch hits answered on the doorbell thread itself (the copy was ready and needed no revalidation: no thread-pool hop).");
            _meter.CreateObservableCounter("nexus_prefetch_misses_total", () => prefetch().Misses, description: "GetObjects of prefetching functions that went to storage.");
            _meter.CreateObservableCounter("nexus_prefetch_fetched_bytes_total", () => prefetch().FetchedBytes, unit: "By", description: "Bytes prefetched into instances' regions.");
            _meter.CreateObservableCounter("nexus_prefetch_cached_total", () => prefetch().FromCache, description: "Prefetched copies laid out from the node's cache of recent inputs instead of fetched (each revalidated before it answers).");
            _meter.CreateObservableCounter("nexus_prefetch_wasted_bytes_total", () => prefetch().WastedBytes, unit: "By", description: "Prefetched bytes never read (dropped at the end of the invocation, or stale).");
            _meter.CreateObservableCounter("nexus_prefetch_stale_total", () => prefetch().Stale, description: "Prefetched copies not served because the object changed meanwhile.");
            _meter.CreateObservableCounter("nexus_prefetch_skipped_total", () => prefetch().Skipped, description: "Hinted objects not prefetched (over the size cap, no free slots, fetch failed).");
            _meter.CreateObservableCounter("nexus_prefetch_denied_total", () => prefetch().Denied, description: "Hinted objects the function may not read (never fetched).");
        }
    }

    public Meter Meter => _meter;

    public void Invocation(string function, string outcome, bool cold, TimeSpan duration)
    {
        var f = new KeyValuePair<string, object?>("function", function);
        _invocations.Add(1, f, new("outcome", outcome));
        (cold ? _coldStarts : _warmStarts).Add(1, f);
        _duration.Record(duration.TotalSeconds, f, new("start", cold ? "cold" : "warm"));
    }

    public void Throttled(string function) => _invocations.Add(1, new("function", function), new("outcome", "throttled"));

    public void InstanceStarted(string function) => _instanceStarts.Add(1, new KeyValuePair<string, object?>("function", function));

    public void InstanceStopped(string function, string reason) => _instanceStops.Add(1, new("function", function), new("reason", reason));

    public void InvokePath(string function, TimeSpan cpu, TimeSpan waited)
    {
        _invokePathCpu.Add(cpu.TotalSeconds, new KeyValuePair<string, object?>("function", function));
        if (waited > TimeSpan.Zero)
        {
            _invokeBudgetWait.Add(waited.TotalSeconds, new KeyValuePair<string, object?>("function", function));
        }
    }

    public void Error(string kind) => _errors.Add(1, new KeyValuePair<string, object?>("kind", kind));

    public void Dispose() => _meter.Dispose();
}
