// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace Nexus.Sandbox;

/// <summary>
/// Reads one of a sandbox's output streams (the host end of a socket pair) and hands it on line by line.
/// Lines are capped: a sandbox that never writes a newline cannot make the node buffer without bound.
/// The last few lines are kept for error messages (runc reports start failures on the same stderr).
/// </summary>
/// <remarks>
/// Bytes leave the socket only under <see cref="_reading"/>, and every line they complete is handed on before the lock is
/// let go: so whoever holds the lock and finds the socket empty knows that everything written to it so far has been
/// handed on. <see cref="Drain"/> relies on that; the background loop therefore only waits for data (a zero-byte
/// receive, which takes nothing) and reads under the lock.
/// </remarks>
internal sealed class OutputPump
{
    /// <summary>Longer lines are delivered in pieces of this many bytes.</summary>
    internal const int MaxLineBytes = 16 * 1024;

    private const int KeptLines = 8;

    private readonly Socket _socket;
    private readonly Action<string, bool>? _onOutput;
    private readonly bool _isError;
    private readonly Queue<string> _last = new();
    private readonly Lock _reading = new();
    private readonly byte[] _buffer = new byte[MaxLineBytes];
    private int _filled;

    internal OutputPump(Socket socket, Action<string, bool>? onOutput, bool isError)
    {
        _socket = socket;
        _onOutput = onOutput;
        _isError = isError;

        // Reads under the lock must never wait: the wait for data is the loop's asynchronous zero-byte receive.
        _socket.Blocking = false;
        Completion = RunAsync();
    }

    /// <summary>Completes at end of stream (every writer has closed its end).</summary>
    internal Task Completion { get; }

    /// <summary>
    /// Hands on, on the caller's thread, every byte the sandbox wrote to this stream before the call, including a last
    /// line without its newline; returns at <paramref name="deadline"/> (a <see cref="Stopwatch"/> timestamp) even if
    /// the sandbox is still writing. When nothing is pending it costs the lock and one non-blocking receive.
    /// </summary>
    internal void Drain(long deadline)
    {
        lock (_reading)
        {
            try
            {
                while (ReadOnceLocked() > 0 && Stopwatch.GetTimestamp() < deadline)
                {
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Aborted by teardown or broken: nothing more will come.
            }

            FlushPartialLineLocked();
        }
    }

    /// <summary>Drains each of <paramref name="pumps"/> within one time limit (see <see cref="Drain"/>).</summary>
    internal static void DrainAll(IReadOnlyList<OutputPump> pumps, TimeSpan limit)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(limit.TotalSeconds * Stopwatch.Frequency);
        foreach (var pump in pumps)
        {
            pump.Drain(deadline);
        }
    }

    /// <summary>The last lines read, oldest first.</summary>
    internal string LastLines()
    {
        lock (_last)
        {
            return string.Join(" | ", _last);
        }
    }

    internal void Abort() => _socket.Dispose();

    private async Task RunAsync()
    {
        try
        {
            while (true)
            {
                // Completes when data is there (or at end of stream) without taking any: only reads under the lock take.
                await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None);
                lock (_reading)
                {
                    // One read per turn, so that a drain waiting for the lock gets it however fast the sandbox writes.
                    // -1: a drain took the data first.
                    if (ReadOnceLocked() == 0)
                    {
                        FlushPartialLineLocked();
                        break;
                    }
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Aborted by teardown: whatever was not read is lost with the sandbox.
        }
        finally
        {
            _socket.Dispose();
        }
    }

    // One non-blocking receive: the bytes read (their complete lines handed on), -1 when none are waiting, 0 at end of
    // stream.
    private int ReadOnceLocked()
    {
        var n = _socket.Receive(_buffer.AsSpan(_filled), SocketFlags.None, out var error);
        if (error == SocketError.WouldBlock)
        {
            return -1;
        }

        if (error != SocketError.Success)
        {
            throw new SocketException((int)error);
        }

        if (n == 0)
        {
            return 0;
        }

        _filled += n;
        var start = 0;
        int newline;
        while ((newline = _buffer.AsSpan(start, _filled - start).IndexOf((byte)'\n')) >= 0)
        {
            Emit(_buffer.AsSpan(start, newline));
            start += newline + 1;
        }

        if (start == 0 && _filled == _buffer.Length)
        {
            Emit(_buffer);
            _filled = 0;
        }
        else if (start > 0)
        {
            _buffer.AsSpan(start, _filled - start).CopyTo(_buffer);
            _filled -= start;
        }

        return n;
    }

    private void FlushPartialLineLocked()
    {
        if (_filled > 0)
        {
            Emit(_buffer.AsSpan(0, _filled));
            _filled = 0;
        }
    }

    private void Emit(ReadOnlySpan<byte> bytes)
    {
        if (!bytes.IsEmpty && bytes[^1] == (byte)'\r')
        {
            bytes = bytes[..^1];
        }

        var line = Encoding.UTF8.GetString(bytes);
        lock (_last)
        {
            if (_last.Count == KeptLines)
            {
                _last.Dequeue();
            }

            _last.Enqueue(line);
        }

        try
        {
            _onOutput?.Invoke(line, _isError);
        }
        catch (Exception)
        {
            // The consumer's failure must not stop the pump: the sandbox would block on a full socket.
        }
    }
}
