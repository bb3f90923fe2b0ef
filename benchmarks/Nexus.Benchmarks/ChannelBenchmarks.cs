// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using BenchmarkDotNet.Attributes;
using Nexus.Channel;
using Nexus.Channel.Services;

namespace Nexus.Benchmarks;

/// <summary>
/// The channel's own cost, with no storage behind it: the node's service host, a session and a service that answers
/// from memory, and a C# sandbox end on another thread of this process. Allocations per operation are the whole
/// process's (the host's doorbell thread included).
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 15)]
public class ChannelBenchmarks
{
    private const int RequestBytes = 64;
    private const int ObjectBytes = 64 << 20;

    private ChannelServiceHost _host = null!;
    private ProcessChannel _channel = null!;
    private ChannelSession _session = null!;
    private SandboxEnd _sandbox = null!;
    private ulong _nextId;

    /// <summary>
    /// A 64-byte request (2-byte JSON header, 62-byte body) answered with a 64-byte message: submit, ring, host drains,
    /// the service reads the body and answers through a slot, ring, the sandbox reads it and returns the slot.
    /// </summary>
    [Benchmark]
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

    /// <summary>A GetObject of a 64 MiB object the service holds in memory, streamed slot by slot into the region.</summary>
    [Benchmark]
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
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _session.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _host.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _sandbox.Dispose();
        _channel.Dispose();
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
