// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Nexus.Node.Logs;

/// <summary>
/// One append-only log file per function (<c>$NEXUS_HOME/logs/&lt;name&gt;.log</c>). Each line is
/// <c>&lt;UTC time&gt; &lt;instance id&gt; &lt;request id or -&gt; &lt;text&gt;</c>; followers get new lines as they are written.
/// A file that reaches the size limit becomes <c>&lt;name&gt;.log.1</c> (replacing the one before) and a new one starts, so
/// a function that prints without end holds at most twice the limit of the node's disk.
/// </summary>
public sealed class FunctionLogs : IDisposable
{
    /// <summary>The size limit of one log file unless the node says otherwise (node.json functionLogMaxMiB).</summary>
    public const long DefaultMaxFileBytes = 64L << 20;

    private readonly string _directory;
    private readonly TimeProvider _time;
    private readonly long _maxFileBytes;
    private readonly ConcurrentDictionary<string, LogFile> _files = new(StringComparer.Ordinal);

    public FunctionLogs(string directory, TimeProvider? time = null, long maxFileBytes = DefaultMaxFileBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxFileBytes, 1);
        _directory = directory;
        _time = time ?? TimeProvider.System;
        _maxFileBytes = maxFileBytes;
        Directory.CreateDirectory(directory);
    }

    public string PathOf(string function) => Path.Combine(_directory, function + ".log");

    /// <summary>Appends one line (a multi-line text is split so every line keeps its prefix).</summary>
    public void Write(string function, string instanceId, string? requestId, string text)
    {
        var file = _files.GetOrAdd(function, static (f, logs) => new LogFile(logs.PathOf(f), logs._maxFileBytes), this);

        // Written on every invocation (START, END + REPORT): only the time is taken here; the line is formatted when it
        // is written out (or at once for a follower).
        file.Append(new Entry(_time.GetUtcNow(), instanceId, requestId, text));
    }

    // Each line of the entry's text with the entry's prefix, formatted once for all its lines (END + REPORT are two).
    private static void Format(StringBuilder builder, in Entry entry)
    {
        var prefix = string.Create(CultureInfo.InvariantCulture, $"{entry.Time:yyyy-MM-ddTHH:mm:ss.fffZ} {entry.InstanceId} {entry.RequestId ?? "-"} ");
        var rest = entry.Text.AsSpan();
        while (true)
        {
            var end = rest.IndexOf('\n');
            builder.Append(prefix).Append((end < 0 ? rest : rest[..end]).TrimEnd('\r')).Append('\n');
            if (end < 0)
            {
                break;
            }

            rest = rest[(end + 1)..];
        }
    }

    /// <summary>The last <paramref name="lines"/> lines of a function's log.</summary>
    public IReadOnlyList<string> Tail(string function, int lines)
    {
        if (_files.TryGetValue(function, out var file))
        {
            file.Flush();
        }

        var path = PathOf(function);
        if (lines <= 0)
        {
            return [];
        }

        // The rotated file first: the current one may have started a moment ago.
        var tail = new Queue<string>(lines);
        foreach (var part in new[] { RotatedPath(path), path })
        {
            if (!File.Exists(part))
            {
                continue;
            }

            using var reader = new StreamReader(new FileStream(part, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete));
            while (reader.ReadLine() is { } line)
            {
                if (tail.Count == lines)
                {
                    tail.Dequeue();
                }

                tail.Enqueue(line);
            }
        }

        return [.. tail];
    }

    /// <summary>Lines written to a function's log from now on, until <paramref name="cancellationToken"/> fires.</summary>
    public async IAsyncEnumerable<string> FollowAsync(string function, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var file = _files.GetOrAdd(function, static (f, logs) => new LogFile(logs.PathOf(f), logs._maxFileBytes), this);
        var channel = System.Threading.Channels.Channel.CreateBounded<string>(new System.Threading.Channels.BoundedChannelOptions(10_000)
        {
            FullMode = System.Threading.Channels.BoundedChannelFullMode.DropOldest,
        });
        void OnLine(string text) => channel.Writer.TryWrite(text);
        file.Written += OnLine;
        try
        {
            await foreach (var text in channel.Reader.ReadAllAsync(cancellationToken))
            {
                foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    yield return line;
                }
            }
        }
        finally
        {
            file.Written -= OnLine;
        }
    }

    /// <summary>Deletes a removed function's log.</summary>
    public void Delete(string function)
    {
        Close(function);
        File.Delete(PathOf(function));
        File.Delete(RotatedPath(PathOf(function)));
    }

    private static string RotatedPath(string path) => path + ".1";

    /// <summary>
    /// Writes out and closes a removed function's log file, which stays readable; a later line opens it again. Without
    /// this, every function ever removed kept a descriptor open (`nexus bench soak` found it).
    /// </summary>
    public void Close(string function)
    {
        if (_files.TryRemove(function, out var file))
        {
            file.Dispose();
        }
    }

    public void Dispose()
    {
        foreach (var file in _files.Values)
        {
            file.Dispose();
        }

        _files.Clear();
    }

    private readonly record struct Entry(DateTimeOffset Time, string InstanceId, string? RequestId, string Text);

    // Appends are queued and written at most FlushDelayMs later, every line queued by then in one write(2), so an
    // invocation's START/END/REPORT lines and its handler's output cost it neither a write nor a thread's wake-up. Readers
    // of the file (Tail) and Dispose write out what is queued first, so they see every line appended before; followers
    // get each line at once. A node that dies loses at most the last FlushDelayMs of lines.
    private sealed class LogFile : IDisposable
    {
        private const int FlushDelayMs = 20;

        private readonly string _path;
        private readonly long _maxBytes;
        private readonly Lock _lock = new();
        private readonly ConcurrentQueue<Entry> _queued = new();
        private readonly Timer _flush;
        private int _flushScheduled;
        private FileStream? _stream;

        public LogFile(string path, long maxBytes)
        {
            _path = path;
            _maxBytes = maxBytes;
            _flush = new Timer(static file => ((LogFile)file!).Flush(), this, Timeout.Infinite, Timeout.Infinite);
        }

        public event Action<string>? Written;

        public void Append(in Entry entry)
        {
            _queued.Enqueue(entry);
            if (Written is { } written)
            {
                var text = new StringBuilder();
                Format(text, entry);
                written(text.ToString());
            }

            if (Interlocked.Exchange(ref _flushScheduled, 1) == 0)
            {
                _flush.Change(FlushDelayMs, Timeout.Infinite);
            }
        }

        /// <summary>Writes every queued line to the file now.</summary>
        public void Flush()
        {
            lock (_lock)
            {
                // Cleared before draining: an append that comes after the drain schedules the next pass.
                Volatile.Write(ref _flushScheduled, 0);
                if (_queued.IsEmpty)
                {
                    return;
                }

                var text = new StringBuilder();
                while (_queued.TryDequeue(out var queued))
                {
                    Format(text, queued);
                }

                var bytes = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(text.Length));
                try
                {
                    var length = Encoding.UTF8.GetBytes(text.ToString(), bytes);
                    _stream ??= new FileStream(_path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
                    _stream.Write(bytes, 0, length);
                    _stream.Flush();
                    if (_stream.Length >= _maxBytes)
                    {
                        // Full: it becomes the one old file kept, and the next lines start a new one.
                        _stream.Dispose();
                        _stream = null;
                        File.Move(_path, RotatedPath(_path), overwrite: true);
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(bytes);
                }
            }
        }

        public void Dispose()
        {
            _flush.Dispose();
            Flush();
            lock (_lock)
            {
                _stream?.Dispose();
                _stream = null;
            }
        }
    }
}
