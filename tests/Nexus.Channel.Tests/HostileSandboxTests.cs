// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using Nexus.Testing;
using Nexus.Testing.Channel;

namespace Nexus.Channel.Tests;

/// <summary>
/// A sandbox writing arbitrary bytes into its channel: each bad input fails its own request or closes its own channel,
/// while the backend and a neighbour instance carry on. The neighbour is a real sandbox as the node runs one: a runc
/// container of the function image (namespaces, seccomp, no capabilities) on a channel of the same backend; every test
/// checks it is served after the attack (and that it did run sandboxed).
/// </summary>
public sealed class HostileSandboxTests : IAsyncLifetime
{
    private static TimeSpan WaitLimit => TimeSpan.FromSeconds(30);
    private NodeUnderTest _node = null!;
    private RuncNeighbour? _neighbour;

    public async Task InitializeAsync()
    {
        _node = await NodeUnderTest.StartAsync(stallTimeout: TimeSpan.FromSeconds(2));
        await _node.PutAsync("fn/x", "neighbour data"u8.ToArray());
        if (HostRequirements.Missing(root: true, runc: true) is null)
        {
            _neighbour = await RuncNeighbour.StartAsync();
        }
    }

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        if (_neighbour is not null)
        {
            await _neighbour.DisposeAsync();
        }
    }

    [RootFact]
    public async Task Offset_outside_the_request_area_fails_only_that_request()
    {
        var (channel, session) = _node.Attach();
        using var raw = new RawSandbox(channel);
        var header = """{"Bucket":"nexus-test","Key":"fn/x"}"""u8.ToArray();
        // Pointing into the host-owned slot area, past the region's end, and with an offset+length overflow.
        ulong[] offsets = [(ulong)channel.Layout.SlotAreaOffset, (ulong)channel.Layout.RegionSize - 4, ulong.MaxValue - 2, 0];
        for (var i = 0; i < offsets.Length; i++)
        {
            raw.Submit(new ChannelRecord { RequestId = (ulong)(i + 1), Op = ChannelOp.GetObject, Offset = offsets[i], Length = (uint)header.Length, HeaderLength = (uint)header.Length, Slot = ChannelRecord.NoSlot });
            var completion = await raw.NextCompletionAsync(WaitLimit);
            Assert.NotNull(completion);
            Assert.Equal((ulong)(i + 1), completion.Value.RequestId);
            Assert.Equal(400, completion.Value.Status);
            Assert.Contains("outside the request area", raw.HeaderOf(completion.Value), StringComparison.Ordinal);
            raw.Release(completion.Value.Slot);
        }

        // The same channel still serves a well-formed request, and a neighbour is unaffected.
        raw.SubmitRequest(10, ChannelOp.GetObject, """{"Bucket":"nexus-test","Key":"fn/x"}""");
        var ok = await raw.NextCompletionAsync(WaitLimit);
        Assert.Equal(200, ok!.Value.Status);
        Assert.False(session.Closed.IsCompleted);
        await AssertNeighbourWorksAsync();
    }

    [RootFact]
    public async Task Length_lies_unknown_ops_oversized_and_garbage_headers_get_error_completions()
    {
        var (channel, session) = _node.Attach();
        using var raw = new RawSandbox(channel);
        var offset = raw.WriteRequestBytes(0, "{not json"u8);
        var bad = new (ChannelRecord Record, int Status, string Message)[]
        {
            (new ChannelRecord { RequestId = 1, Op = (ChannelOp)999, Offset = offset, Length = 9, HeaderLength = 9 }, 400, "unknown operation"),
            (new ChannelRecord { RequestId = 2, Op = ChannelOp.GetObject, Offset = offset, Length = 9, HeaderLength = 9 }, 400, "not valid JSON"),
            (new ChannelRecord { RequestId = 3, Op = ChannelOp.GetObject, Offset = offset, Length = 9, HeaderLength = 64 << 20 }, 400, "limit"),
            (new ChannelRecord { RequestId = 4, Op = ChannelOp.GetObject, Offset = offset, Length = 100, HeaderLength = 9 }, 400, "length"),
            (new ChannelRecord { RequestId = 5, Op = ChannelOp.PutObject, Offset = offset, Length = 9, HeaderLength = 9, TotalLength = 1UL << 40 }, 400, "exceeds 5 GiB"),
            (new ChannelRecord { RequestId = 6, Op = ChannelOp.GetObject, Offset = offset, Length = 9, HeaderLength = 9, Chunk = 7 }, 400, "length"),
        };
        foreach (var (record, status, message) in bad)
        {
            raw.Submit(record with { Slot = ChannelRecord.NoSlot });
            var completion = await raw.NextCompletionAsync(WaitLimit);
            Assert.NotNull(completion);
            Assert.Equal(record.RequestId, completion.Value.RequestId);
            Assert.Equal(status, completion.Value.Status);
            Assert.Contains(message, raw.HeaderOf(completion.Value), StringComparison.Ordinal);
            raw.Release(completion.Value.Slot);
        }

        // Valid JSON of the wrong shape is refused with a message naming the field.
        raw.SubmitRequest(7, ChannelOp.GetObject, """{"Bucket":["x"],"Key":1}""");
        var shape = await raw.NextCompletionAsync(WaitLimit);
        Assert.Equal(400, shape!.Value.Status);
        Assert.Contains("Bucket must be a string", raw.HeaderOf(shape.Value), StringComparison.Ordinal);
        Assert.False(session.Closed.IsCompleted);
        Assert.True(session.Stats.Rejected >= 7);
        await AssertNeighbourWorksAsync();
    }

    [RootFact]
    public async Task A_lying_submission_tail_closes_only_that_channel()
    {
        var (channel, session) = _node.Attach();
        using var raw = new RawSandbox(channel);
        raw.SubTail = 100_000;
        channel.ToHost.Signal();
        var reason = await session.Closed.WaitAsync(WaitLimit);
        Assert.Contains("submission tail", reason, StringComparison.Ordinal);
        Assert.True(raw.HostClosed);
        await AssertNeighbourWorksAsync();
        // The backend still attaches new instances.
        var (fresh, freshSession) = _node.Attach();
        using var raw2 = new RawSandbox(fresh);
        raw2.SubmitRequest(1, ChannelOp.GetObject, """{"Bucket":"nexus-test","Key":"fn/x"}""");
        Assert.Equal(200, (await raw2.NextCompletionAsync(WaitLimit))!.Value.Status);
        Assert.False(freshSession.Closed.IsCompleted);
    }

    [RootFact]
    public async Task Releasing_a_slot_that_is_not_lent_closes_only_that_channel()
    {
        var (channel, session) = _node.Attach();
        using var raw = new RawSandbox(channel);
        raw.Release(3);
        var reason = await session.Closed.WaitAsync(WaitLimit);
        Assert.Contains("not lent", reason, StringComparison.Ordinal);
        await AssertNeighbourWorksAsync();
    }

    [RootFact]
    public async Task A_lying_completion_head_closes_only_that_channel()
    {
        var (channel, session) = _node.Attach();
        using var raw = new RawSandbox(channel);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(raw.Region[ChannelLayout.OffCmpHead..], 12345);
        raw.SubmitRequest(1, ChannelOp.GetObject, """{"Bucket":"nexus-test","Key":"fn/x"}""");
        var reason = await session.Closed.WaitAsync(WaitLimit);
        Assert.Contains("completion head", reason, StringComparison.Ordinal);
        await AssertNeighbourWorksAsync();
    }

    [RootFact]
    public async Task A_sandbox_that_stops_reading_completions_blocks_only_itself()
    {
        // Four-entry completion ring: the fifth completion cannot be posted until the sandbox consumes.
        var (channel, session) = _node.Attach(new ChannelOptions { RegionSize = 1 << 20, SlotSize = 64 << 10, RingEntries = 4 });
        using var raw = new RawSandbox(channel);
        for (var i = 0; i < 4; i++)
        {
            raw.SubmitRequest((ulong)(i + 1), ChannelOp.GetObject, """{"Bucket":"nexus-test","Key":"fn/x"}""");
        }

        var first = await raw.NextCompletionAsync(WaitLimit, consume: false);
        Assert.NotNull(first);

        // The next four go in only once the host has taken the first four off the submission ring: sent earlier they
        // would overrun it, which the host rightly answers as a lying tail (it did so once in a CI run), not a stall.
        var taken = Stopwatch.StartNew();
        while (raw.ReadHeaderWord(ChannelLayout.OffSubHead) < 4)
        {
            Assert.True(taken.Elapsed < WaitLimit, "the host did not take the first four submissions");
            await Task.Delay(1);
        }

        for (var i = 0; i < 4; i++)
        {
            raw.SubmitRequest((ulong)(i + 5), ChannelOp.GetObject, """{"Bucket":"nexus-test","Key":"fn/x"}""");
        }

        // While it is stuck, a neighbour is served; after the stall timeout its channel is closed.
        await AssertNeighbourWorksAsync();
        var reason = await session.Closed.WaitAsync(WaitLimit);
        Assert.Contains("stalled", reason, StringComparison.Ordinal);
        Assert.True(raw.HostClosed);
        await AssertNeighbourWorksAsync();
    }

    /// <summary>
    /// Guards <c>ChannelRequest.TryAddChunk</c>'s refusal of a chunk past a request's last: a request sent in one chunk
    /// has no chunk queue, so a continuation chunk the sandbox sends after it must be refused, not queued; the put
    /// stores the message it was sent with and the session stays open.
    /// </summary>
    [Fact]
    public async Task A_continuation_chunk_for_a_request_sent_in_one_chunk_is_refused_and_changes_nothing()
    {
        var (channel, session) = _node.Attach();
        using var raw = new RawSandbox(channel);
        var header = """{"Bucket":"nexus-test","Key":"fn/one-chunk"}"""u8.ToArray();
        var offset = raw.WriteRequestBytes(0, [.. header, .. "hello"u8]);
        var bogus = raw.WriteRequestBytes(4096, "forged"u8);
        raw.Submit(new ChannelRecord { RequestId = 1, Op = ChannelOp.PutObject, Offset = offset, Length = (uint)header.Length + 5, HeaderLength = (uint)header.Length, TotalLength = 5, Slot = ChannelRecord.NoSlot }, ring: false);
        raw.Submit(new ChannelRecord { RequestId = 1, Op = ChannelOp.Data, Offset = bogus, Length = 6, Chunk = 1, Slot = ChannelRecord.NoSlot });
        var completion = await raw.NextCompletionAsync(WaitLimit);

        Assert.NotNull(completion);
        Assert.Equal((1UL, 200), (completion.Value.RequestId, completion.Value.Status));
        Assert.Equal("hello", System.Text.Encoding.UTF8.GetString(await _node.GetAsync("fn/one-chunk")));
        Assert.False(session.Closed.IsCompleted);
        await AssertNeighbourWorksAsync();
    }

    [Fact]
    public async Task Chunks_out_of_sequence_or_outside_the_area_fail_the_upload()
    {
        var (channel, session) = _node.Attach();
        using var raw = new RawSandbox(channel);
        var header = """{"Bucket":"nexus-test","Key":"fn/up"}"""u8.ToArray();
        var offset = raw.WriteRequestBytes(0, header);
        raw.Submit(new ChannelRecord { RequestId = 1, Op = ChannelOp.PutObject, Flags = ChannelFlags.More, Offset = offset, Length = (uint)header.Length, HeaderLength = (uint)header.Length, TotalLength = 10, Slot = ChannelRecord.NoSlot });
        raw.Submit(new ChannelRecord { RequestId = 1, Op = ChannelOp.Data, Offset = (ulong)channel.Layout.SlotAreaOffset, Length = 10, Chunk = 1, Slot = ChannelRecord.NoSlot });
        var completion = await raw.NextCompletionAsync(WaitLimit);
        if (completion?.Op == ChannelOp.DataAck)
        {
            // The host acknowledges the header chunk it has read before it meets the bad one.
            completion = await raw.NextCompletionAsync(WaitLimit);
        }

        Assert.NotNull(completion);
        Assert.Equal(1UL, completion.Value.RequestId);
        Assert.Equal(400, completion.Value.Status);
        Assert.Contains("out of sequence", raw.HeaderOf(completion.Value), StringComparison.Ordinal);
        Assert.False(session.Closed.IsCompleted);
        await Assert.ThrowsAsync<Amazon.S3.Model.NoSuchKeyException>(() => _node.GetAsync("fn/up"));
    }

    [Fact]
    public async Task The_sandbox_cannot_resize_the_region_under_the_host()
    {
        var (channel, session) = _node.Attach();
        var result = await PythonSandbox.RunAsync(channel, PythonSandbox.Prelude + """
            out = []
            for size in (0, 4096, 1 << 30):
                try:
                    os.ftruncate(3, size); out.append("resized")
                except OSError as e:
                    out.append(e.errno)
            s, m, d = call("GetObject", {"Bucket": "nexus-test", "Key": "fn/x"})
            emit({"truncate": out, "status": s})
            """);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal([1, 1, 1], result.Json.GetProperty("truncate").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(200, result.Json.GetProperty("status").GetInt32());
        Assert.False(session.Closed.IsCompleted);
    }

    private async Task AssertNeighbourWorksAsync()
    {
        var (neighbour, neighbourSession) = _node.Attach();
        var result = await _neighbour!.RunAsync(neighbour, """
            s, m, d = call("GetObject", {"Bucket": "nexus-test", "Key": "fn/x"})
            emit({"status": s, "data": d.decode()})
            """);
        Assert.True(result.ExitCode == 0, result.ToString());
        RuncNeighbour.AssertSandboxed(result.Json);
        Assert.Equal(200, result.Json.GetProperty("status").GetInt32());
        Assert.Equal("neighbour data", result.Json.GetProperty("data").GetString());
        Assert.False(neighbourSession.Closed.IsCompleted);
    }
}
