// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Nexus.Channel;
using Nexus.Channel.Services;
using Nexus.Interop;

namespace Nexus.Benchmarks;

/// <summary>
/// The channel's own cost, with no storage behind it: the node's service host, a session and a service that answers
/// from memory, and a C# sandbox end on another thread of this process. Allocations per operation are the whole
/// process's (the host's doorbell thread included). The baseline is the floor under any doorbell-driven round trip on
/// the machine it runs on: two threads waking each other through two eventfds and nothing else, so the Ratio column
/// says what the channel adds to the wake-ups it cannot avoid.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 15)]
public class ChannelBenchmarks
{
    private const int RequestBytes = 64;
    private const int ObjectBytes = 64 << 20;
    private const ulong Stop = 1UL << 32;

    // Looks at the completion tail before sleeping: a few hundred microseconds at most, far longer than the host takes.
    private const int PollingSpins = 200_000;

    private ChannelServiceHost _host = null!;
    private ProcessChannel _channel = null!;
    private ChannelSession _session = null!;
    private SandboxEnd _sandbox = null!;
    private ulong _nextId;
    private EventFd _ping = null!;
    private EventFd _pong = null!;
    private Thread _ponger = null!;

    /// <summary>One write to an eventfd another thread sleeps on, which writes back to one this thread sleeps on.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("round trip")]
    public ulong EventFdPingPong()
    {
        _ping.Signal();
        return _pong.Wait();
    }

    /// <summary>
    /// A 64-byte request (2-byte JSON header, 62-byte body) answered with a 64-byte message: submit, ring, host drains,
    /// the service reads the body and answers through a slot, ring, the sandbox reads it and returns the slot.
    /// </summary>
    [Benchmark]
    [BenchmarkCategory("round trip")]
    public int RoundTrip64Bytes()
    {
        var message = _sandbox.RequestArea[..RequestBytes];
        "{}"u8.CopyTo(message);
        message[2..].Fill(7);
        _sandbox.Submit(
            new ChannelRecord
            {
                RequestId = ++_nextId,
                Op = ChannelOp.HeadObject,
                Offset = _sandbox.RequestOffset,
                Length = RequestBytes,
                HeaderLength = 2,
                TotalLength = RequestBytes - 2,
                Slot = ChannelRecord.NoSlot,
            },
            ring: true);
        var completion = _sandbox.NextCompletion();
        var answer = _sandbox.Chunk(completion)[^1];
        _sandbox.Submit(new ChannelRecord { Op = ChannelOp.Release, Slot = completion.Slot }, ring: false);
        return answer;
    }

    /// <summary>
    /// <see cref="RoundTrip64Bytes"/> with the sandbox polling its completion tail before it sleeps, as the Python
    /// frontend does with <c>NEXUS_CHANNEL_SPIN</c> (off by default: DESIGN.md asks for no busy-polling by default): the
    /// host still sleeps on its doorbell, so one wake-up is left of the two.
    /// </summary>
    [Benchmark]
    [BenchmarkCategory("round trip")]
    public int RoundTrip64BytesSandboxPolling()
    {
        _sandbox.CompletionSpins = PollingSpins;
        try
        {
            return RoundTrip64Bytes();
        }
        finally
        {
            _sandbox.CompletionSpins = 0;
        }
    }

    /// <summary>A GetObject of a 64 MiB object the service holds in memory, streamed slot by slot into the region.</summary>
    [Benchmark]
    [BenchmarkCategory("stream")]
    public long Get64MiBFromMemory()
    {
        _sandbox.Submit(new ChannelRecord { RequestId = ++_nextId, Op = ChannelOp.GetObject, Slot = ChannelRecord.NoSlot }, ring: true);
        long received = 0;
        while (true)
        {
            var chunk = _sandbox.NextCompletion();
            received += chunk.Length;
            _sandbox.Submit(new ChannelRecord { Op = ChannelOp.Release, Slot = chunk.Slot }, ring: true);
            if ((chunk.Flags & ChannelFlags.More) == 0)
            {
                return received;
            }
        }
    }

    [GlobalSetup]
    public void Setup()
    {
        _host = new ChannelServiceHost();
        _channel = new ProcessChannel(new ChannelOptions { RegionSize = 64L << 20, SlotSize = 1 << 20 });
        _session = _host.Open(_channel.Host);
        _session.Register(new MemoryService(new byte[ObjectBytes]));
        _session.Start();
        _sandbox = new SandboxEnd(_channel);
        _ping = EventFd.Create();
        _pong = EventFd.Create();
        _ponger = new Thread(Pong) { IsBackground = true, Name = "pong" };
        _ponger.Start();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _session.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _host.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _sandbox.Dispose();
        _channel.Dispose();
        _ping.Signal(Stop);
        _ponger.Join();
        _ping.Dispose();
        _pong.Dispose();
    }

    // Answers each ping until the counter carries the stop value (pings are never more than one ahead, so never near it).
    private void Pong()
    {
        while (_ping.Wait() < Stop)
        {
            _pong.Signal();
        }
    }

    /// <summary>HeadObject echoes the request body; GetObject answers with the object held in memory.</summary>
    private sealed class MemoryService(byte[] payload) : IChannelService
    {
        public IReadOnlyCollection<ChannelOp> Ops { get; } = [ChannelOp.HeadObject, ChannelOp.GetObject];

        public async Task ServeAsync(ChannelRequest request, CancellationToken cancellationToken)
        {
            if (request.Op == ChannelOp.GetObject)
            {
                await request.Session.SendAsync(request, 200, "{}"u8.ToArray(), payload, cancellationToken).ConfigureAwait(false);
                return;
            }

            var body = await request.ReadBodyAsync(RequestBytes, cancellationToken).ConfigureAwait(false);
            await request.Session.SendAsync(request, 200, "{}"u8.ToArray(), body, cancellationToken).ConfigureAwait(false);
        }
    }
}
