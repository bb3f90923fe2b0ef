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
}

/// <summary>One spool and writer count: acknowledgement latencies in milliseconds, puts per second, fsync/fdatasync calls per put (acknowledgement and retirement).</summary>
public sealed record SpoolBenchResult(string Spool, int Writers, Percentiles LatencyMs, double PutsPerSecond, double SyncsPerPut);

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

        async Task PutOnceAsync(long n)
        {
            var key = "bench/" + n;
            var t0 = Stopwatch.GetTimestamp();
            Func<Task> retirement;
            if (journal is not null)
            {
                var entry = await journal.AppendAsync(new JournalMeta("bench", key, null, metadata), new MemoryStream(body, writable: false), body.Length, cancellationToken).ConfigureAwait(false);
                retirement = () =>
                {
                    journal.Retire(entry);
                    return Task.CompletedTask;
                };
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

        // Each writer on a thread of its own: a put blocks its thread in the group sync, and writers as thread-pool tasks
        // ran only as many at once as the pool had threads (two at times on the 2-core machine, so an "8 writers" row
        // measured about one writer).
        await Task.WhenAll(Enumerable.Range(0, writers).Select(_ => Task.Factory.StartNew(
            () =>
            {
                while (true)
                {
                    var n = Interlocked.Increment(ref issued) - 1;
                    if (n >= total)
                    {
                        return;
                    }

                    if (n == options.Warmup)
                    {
                        Interlocked.Exchange(ref started, Stopwatch.GetTimestamp());
                        Interlocked.Exchange(ref syncsBefore, journal?.Syncs ?? 0);
                    }

                    PutOnceAsync(n).GetAwaiter().GetResult();
                }
            },
            cancellationToken,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default))).ConfigureAwait(false);
        var seconds = Stopwatch.GetElapsedTime(Interlocked.Read(ref started)).TotalSeconds;
        // Per file: fsync of the file, of the directory after the rename and after the unlink.
        var syncs = journal is null ? 3.0 : (double)(journal.Syncs - Interlocked.Read(ref syncsBefore)) / options.Puts;
        retire.Writer.Complete();
        await Task.WhenAll(retirers).ConfigureAwait(false);
        journal?.Dispose();
        return new SpoolBenchResult(spool, writers, Percentiles.Of(latencies), options.Puts / seconds, syncs);
    }
}
