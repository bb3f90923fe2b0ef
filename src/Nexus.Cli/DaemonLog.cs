// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Text;
using Nexus.Interop;

namespace Nexus.Cli;

/// <summary>
/// The node daemon's log (node.log, what `up` points the daemon's standard output and error at), as Console.Out and
/// Console.Error. A write never fails the caller: on a full disk the line is lost, counted and said once writing works
/// again. Before, .NET's console threw the disk's ENOSPC out of whatever code logged, so a sandbox's request went
/// unanswered (its error reply came after the log line) and the write-back uploaders stopped for good (found by an
/// operator's review). The file is rotated at its limit (node.json <c>nodeLogMaxMiB</c>; the last one kept as
/// node.log.1), as function logs are: a storage outage logs a line per retry.
/// </summary>
public sealed class DaemonLog : TextWriter
{
    private readonly Lock _lock = new();
    private readonly string _path;
    private readonly long _maxBytes;
    private readonly Func<TextWriter, TextWriter> _reopen;
    private TextWriter _inner;
    private long _bytes;
    private long _lost;
    private string? _lostWhy;

    /// <summary>
    /// A log written through <paramref name="inner"/> to <paramref name="path"/>; at <paramref name="maxBytes"/> the file
    /// is renamed to path.1 and <paramref name="reopen"/> (given the writer in use) returns the writer to the new file.
    /// </summary>
    public DaemonLog(string path, long maxBytes, TextWriter inner, Func<TextWriter, TextWriter> reopen)
    {
        _path = path;
        _maxBytes = maxBytes;
        _inner = inner;
        _reopen = reopen;
        _bytes = File.Exists(path) ? new FileInfo(path).Length : 0;
    }

    public override Encoding Encoding => _inner.Encoding;

    /// <summary>Makes the log at <paramref name="path"/> (already descriptors 1 and 2) the process's Console.Out and Console.Error.</summary>
    public static void Install(string path, long maxBytes)
    {
        // The writer goes on writing to descriptor 1, which a rotation points at the new file.
        var log = new DaemonLog(path, maxBytes, new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false)) { AutoFlush = true }, writer =>
        {
            StandardOutput.AppendTo(path);
            return writer;
        });
        Console.SetOut(log);
        Console.SetError(log);
    }

    /// <summary>Lines lost so far to failed writes.</summary>
    public long Lost
    {
        get
        {
            lock (_lock)
            {
                return _lost;
            }
        }
    }

    public override void Write(char value) => Append(value.ToString());

    public override void Write(string? value) => Append(value ?? "");

    public override void Write(char[] buffer, int index, int count) => Append(new string(buffer, index, count));

    public override void WriteLine(string? value) => Append((value ?? "") + Environment.NewLine);

    public override void Flush()
    {
        lock (_lock)
        {
            try
            {
                _inner.Flush();
            }
            catch (IOException)
            {
                // Counted when the write it held back is tried again.
            }
        }
    }

    private void Append(string text)
    {
        if (text.Length == 0)
        {
            return;
        }

        lock (_lock)
        {
            try
            {
                if (_bytes >= _maxBytes)
                {
                    Rotate();
                }

                if (_lost > 0)
                {
                    var said = string.Create(CultureInfo.InvariantCulture, $"nexus: {_lost} log line(s) lost: {_lostWhy}{Environment.NewLine}");
                    _inner.Write(said);
                    _bytes += said.Length;
                    _lost = 0;
                }

                _inner.Write(text);
                _bytes += Encoding.GetByteCount(text);
            }
            catch (IOException e)
            {
                _lost++;
                _lostWhy = e.Message;
            }
        }
    }

    // The file renamed to node.log.1 (the one before it dropped) and a new node.log opened: as the daemon's log, made
    // descriptors 1 and 2, so the runtime's own writes to them follow too.
    private void Rotate()
    {
        _inner.Flush();
        File.Move(_path, _path + ".1", overwrite: true);
        _inner = _reopen(_inner);
        _bytes = 0;
    }
}
