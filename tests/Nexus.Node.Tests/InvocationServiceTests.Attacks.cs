// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text;
using Nexus.Channel;
using Nexus.Node.Transports;
using Nexus.Node.Transports.NexusChannel;
using Nexus.Testing.Channel;

namespace Nexus.Node.Tests;

// A hostile runtime against the node's invocation ops (docs/threat-model.md, "Results and init errors"): they run on the
// doorbell thread every channel of the node shares, and copy what the sandbox sends into the node's memory.
public sealed partial class InvocationServiceTests
{
    /// <summary>
    /// Guards <see cref="InvocationService.MaxResultHeaderBytes"/>: a result whose header is 4 MiB (the channel's own
    /// limit; a valid RequestId naming no invocation) is refused before a byte of it is read. Without the limit the
    /// doorbell thread copied and parsed it and quoted the id back, ~20 ms per request, while every other instance
    /// waited (found by review). With the limit removed once, 4 MiB were read and the answer was InvalidRequestID (failed).
    /// </summary>
    [Fact]
    public async Task A_result_with_a_header_past_4_KiB_is_refused_unread()
    {
        var (channel, session, _) = Attach();
        using var raw = new RawSandbox(channel);
        var header = Encoding.ASCII.GetBytes("{\"RequestId\":\"" + new string('a', (4 << 20) - 20) + "\"}");
        raw.SubmitRequest(1, ChannelOp.InvocationResponse, header);

        var answer = await raw.NextCompletionAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(400, answer!.Value.Status);
        Assert.Contains("RequestHeaderSectionTooLarge", raw.HeaderOf(answer.Value), StringComparison.Ordinal);
        Assert.Equal(0, session.Stats.BytesFromSandbox);
        Assert.Null(session.CloseReason);
    }

    /// <summary>
    /// Guards the one-at-a-time rule of results and init errors: a sandbox starting 255 init errors that each claim a
    /// 6 MiB body, sends all but its last byte from one extent of the request area and never finishes, gets one read and
    /// 254 refused (409 ResultInProgress) before anything of theirs is copied. Before, each was copied into a 6 MiB
    /// array of its own and held while the host waited for the last byte: 1.5 GiB of the node's memory from one
    /// instance (found by review; the heap grew by 1,531 MiB). With the rule removed once, none was refused (failed).
    /// </summary>
    [Fact]
    public async Task Unfinished_init_errors_cannot_pin_the_nodes_memory()
    {
        var (channel, session, _) = Attach(new ChannelOptions());
        using var raw = new RawSandbox(channel);
        var body = (uint)LambdaJson.MaxPayloadBytes;
        raw.Region.Slice((int)raw.Layout.RequestAreaOffset, (int)body).Fill((byte)'x');
        var before = GC.GetTotalMemory(forceFullCollection: true);

        var refused = 0;
        for (var i = 0; i < 255; i++)
        {
            raw.Submit(
                new ChannelRecord
                {
                    RequestId = (ulong)(i + 1),
                    Op = ChannelOp.InitError,
                    Flags = ChannelFlags.More,
                    Offset = (ulong)raw.Layout.RequestAreaOffset,
                    Length = body - 1,
                    TotalLength = body,
                    Slot = ChannelRecord.NoSlot,
                },
                ring: i % 16 == 15 || i == 254);
            refused += await DrainAsync(raw, TimeSpan.FromMilliseconds(1));
        }

        for (var waited = 0; refused < 254 && waited < 30; waited++)
        {
            refused += await DrainAsync(raw, TimeSpan.FromSeconds(1));
        }

        var grown = GC.GetTotalMemory(forceFullCollection: true) - before;
        Assert.Equal(254, refused);
        Assert.True(grown < 64L << 20, $"255 unfinished init errors of one sandbox hold {grown >> 20} MiB of the node's heap");
        Assert.Null(session.CloseReason);
    }

    /// <summary>
    /// A runtime that posts a result with <c>"Next": true</c> while it already waits for an invocation: the second wait
    /// is refused (409), and the invocation still gets its result. Before, the refusal came first and the invocation
    /// waited out its timeout (found by review). With the result set after the refusal once, this failed.
    /// </summary>
    [Fact]
    public async Task A_result_whose_second_wait_is_refused_still_ends_its_invocation()
    {
        var (channel, _, invocations) = Attach();
        using var raw = new RawSandbox(channel);
        raw.SubmitRequest(1, ChannelOp.NextInvocation, "{}");
        await invocations.Ready.WaitAsync(TimeSpan.FromSeconds(30));
        var result = invocations.InvokeAsync(new Invocation("req-1", "{}"u8.ToArray(), DateTimeOffset.UtcNow.AddMinutes(5), LambdaJson.FunctionArn("echo-fn")), CancellationToken.None);
        Assert.Equal(1UL, (await raw.NextCompletionAsync(TimeSpan.FromSeconds(30)))!.Value.RequestId);

        raw.SubmitRequest(2, ChannelOp.NextInvocation, "{}", relative: 64);
        raw.SubmitRequest(3, ChannelOp.InvocationResponse, """{"RequestId":"req-1","Next":true}""", relative: 128);
        var refused = await raw.NextCompletionAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(3UL, refused!.Value.RequestId);
        Assert.Equal(409, refused.Value.Status);
        var ended = await result.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(ended.IsError);
    }

    // Takes the completions there are, giving back their slots; returns how many were refusals of a result in progress.
    private static async Task<int> DrainAsync(RawSandbox raw, TimeSpan wait)
    {
        var refused = 0;
        while (await raw.NextCompletionAsync(wait) is { } completion)
        {
            if (completion.Status == 409 && raw.HeaderOf(completion).Contains("ResultInProgress", StringComparison.Ordinal))
            {
                refused++;
            }

            if (completion.Slot != ChannelRecord.NoSlot)
            {
                raw.Release(completion.Slot);
            }
        }

        return refused;
    }
}
