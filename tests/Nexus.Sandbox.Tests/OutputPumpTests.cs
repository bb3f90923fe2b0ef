// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Nexus.Interop;

namespace Nexus.Sandbox.Tests;

/// <summary>
/// <see cref="OutputPump.Drain"/> is what lets the node log an invocation's output before its END line: once it returns,
/// every line written to the stream before the call has been handed on, in order, whatever the pump's background loop
/// was doing at the time.
/// </summary>
public sealed class OutputPumpTests
{
    private sealed class Stream : IDisposable
    {
        private readonly SafeFd _child;
        private readonly List<string> _lines = [];

        public Stream(int spinPerLine = 0)
        {
            var (host, child) = ChildProcess.CreateSocketPair();
            _child = child;
            Writer = new Socket(new SafeSocketHandle(child.DangerousGetHandle(), ownsHandle: false));
            Pump = new OutputPump(host, (line, _) =>
            {
                Thread.SpinWait(spinPerLine);
                lock (_lines)
                {
                    _lines.Add(line);
                }
            }, isError: false);
        }

        public Socket Writer { get; }

        public OutputPump Pump { get; }

        public List<string> Lines()
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }

        public void Dispose()
        {
            Pump.Abort();
            Writer.Dispose();
            _child.Dispose();
        }
    }

    private static long Never => long.MaxValue;

    /// <summary>
    /// Batches of lines, each followed at once by a drain, while the pump's own loop reads the same socket: after every
    /// drain all lines so far are there, each once and in order. With the drain not waiting for the pump's lock (a read
    /// the loop had taken but not handed on yet was missed) this failed (tried once), and with no drain at all too.
    /// </summary>
    [Fact]
    public void AfterADrainEveryLineWrittenBeforeItWasHandedOnInOrder()
    {
        using var stream = new Stream();
        var random = new Random(5);
        var written = 0;
        for (var batch = 0; batch < 3000; batch++)
        {
            var text = new StringBuilder();
            for (var n = random.Next(1, 12); n > 0; n--)
            {
                text.Append("line ").Append(written++).Append('\n');
            }

            // One or two writes, as a runtime's print and its traceback.
            var bytes = Encoding.ASCII.GetBytes(text.ToString());
            var split = random.Next(bytes.Length + 1);
            stream.Writer.Send(bytes.AsSpan(0, split));
            stream.Writer.Send(bytes.AsSpan(split));

            stream.Pump.Drain(Never);
            var lines = stream.Lines();
            Assert.True(lines.Count == written, $"batch {batch}: {lines.Count} lines handed on of {written} written");
        }

        Assert.Equal(Enumerable.Range(0, written).Select(n => $"line {n}"), stream.Lines());
    }

    [Fact]
    public void ADrainHandsOnALastLineWithoutItsNewline()
    {
        using var stream = new Stream();
        stream.Writer.Send("first\nno newline at the end"u8);
        stream.Pump.Drain(Never);
        Assert.Equal(["first", "no newline at the end"], stream.Lines());
    }

    /// <summary>
    /// A sandbox that never stops writing, faster than the node logs, cannot hold a drain past its deadline: without the
    /// deadline the drain never returned and the test failed (tried once).
    /// </summary>
    [Fact]
    public async Task ADrainEndsAtItsDeadlineWhileTheSandboxKeepsWriting()
    {
        using var stream = new Stream(spinPerLine: 20_000);
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(() =>
        {
            var line = Encoding.ASCII.GetBytes(new string('x', 100) + "\n");
            while (!stop.IsCancellationRequested)
            {
                stream.Writer.Send(line);
            }
        });
        while (stream.Lines().Count == 0)
        {
            await Task.Delay(1);
        }

        var drain = Task.Run(() => stream.Pump.Drain(Stopwatch.GetTimestamp() + (Stopwatch.Frequency / 200)));
        try
        {
            await drain.WaitAsync(TimeSpan.FromMinutes(1));
        }
        finally
        {
            stop.Cancel();
            await writer;
        }
    }
}
