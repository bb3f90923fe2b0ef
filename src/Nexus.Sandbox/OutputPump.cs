// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net.Sockets;
using System.Text;

namespace Nexus.Sandbox;

/// <summary>
/// Reads one of a sandbox's output streams (the host end of a socket pair) and hands it on line by line.
/// Lines are capped: a sandbox that never writes a newline cannot make the node buffer without bound.
/// The last few lines are kept for error messages (runc reports start failures on the same stderr).
/// </summary>
internal sealed class OutputPump
{
    /// <summary>Longer lines are delivered in pieces of this many bytes.</summary>
    internal const int MaxLineBytes = 16 * 1024;

    private const int KeptLines = 8;

    private readonly Socket _socket;
    private readonly Action<string, bool>? _onOutput;
    private readonly bool _isError;
    private readonly Queue<string> _last = new();

    internal OutputPump(Socket socket, Action<string, bool>? onOutput, bool isError)
    {
        _socket = socket;
        _onOutput = onOutput;
        _isError = isError;
        Completion = RunAsync();
    }

    /// <summary>Completes at end of stream (every writer has closed its end).</summary>
    internal Task Completion { get; }

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
        var buffer = new byte[MaxLineBytes];
        var filled = 0;
        try
        {
            while (true)
            {
                var n = await _socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None);
                if (n == 0)
                {
                    break;
                }

                filled += n;
                var start = 0;
                int newline;
                while ((newline = buffer.AsSpan(start, filled - start).IndexOf((byte)'\n')) >= 0)
                {
                    Emit(buffer.AsSpan(start, newline));
                    start += newline + 1;
                }

                if (start == 0 && filled == buffer.Length)
                {
                    Emit(buffer);
                    filled = 0;
                }
                else if (start > 0)
                {
                    buffer.AsSpan(start, filled - start).CopyTo(buffer);
                    filled -= start;
                }
            }

            if (filled > 0)
            {
                Emit(buffer.AsSpan(0, filled));
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
