// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Threading.Channels;

namespace Nexus.Node;

/// <summary>
/// Asynchronous (Event) invocations. Each one is written and fsynced to the spool directory before the caller
/// gets 202, run by a bounded set of workers, and deleted once it ran for good; a node that stops or crashes replays
/// the spool at its next start, so an acknowledged event is not lost (it may run twice after a crash, as Lambda's may).
/// A run may ask for another attempt after a pause (a failed invocation, as Lambda retries): the event stays spooled
/// and is queued again then, without holding a worker meanwhile. The queue in memory holds no payload (each is read
/// from its file when it runs), and an event whose file is gone (<see cref="Discard"/>) is not run. The spool holds at
/// most a given number of bytes (node.json <c>eventQueueMaxMiB</c>): past it an event is refused, not acknowledged
/// (<see cref="EventQueueFullException"/>), so callers that queue faster than functions run cannot fill the node's disk.
/// One function's events hold at most their own share of it: those of a function that cannot run (at its concurrency
/// limit, its handler sleeping) are kept for hours, and would otherwise leave no room for any other function's.
/// </summary>
public sealed class EventQueue : IAsyncDisposable
{
    private readonly string _directory;
    private readonly Func<QueuedEvent, CancellationToken, Task<EventRerun?>> _run;
    private readonly Channel<QueuedEvent> _queue = System.Threading.Channels.Channel.CreateUnbounded<QueuedEvent>();
    private readonly CancellationTokenSource _stop = new();
    private readonly int _workerCount;
    private readonly long _maxSpooledBytes;
    private readonly long _maxFunctionBytes;

    // Each spooled file's function and size, counted in _spooledBytes and _functionBytes until it is deleted (once,
    // whoever deletes it).
    private readonly ConcurrentDictionary<string, (string Function, long Size)> _spooled = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _functionBytes = new(StringComparer.Ordinal);
    private Task[] _workers = [];
    private int _pending;
    private long _spooledBytes;

    /// <summary>
    /// Queues the spool's events again; <see cref="Start"/> then runs them, and every event queued after, with
    /// <paramref name="workers"/> workers. A throwing run leaves its event spooled; a run that returns an
    /// <see cref="EventRerun"/> has its event run again after its pause (its <see cref="QueuedEvent.Attempt"/> one more,
    /// or, when it did not run, its <see cref="QueuedEvent.Deferrals"/>), a run that returns null ends it.
    /// Events past <paramref name="maxSpooledBytes"/> in the spool are refused (the spool found at the start may hold more:
    /// it is run, and events are taken again once it holds less), and so are a function's past
    /// <paramref name="maxFunctionBytes"/> of its own.
    /// </summary>
    public EventQueue(string directory, int workers, Func<QueuedEvent, CancellationToken, Task<EventRerun?>> run, long maxSpooledBytes = long.MaxValue, long maxFunctionBytes = long.MaxValue)
    {
        _directory = directory;
        _run = run;
        _workerCount = workers;
        _maxSpooledBytes = maxSpooledBytes;
        _maxFunctionBytes = maxFunctionBytes;
        Directory.CreateDirectory(directory);
        foreach (var temp in Directory.EnumerateFiles(directory, "*.tmp"))
        {
            File.Delete(temp);
        }

        foreach (var file in Directory.EnumerateFiles(directory, "*.event").Order(StringComparer.Ordinal))
        {
            if (Read(file, withPayload: false) is { } queued)
            {
                Count(file, queued.Function, new FileInfo(file).Length);
                Interlocked.Increment(ref _pending);
                _queue.Writer.TryWrite(queued);
            }
        }
    }

    /// <summary>
    /// Starts running events: once what they may call is up (the node starts it after its API, which a replayed event's
    /// handler may invoke other functions through). Events queued before wait until then.
    /// </summary>
    public void Start()
    {
        if (_workers.Length == 0)
        {
            _workers = [.. Enumerable.Range(0, _workerCount).Select(_ => WorkAsync())];
        }
    }

    public int Pending => Volatile.Read(ref _pending);

    /// <summary>Bytes of the events spooled and not yet ended (their files: a header line pair and the payload).</summary>
    public long SpooledBytes => Interlocked.Read(ref _spooledBytes);

    /// <summary>
    /// Spools one event durably, then queues it. The file: the function's name, a line of the request id and (after a
    /// space) the trace header the invocation runs with, then the payload.
    /// </summary>
    public async Task EnqueueAsync(string function, ReadOnlyMemory<byte> payload, string requestId, string? traceId, CancellationToken cancellationToken)
    {
        var name = string.Create(CultureInfo.InvariantCulture, $"{DateTime.UtcNow.Ticks:D19}-{requestId}");
        var path = Path.Combine(_directory, name + ".event");
        var temp = path + ".tmp";
        var header = Encoding.UTF8.GetBytes(function + "\n" + requestId + (traceId is null ? "" : " " + traceId) + "\n");
        var size = header.Length + payload.Length;

        // Reserved before the write, so that concurrent callers cannot pass the limit together.
        if (Interlocked.Add(ref _spooledBytes, size) > _maxSpooledBytes)
        {
            Interlocked.Add(ref _spooledBytes, -size);
            throw new EventQueueFullException(string.Create(CultureInfo.InvariantCulture, $"the node's event queue is full: {Pending} events ({SpooledBytes >> 20} MiB) wait to run, at most {_maxSpooledBytes >> 20} MiB (node.json eventQueueMaxMiB); retry later"));
        }

        if (_functionBytes.AddOrUpdate(function, size, (_, held) => held + size) > _maxFunctionBytes)
        {
            _functionBytes.AddOrUpdate(function, 0, (_, held) => held - size);
            Interlocked.Add(ref _spooledBytes, -size);
            throw new EventQueueFullException(string.Create(CultureInfo.InvariantCulture, $"the events of '{function}' waiting to run hold their share of the node's event queue, at most {_maxFunctionBytes >> 20} MiB (half of node.json eventQueueMaxMiB); retry later"));
        }

        try
        {
            await using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                await stream.WriteAsync(header, cancellationToken);
                await stream.WriteAsync(payload, cancellationToken);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, path);
            Nexus.Interop.DirectorySync.Fsync(_directory);
        }
        catch
        {
            // Not acknowledged: nothing of it may stay to run later (a full disk fails the write or the flush).
            Interlocked.Add(ref _spooledBytes, -size);
            _functionBytes.AddOrUpdate(function, 0, (_, held) => held - size);
            File.Delete(temp);
            File.Delete(path);
            throw;
        }

        _spooled[path] = (function, size);
        Interlocked.Increment(ref _pending);
        _queue.Writer.TryWrite(new QueuedEvent(function, requestId, [], path) { TraceId = traceId });
    }

    /// <summary>
    /// Drops every spooled event of <paramref name="function"/> (it was removed: as Lambda discards a deleted function's
    /// queued events, they never run, not even against a function of that name deployed later); returns how many. Those
    /// already queued in memory are skipped when their turn comes, their file being gone.
    /// </summary>
    public int Discard(string function)
    {
        var dropped = 0;
        var header = Encoding.UTF8.GetBytes(function + "\n");
        var buffer = new byte[header.Length];
        foreach (var file in Directory.EnumerateFiles(_directory, "*.event"))
        {
            try
            {
                int read;
                using (var stream = File.OpenRead(file))
                {
                    read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
                }

                if (read == buffer.Length && buffer.AsSpan().SequenceEqual(header))
                {
                    Delete(file);
                    dropped++;
                }
            }
            catch (FileNotFoundException)
            {
                // It ran and ended meanwhile.
            }
        }

        if (dropped > 0)
        {
            Nexus.Interop.DirectorySync.Fsync(_directory);
        }

        return dropped;
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _stop.CancelAsync();
        await Task.WhenAll(_workers);
        _stop.Dispose();
    }

    private void Count(string path, string function, long size)
    {
        if (_spooled.TryAdd(path, (function, size)))
        {
            Interlocked.Add(ref _spooledBytes, size);
            _functionBytes.AddOrUpdate(function, size, (_, held) => held + size);
        }
    }

    // An event ended (ran, discarded, torn): its file goes, and its bytes leave the count once.
    private void Delete(string path)
    {
        File.Delete(path);
        if (_spooled.TryRemove(path, out var spooled))
        {
            Interlocked.Add(ref _spooledBytes, -spooled.Size);
            _functionBytes.AddOrUpdate(spooled.Function, 0, (_, held) => held - spooled.Size);
        }
    }

    // The event in its file, with or without its payload; null if the file is gone or torn (a torn one is deleted).
    private QueuedEvent? Read(string path, bool withPayload)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (FileNotFoundException)
        {
            return null;
        }

        var first = Array.IndexOf(bytes, (byte)'\n');
        var second = first < 0 ? -1 : Array.IndexOf(bytes, (byte)'\n', first + 1);
        if (second < 0)
        {
            Delete(path);
            return null;
        }

        // Spooled before events carried a trace: the line is the request id alone (which has no space).
        var ids = Encoding.UTF8.GetString(bytes, first + 1, second - first - 1).Split(' ', 2);
        return new QueuedEvent(Encoding.UTF8.GetString(bytes, 0, first), ids[0], withPayload ? bytes[(second + 1)..] : [], path) { TraceId = ids.Length > 1 ? ids[1] : null };
    }

    // Still pending and spooled while it waits; a node that stops meanwhile runs it at its next start.
    private async Task RunAgainAsync(QueuedEvent queued, TimeSpan pause)
    {
        try
        {
            await Task.Delay(pause, _stop.Token);
            if (_queue.Writer.TryWrite(queued))
            {
                return;
            }
        }
        catch (OperationCanceledException)
        {
        }

        Interlocked.Decrement(ref _pending);
    }

    private async Task WorkAsync()
    {
        await Task.Yield();
        try
        {
            await foreach (var next in _queue.Reader.ReadAllAsync(_stop.Token))
            {
                // ReadAllAsync goes on handing out what is queued after the stop: the rest stays spooled for the next start.
                if (_stop.IsCancellationRequested)
                {
                    break;
                }

                var again = false;
                try
                {
                    if (Read(next.SpoolPath, withPayload: true) is not { } loaded)
                    {
                        continue; // discarded with its function
                    }

                    var queued = loaded with { Attempt = next.Attempt, Deferrals = next.Deferrals };
                    if (await _run(queued, _stop.Token) is { } rerun)
                    {
                        again = true;
                        _ = RunAgainAsync(rerun.DidNotRun ? next with { Deferrals = next.Deferrals + 1 } : next with { Attempt = next.Attempt + 1, Deferrals = 0 }, rerun.Pause);
                    }
                    else
                    {
                        Delete(queued.SpoolPath);
                    }
                }
                catch (Exception) when (!_stop.IsCancellationRequested)
                {
                    // The runner logged why; the event stays spooled and runs again at the next start.
                }
                finally
                {
                    if (!again)
                    {
                        Interlocked.Decrement(ref _pending);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}

/// <summary>One spooled asynchronous invocation.</summary>
public sealed record QueuedEvent(string Function, string RequestId, byte[] Payload, string SpoolPath)
{
    /// <summary>Which run of the event this is, from 1 (a replay after a restart starts again at 1).</summary>
    public int Attempt { get; init; } = 1;

    /// <summary>The trace header it runs with (its chain's lineage); null: spooled without one, it gets a new root.</summary>
    public string? TraceId { get; init; }

    /// <summary>How many times in a row it could not run (throttled, no sandbox): its back-off.</summary>
    public int Deferrals { get; init; }
}

/// <summary>
/// When an event that could not run (throttled, no sandbox) is tried again: after 1 s, doubling up to 5 min, until it
/// is <c>maxAge</c> old (from its acknowledgement), then never (null): as Lambda retries throttled and failed-to-start
/// asynchronous invocations until their maximum event age.
/// </summary>
public static class EventDeferral
{
    private static readonly TimeSpan s_longestPause = TimeSpan.FromMinutes(5);

    public static EventRerun? Next(int deferrals, TimeSpan age, TimeSpan maxAge)
    {
        var pause = TimeSpan.FromSeconds(1L << Math.Min(deferrals, 9));
        pause = pause < s_longestPause ? pause : s_longestPause;
        return age + pause <= maxAge ? new EventRerun(pause, DidNotRun: true) : null;
    }
}

/// <summary>
/// A run's request that its event run again after <paramref name="Pause"/>: a failed invocation (Lambda retries one),
/// or, with <paramref name="DidNotRun"/>, one that found no room or no sandbox (not one of its attempts).
/// </summary>
public readonly record struct EventRerun(TimeSpan Pause, bool DidNotRun = false);
