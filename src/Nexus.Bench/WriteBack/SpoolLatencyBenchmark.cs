// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using Nexus.Backend.WriteBack;

namespace Nexus.Bench.WriteBack;

/// <summary>What <see cref="SpoolLatencyBenchmark"/> runs.</summary>
public sealed record SpoolBenchOptions
{
    /// <summary>Where the spools are made (a fresh folder under it per case): the disk being measured.</summary>
    public required string Directory { get; init; }

    public IReadOnlyList<int> Writers { get; init; } = [1, 8];

    /// <summary>Acknowledged puts measured per case (after <see cref="Warmup"/> unmeasured ones).</summary>
    public int Puts { get; init; } = 4000;

    public int Warmup { get; init; } = 200;

    public int BodyBytes { get; init; } = 1024;

    /// <summary>How the writers call the spool: as the node does (pool) or each on a thread of its own (threads).</summary>
    public SpoolCallers Callers { get; init; } = SpoolCallers.Pool;
}

/// <summary>Who runs the benchmark's writers.</summary>
public enum SpoolCallers
{
    /// <summary>Each writer on a dedicated thread, calling the spool synchronously.</summary>
    Threads,

    /// <summary>
    /// Each writer a chain of async calls on the thread pool, every put started as a new work item: as the node's
    /// backend calls the spool from its request handling.
    /// </summary>
    Pool,
}

/// <summary>
/// One spool and writer count: acknowledgement latencies in milliseconds, puts per second, fsync/fdatasync calls per put
/// (acknowledgement and retirement), and how long a trivial thread-pool work item queued every millisecond waited to
/// run meanwhile (what every other pool work item of a node would have waited).
/// </summary>
public sealed record SpoolBenchResult(string Spool, int Writers, Percentiles LatencyMs, double PutsPerSecond, double SyncsPerPut, Percentiles PoolDelayMs);

/// <summary>
/// Spool acknowledgement latency, the time from a put's first byte to the moment it may be acknowledged, for the
/// per-file spool (<see cref="SpoolFile"/>: file, fsync, rename, directory fsync) and the journal
/// (<see cref="SpoolJournal"/>: append, one fdatasync per batch), under N writers putting back to back. Each write is
/// retired as soon as it is acknowledged (as if its upload were instant: the file unlinked with a directory fsync, the
/// record marked with an fdatasync), so the disk also carries the retirement work a node does.
/// </summary>
public static class SpoolLatencyBenchmark
{
    public static async Task<IReadOnlyList<SpoolBenchResult>> RunAsync(SpoolBenchOptions options, Action<string> progress, CancellationToken cancellationToken)
    {
        var results = new List<SpoolBenchResult>();
        foreach (var writers in options.Writers)
        {
            foreach (var spool in new[] { "per-file", "journal" })
            {
                var folder = System.IO.Directory.CreateDirectory(Path.Combine(options.Directory, "nexus-spool-bench-" + Guid.NewGuid().ToString("N"))).FullName;
                try
                {
                    progress($"{spool}, {writers} writer(s), {options.Puts} puts of {options.BodyBytes} bytes in {folder}");
                    results.Add(await RunCaseAsync(spool, writers, folder, options, cancellationToken).ConfigureAwait(false));
                }
                finally
                {
                    System.IO.Directory.Delete(folder, recursive: true);
                }
            }
        }

        return results;
    }

    private static async Task<SpoolBenchResult> RunCaseAsync(string spool, int writers, string folder, SpoolBenchOptions options, CancellationToken cancellationToken)
    {
        var body = new byte[options.BodyBytes];
        Random.Shared.NextBytes(body);
        var metadata = new Dictionary<string, string>();
        SpoolJournal? journal = spool == "journal" ? SpoolJournal.Open(folder).Journal : null;
        var retire = System.Threading.Channels.Channel.CreateUnbounded<Func<Task>>();
        // As many retirers as a node has uploaders (NexusBackendOptions.Uploaders, 4).
        var retirers = Enumerable.Range(0, 4).Select(_ => Task.Run(
            async () =>
            {
                await foreach (var work in retire.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
                {
                    await work().ConfigureAwait(false);
                }
            },
            CancellationToken.None)).ToArray();
        long sequence = 0;
        var total = options.Warmup + options.Puts;
        long issued = 0;
        var latencies = new double[options.Puts];
        var started = 0L;
        var syncsBefore = 0L;

        using var probe = new PoolProbe();
        // Stamps a put's latency from t0, when its caller issued it, to the moment the caller continues with it acknowledged.
        async Task PutOnceAsync(long n, long t0)
        {
            var key = "bench/" + n;
            Func<Task> retirement;
            if (journal is not null)
            {
                var entry = await journal.AppendAsync(new JournalMeta("bench", key, null, metadata), new MemoryStream(body, writable: false), body.Length, cancellationToken).ConfigureAwait(false);
                retirement = () => journal.RetireAsync(entry).AsTask();
            }
            else
            {
                var (_, path) = await SpoolFile.WriteAsync(folder, Interlocked.Increment(ref sequence), "bench", key, null, metadata, new MemoryStream(body, writable: false), body.Length, cancellationToken).ConfigureAwait(false);
                retirement = () =>
                {
                    SpoolFile.Delete(path);
                    return Task.CompletedTask;
                };
            }

            var elapsed = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            if (n >= options.Warmup)
            {
                latencies[n - options.Warmup] = elapsed;
            }

            retire.Writer.TryWrite(retirement);
        }

        // The next put's number, or -1 once all are issued; the measured span starts with the first put after the warm-up.
        long Next()
        {
            var n = Interlocked.Increment(ref issued) - 1;
            if (n >= total)
            {
                return -1;
            }

            if (n == options.Warmup)
            {
                Interlocked.Exchange(ref syncsBefore, journal?.Syncs ?? 0);
                Interlocked.Exchange(ref started, Stopwatch.GetTimestamp());
                probe.Start();
            }

            return n;
        }

        var writing = options.Callers == SpoolCallers.Threads
            ? Enumerable.Range(0, writers).Select(_ => Task.Factory.StartNew(
                () =>
                {
                    // A put blocks a writer's thread in the group sync: as pool tasks, only as many writers ran at
                    // once as the pool had threads.
                    for (var n = Next(); n >= 0; n = Next())
                    {
                        PutOnceAsync(n, Stopwatch.GetTimestamp()).GetAwaiter().GetResult();
                    }
                },
                cancellationToken,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default))
            : Enumerable.Range(0, writers).Select(_ => Task.Run(
                async () =>
                {
                    for (var n = Next(); n >= 0; n = Next())
                    {
                        // Each put arrives as a new work item, as a request does at the node; its wait for a pool
                        // thread counts in its latency.
                        var t0 = Stopwatch.GetTimestamp();
                        await Task.Yield();
                        await PutOnceAsync(n, t0).ConfigureAwait(false);
                    }
                },
                cancellationToken));
        await Task.WhenAll(writing).ConfigureAwait(false);
        var seconds = Stopwatch.GetElapsedTime(Interlocked.Read(ref started)).TotalSeconds;
        // Per file: fsync of the file, of the directory after the rename and after the unlink.
        var syncs = journal is null ? 3.0 : (double)(journal.Syncs - Interlocked.Read(ref syncsBefore)) / options.Puts;
        retire.Writer.Complete();
        await Task.WhenAll(retirers).ConfigureAwait(false);
        journal?.Dispose();
        return new SpoolBenchResult(spool, writers, Percentiles.Of(latencies), options.Puts / seconds, syncs, probe.Stop());
    }

    /// <summary>
    /// Queues a trivial work item to the thread pool every millisecond (from a thread of its own) and records how long
    /// each waited to run: the pool's responsiveness to everything else while the writers run.
    /// </summary>
    private sealed class PoolProbe : IDisposable
    {
        // About 17 minutes of samples: more than any case takes.
        private readonly double[] _delaysMs = new double[1 << 20];
        private readonly CancellationTokenSource _stop = new();
        private Thread? _thread;
        private int _count;

        public void Start()
        {
            _thread = new Thread(Run) { IsBackground = true, Name = "pool probe" };
            _thread.Start();
        }

        public Percentiles Stop()
        {
            _stop.Cancel();
            _thread?.Join();
            return Percentiles.Of(new ArraySegment<double>(_delaysMs, 0, Math.Min(Volatile.Read(ref _count), _delaysMs.Length)));
        }

        public void Dispose()
        {
            _stop.Cancel();
            _stop.Dispose();
        }

        private void Run()
        {
            while (!_stop.IsCancellationRequested)
            {
                ThreadPool.UnsafeQueueUserWorkItem(
                    static (state) =>
                    {
                        var (probe, queuedAt) = state;
                        var delay = Stopwatch.GetElapsedTime(queuedAt).TotalMilliseconds;
                        var index = Interlocked.Increment(ref probe._count) - 1;
                        if (index < probe._delaysMs.Length)
                        {
                            probe._delaysMs[index] = delay;
                        }
                    },
                    (this, Stopwatch.GetTimestamp()),
                    preferLocal: false);
                Thread.Sleep(1);
            }
        }
    }
}
