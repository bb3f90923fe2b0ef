// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;
using System.Collections.Concurrent;
using Nexus.Channel;
using Nexus.Channel.Services;

namespace Nexus.Fuzz.Targets;

/// <summary>
/// The node's live service path as a hostile sandbox meets it: a real <see cref="ChannelServiceHost"/> (one doorbell
/// thread, the session pump, request validation, the slot pool, services on the thread pool) serving a fresh session
/// per input, whose region the target writes as the sandbox (request bytes, ring records, a hostile completion head and
/// submission tail) before ringing its doorbell; and, on the same host all run long, a well-behaved neighbour session
/// (<see cref="NeighbourSession"/>) making a request every millisecond. Input: u32 submission tail ahead, u32
/// completion head behind, a flags byte (bit 0: read the answers posted so far and release their slots), 256 bytes of
/// the request area's start, then up to one ring of records. A crash is: a service failing with anything but a
/// request error (an incident), the doorbell thread failing on a session (a close "doorbell failed"), an answer whose
/// chunk lies outside its slot, the session not closing promptly, or the neighbour getting a wrong answer, an error,
/// a close or no answer for <see cref="NeighbourStall"/>.
/// </summary>
public sealed class SessionTarget : IFuzzTarget
{
    /// <summary>The longest the neighbour may go without an answer before the run counts it as affected.</summary>
    public static readonly TimeSpan NeighbourStall = TimeSpan.FromSeconds(10);

    private const int RingEntries = 16;
    private const int FixedBytes = 9;
    private const int AreaBytes = 256;
    private const byte ReadAnswers = 1;

    private static readonly ChannelOptions s_channel = new() { RegionSize = 128 << 10, RingEntries = RingEntries, SlotSize = 4096 };

    private readonly ConcurrentQueue<string> _incidents = new();
    private readonly ChannelServiceHost _host;
    private readonly EchoService _service = new();
    private readonly NeighbourSession _neighbour;
    private readonly ChannelLayout _layout = new(s_channel);

    /// <param name="aloneFor">How long the neighbour runs alone first, for the summary's latencies without fuzzing.</param>
    public SessionTarget(TimeSpan? aloneFor = null)
    {
        _host = new ChannelServiceHost(new ChannelSessionOptions
        {
            SandboxStallTimeout = TimeSpan.FromSeconds(2),
            MaxOutstandingPerInstance = 8,
            ReportInternalError = (incident, op, e) => _incidents.Enqueue($"incident {incident} serving {op}: {e}"),
        });
        _neighbour = new NeighbourSession(_host, _service, s_channel);
        Thread.Sleep(aloneFor ?? TimeSpan.FromMilliseconds(500));
        _neighbour.StartFuzzing();

        var area = (ulong)_layout.RequestAreaOffset;
        InterestingValues =
        [
            RingEntries, RingEntries + 1, 8, 9, area, area + AreaBytes, (ulong)_layout.RequestAreaSize, (ulong)_layout.SlotAreaOffset,
            (ulong)_layout.SlotCount, ChannelRecord.NoSlot, (ulong)ChannelOp.HeadObject, (ulong)ChannelOp.GetObject,
            (ulong)ChannelOp.PutObject, (ulong)ChannelOp.Data, (ulong)ChannelOp.Release, (ulong)ChannelFlags.More, 5UL << 30,
        ];
        Seeds = [EchoSeed(), GetSeed(), TwoChunkPutSeed()];
    }

    public string Name => "session";

    public IReadOnlyList<byte[]> Seeds { get; }

    public IReadOnlyList<ulong> InterestingValues { get; }

    public int MaxInputLength => FixedBytes + AreaBytes + (RingEntries * ChannelLayout.RecordSize);

    /// <summary>The neighbour's round trips and latencies, alone and while fuzzed.</summary>
    public string Summary() => _neighbour.Summary();

    public FuzzOutcome Execute(ReadOnlySpan<byte> input)
    {
        _neighbour.ThrowIfAffected(NeighbourStall);
        Span<byte> fixedPart = stackalloc byte[FixedBytes];
        input[..Math.Min(FixedBytes, input.Length)].CopyTo(fixedPart);
        var rest = input[Math.Min(FixedBytes, input.Length)..];
        var area = rest[..Math.Min(AreaBytes, rest.Length)];
        var records = rest[area.Length..];
        var tailAhead = BinaryPrimitives.ReadUInt32LittleEndian(fixedPart);
        var headBehind = BinaryPrimitives.ReadUInt32LittleEndian(fixedPart[4..]);

        using var channel = new ProcessChannel(s_channel, "nexus-fuzz-session");
        using var sandbox = new SandboxEnd(channel);
        var session = _host.Open(channel.Host);
        session.Register(_service);
        session.Start();

        area.CopyTo(sandbox.Region(_layout.RequestAreaOffset, area.Length));
        var count = Math.Min(records.Length / ChannelLayout.RecordSize, RingEntries);
        for (var i = 0; i < count; i++)
        {
            records.Slice(i * ChannelLayout.RecordSize, ChannelLayout.RecordSize).CopyTo(RingSlot(sandbox, _layout.SubRingOffset, (uint)i));
        }

        WriteIndex(sandbox, ChannelLayout.OffCmpHead, unchecked(0u - headBehind));
        WriteIndex(sandbox, ChannelLayout.OffSubTail, tailAhead);
        channel.ToHost.Signal();
        WaitDrained(sandbox, session, tailAhead);

        if ((fixedPart[8] & ReadAnswers) != 0 && headBehind == 0 && session.CloseReason is null)
        {
            ReadAnswersAndRelease(sandbox, channel, tailAhead);
        }

        var reason = session.CloseReason;
        session.DisposeAsync().AsTask().GetAwaiter().GetResult();
        if (_incidents.TryDequeue(out var incident))
        {
            throw new FuzzInvariantException($"a service failed on hostile input with an unexpected exception: {incident}");
        }

        FuzzInvariantException.Check(reason is null || !reason.StartsWith("doorbell failed", StringComparison.Ordinal), $"the doorbell thread failed on the session: {reason}");
        _neighbour.ThrowIfAffected(NeighbourStall);
        return reason is null ? FuzzOutcome.Accepted : FuzzOutcome.Rejected;
    }

    public void Dispose()
    {
        _neighbour.Dispose();
        _host.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    private Span<byte> RingSlot(SandboxEnd sandbox, long ringOffset, uint position) =>
        sandbox.Region(ringOffset + ((position & (RingEntries - 1)) * ChannelLayout.RecordSize), ChannelLayout.RecordSize);

    private static void WriteIndex(SandboxEnd sandbox, int offset, uint value) =>
        BinaryPrimitives.WriteUInt32LittleEndian(sandbox.Region(offset, sizeof(uint)), value);

    private static uint ReadIndex(SandboxEnd sandbox, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(sandbox.Region(offset, sizeof(uint)));

    /// <summary>Waits until the host drained what was published or closed the session (the doorbell thread does both).</summary>
    private static void WaitDrained(SandboxEnd sandbox, ChannelSession session, uint tail)
    {
        var spin = new SpinWait();
        while (ReadIndex(sandbox, ChannelLayout.OffSubHead) != tail && session.CloseReason is null)
        {
            spin.SpinOnce();
        }
    }

    /// <summary>As a sandbox would: reads each answer already posted (its chunk must lie in its slot) and returns the slot.</summary>
    private void ReadAnswersAndRelease(SandboxEnd sandbox, ProcessChannel channel, uint tail)
    {
        var released = 0u;
        while (released < RingEntries && sandbox.TryNextCompletion(out var answer))
        {
            if (answer.Slot == ChannelRecord.NoSlot)
            {
                continue;
            }

            _ = sandbox.Chunk(answer);
            new ChannelRecord { Op = ChannelOp.Release, Slot = answer.Slot }.Write(RingSlot(sandbox, _layout.SubRingOffset, tail + released));
            released++;
        }

        if (released > 0)
        {
            WriteIndex(sandbox, ChannelLayout.OffSubTail, tail + released);
            channel.ToHost.Signal();
        }
    }

    private byte[] Input(ReadOnlySpan<byte> area, params ChannelRecord[] records)
    {
        var input = new byte[FixedBytes + AreaBytes + (records.Length * ChannelLayout.RecordSize)];
        BinaryPrimitives.WriteUInt32LittleEndian(input, (uint)records.Length);
        input[8] = ReadAnswers;
        area.CopyTo(input.AsSpan(FixedBytes));
        for (var i = 0; i < records.Length; i++)
        {
            records[i].Write(input.AsSpan(FixedBytes + AreaBytes + (i * ChannelLayout.RecordSize)));
        }

        return input;
    }

    /// <summary>A HeadObject whose body the service echoes: "{}" then 30 bytes at the request area's start.</summary>
    private byte[] EchoSeed() => Input(
        "{}0123456789abcdefghijklmnopqrst"u8,
        new ChannelRecord { RequestId = 1, Op = ChannelOp.HeadObject, Offset = (ulong)_layout.RequestAreaOffset, Length = 32, HeaderLength = 2, TotalLength = 30, Slot = ChannelRecord.NoSlot });

    /// <summary>A GetObject answered over three slots, and a HeadObject beside it.</summary>
    private byte[] GetSeed() => Input(
        "{}{}hello"u8,
        new ChannelRecord { RequestId = 7, Op = ChannelOp.GetObject, Offset = (ulong)_layout.RequestAreaOffset, Length = 2, HeaderLength = 2, Slot = ChannelRecord.NoSlot },
        new ChannelRecord { RequestId = 8, Op = ChannelOp.HeadObject, Offset = (ulong)_layout.RequestAreaOffset + 2, Length = 7, HeaderLength = 2, TotalLength = 5, Slot = ChannelRecord.NoSlot });

    /// <summary>A PutObject whose 20-byte body comes in two chunks (the first flagged More, the second a Data record).</summary>
    private byte[] TwoChunkPutSeed() => Input(
        "{}0123456789abcdefghij"u8,
        new ChannelRecord { RequestId = 3, Op = ChannelOp.PutObject, Flags = ChannelFlags.More, Offset = (ulong)_layout.RequestAreaOffset, Length = 12, HeaderLength = 2, TotalLength = 20, Slot = ChannelRecord.NoSlot },
        new ChannelRecord { RequestId = 3, Op = ChannelOp.Data, Offset = (ulong)_layout.RequestAreaOffset + 12, Length = 10, Chunk = 1, Slot = ChannelRecord.NoSlot });

    /// <summary>HeadObject echoes the body (its header read raw); GetObject and PutObject parse their header as JSON parameters; GetObject answers 10,000 bytes (three 4 KiB slots); PutObject reads its body and answers its length.</summary>
    private sealed class EchoService : IChannelService
    {
        private static readonly byte[] s_object = [.. Enumerable.Range(0, 10_000).Select(i => (byte)i)];

        public IReadOnlyCollection<ChannelOp> Ops { get; } = [ChannelOp.HeadObject, ChannelOp.GetObject, ChannelOp.PutObject];

        public async Task ServeAsync(ChannelRequest request, CancellationToken cancellationToken)
        {
            switch (request.Op)
            {
                case ChannelOp.GetObject:
                    (await request.ReadParametersAsync(cancellationToken).ConfigureAwait(false)).Dispose();
                    await request.Session.SendAsync(request, 200, "{}"u8.ToArray(), s_object, cancellationToken).ConfigureAwait(false);
                    return;
                case ChannelOp.PutObject:
                    (await request.ReadParametersAsync(cancellationToken).ConfigureAwait(false)).Dispose();
                    var stream = request.OpenBody(cancellationToken);
                    await using (stream.ConfigureAwait(false))
                    {
                        var buffer = new byte[4096];
                        long length = 0;
                        int n;
                        while ((n = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                        {
                            length += n;
                        }

                        await request.Session.SendJsonAsync(request, 200, w =>
                        {
                            w.WriteStartObject();
                            w.WriteNumber("length", length);
                            w.WriteEndObject();
                        }, cancellationToken).ConfigureAwait(false);
                    }

                    return;
                default:
                    var body = await request.ReadBodyAsync(64 << 10, cancellationToken).ConfigureAwait(false);
                    await request.Session.SendAsync(request, 200, "{}"u8.ToArray(), body, cancellationToken).ConfigureAwait(false);
                    return;
            }
        }
    }
}
