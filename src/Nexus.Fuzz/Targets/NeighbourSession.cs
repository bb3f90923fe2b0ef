// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using System.Globalization;
using Nexus.Channel;
using Nexus.Channel.Services;

namespace Nexus.Fuzz.Targets;

/// <summary>
/// A well-behaved sandbox sharing the service host with the one being fuzzed: on its own thread it sends a 64-byte
/// request every millisecond through its own channel and checks that the answer is its own bytes. Any wrong answer,
/// error or close is kept as its failure; its latencies are kept for the summary (alone, then while fuzzed).
/// </summary>
internal sealed class NeighbourSession : IDisposable
{
    private const int BodyBytes = 62;

    private readonly ProcessChannel _channel;
    private readonly ChannelSession _session;
    private readonly SandboxEnd _end;
    private readonly Thread _thread;
    private readonly List<double> _alone = [];
    private readonly List<double> _fuzzed = [];
    private readonly Lock _lock = new();
    private volatile bool _stopping;
    private volatile bool _fuzzing;
    private volatile string? _failure;
    private long _lastAnswer = Stopwatch.GetTimestamp();
    private long _roundTrips;

    public NeighbourSession(ChannelServiceHost host, IChannelService service, ChannelOptions options)
    {
        _channel = new ProcessChannel(options, "nexus-fuzz-neighbour");
        _session = host.Open(_channel.Host);
        _session.Register(service);
        _session.Start();
        _end = new SandboxEnd(_channel);
        _thread = new Thread(Run) { IsBackground = true, Name = "fuzz-neighbour" };
        _thread.Start();
    }

    public long RoundTrips => Interlocked.Read(ref _roundTrips);

    /// <summary>From now on latencies count as taken while the other session is fuzzed.</summary>
    public void StartFuzzing() => _fuzzing = true;

    /// <summary>Throws when the neighbour got a wrong answer, an error or a close, or no answer for <paramref name="stall"/>.</summary>
    public void ThrowIfAffected(TimeSpan stall)
    {
        if (_failure is { } failure)
        {
            throw new FuzzInvariantException($"the neighbour session was affected: {failure}");
        }

        var quiet = Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastAnswer));
        FuzzInvariantException.Check(quiet < stall, $"the neighbour session got no answer for {quiet.TotalSeconds:0.0} s");
    }

    /// <summary>Round trips, failures and latency percentiles alone and while the other session was fuzzed.</summary>
    public string Summary()
    {
        lock (_lock)
        {
            return string.Create(
                CultureInfo.InvariantCulture,
                $"neighbour: {RoundTrips} round trips, {(_failure is null ? "0 failures" : "failed: " + _failure)}; "
                + $"p50 / p99 alone {Percentile(_alone, 0.50):0} / {Percentile(_alone, 0.99):0} us ({_alone.Count}), "
                + $"while fuzzed {Percentile(_fuzzed, 0.50):0} / {Percentile(_fuzzed, 0.99):0} us ({_fuzzed.Count})");
        }
    }

    public void Dispose()
    {
        _stopping = true;
        _session.Close("fuzz run ended");
        _thread.Join();
        _session.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _end.Dispose();
        _channel.Dispose();
    }

    private static double Percentile(List<double> sorted, double p)
    {
        if (sorted.Count == 0)
        {
            return double.NaN;
        }

        sorted.Sort();
        return sorted[Math.Min(sorted.Count - 1, (int)(p * sorted.Count))];
    }

    private void Run()
    {
        Span<byte> body = stackalloc byte[BodyBytes];
        for (ulong id = 1; !_stopping; id++)
        {
            try
            {
                var started = Stopwatch.GetTimestamp();
                RoundTrip(id, body);
                var micros = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
                Interlocked.Exchange(ref _lastAnswer, Stopwatch.GetTimestamp());
                Interlocked.Increment(ref _roundTrips);
                lock (_lock)
                {
                    (_fuzzing ? _fuzzed : _alone).Add(micros);
                }
            }
            catch (Exception e) when (!_stopping)
            {
                _failure = $"request {id}: {e.Message}";
                return;
            }
            catch (Exception)
            {
                return;
            }

            Thread.Sleep(1);
        }
    }

    private void RoundTrip(ulong id, Span<byte> body)
    {
        for (var i = 0; i < body.Length; i++)
        {
            body[i] = (byte)(id + (ulong)i);
        }

        _end.SubmitRequest(id, ChannelOp.HeadObject, (long)_end.RequestOffset, "{}"u8, body);
        var answer = _end.NextCompletion();
        if (answer.RequestId != id || answer.Status != 200 || answer.HeaderLength != 2)
        {
            throw new InvalidDataException($"answer to request {answer.RequestId} with status {answer.Status}, header {answer.HeaderLength} bytes");
        }

        if (!_end.Chunk(answer)[2..].SequenceEqual(body))
        {
            throw new InvalidDataException("the answer is not the request's own bytes");
        }

        _end.Submit(new ChannelRecord { Op = ChannelOp.Release, Slot = answer.Slot }, ring: true);
    }
}
