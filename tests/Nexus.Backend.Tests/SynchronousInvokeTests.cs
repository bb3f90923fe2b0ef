// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net;
using System.Text;
using Nexus.Backend.Services;
using Nexus.Channel;
using Nexus.Functions;
using Nexus.Testing;
using Nexus.Testing.Channel;

namespace Nexus.Backend.Tests;

/// <summary>
/// A function's synchronous Lambda invoke (the generic path) waits for its callee, and the callee's own storage calls
/// need permits of the same backend budgets: callers holding permits while they wait would stall their callees (every
/// permit held by a waiting caller, no callee served) until the callers time out. Here the backend's whole budget is
/// one permit and a stand-in Lambda endpoint answers the invoke only once the callee's storage call has been served.
/// </summary>
public sealed class SynchronousInvokeTests : IAsyncLifetime
{
    private readonly TaskCompletionSource _invoked = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _calleeServed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private NodeUnderTest _node = null!;
    private StandInEndpoint _lambda = null!;

    public async Task InitializeAsync()
    {
        _lambda = new StandInEndpoint(AnswerInvokeAsync);
        _node = await NodeUnderTest.StartAsync(configure: o => o with
        {
            MaxConcurrentRequests = 1,
            MaxInFlightPerFunction = 1,
            MaxInFlightPerInstance = 1,
            Services = new Dictionary<string, ServiceEndpoint> { ["lambda"] = new() { Url = _lambda.Url } },
        });
        await _node.PutAsync("fn/input", "the callee's input"u8.ToArray());
    }

    public async Task DisposeAsync()
    {
        _calleeServed.TrySetResult();
        await _node.DisposeAsync();
        await _lambda.DisposeAsync();
    }

    /// <summary>
    /// Guards the permit given back while an invoke waits (<c>RequestPermit.ReleasedWhileAsync</c> in
    /// <c>ServiceCalls.SendAsync</c>): the callee's GetObject is served while the caller waits, then the caller gets its
    /// answer. With the invoke sent holding its permit once, the callee's call was never served and this failed.
    /// </summary>
    [Fact]
    public async Task A_caller_waiting_for_its_callee_does_not_hold_the_permit_the_callee_needs()
    {
        var caller = NodeUnderTest.Manifest("caller") with { Services = [new ServiceGrant("lambda", ["Invoke"], "function/callee")] };
        var (callerChannel, callerSession) = _node.Attach(manifest: caller);
        using var callerSandbox = new RawSandbox(callerChannel);
        var header = Encoding.UTF8.GetBytes("""
            {"Service":"lambda","Operation":"Invoke","Method":"POST","Path":"/2015-03-31/functions/callee/invocations",
             "Headers":{"Content-Type":"application/json","X-Amz-Invocation-Type":"RequestResponse"}}
            """);
        var body = """{"n":1}"""u8.ToArray();
        callerSandbox.Submit(new ChannelRecord
        {
            RequestId = 1,
            Op = ChannelOp.ServiceRequest,
            Offset = callerSandbox.WriteRequestBytes(0, [.. header, .. body]),
            Length = (uint)(header.Length + body.Length),
            HeaderLength = (uint)header.Length,
            TotalLength = (ulong)body.Length,
            Slot = ChannelRecord.NoSlot,
        });
        await _invoked.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // The callee, while its caller waits: its storage call needs the backend's only permit.
        var (calleeChannel, calleeSession) = _node.Attach(manifest: NodeUnderTest.Manifest("callee"));
        using var callee = new RawSandbox(calleeChannel);
        callee.SubmitRequest(1, ChannelOp.GetObject, """{"Bucket":"nexus-test","Key":"fn/input"}""");
        var served = await callee.NextCompletionAsync(TimeSpan.FromSeconds(10));
        Assert.True(served is { Status: 200 }, $"the callee's storage call was not served while its caller waited: {served?.Status} {calleeSession.CloseReason}");
        callee.Release(served!.Value.Slot);
        _calleeServed.SetResult();

        var answer = await callerSandbox.NextCompletionAsync(TimeSpan.FromSeconds(30));
        Assert.True(answer is { RequestId: 1, Status: 200 }, $"the caller's invoke: {answer?.Status} {callerSession.CloseReason}");
    }

    // The stand-in Lambda: answers an invoke once the callee's call was served (as the node answers once the callee's
    // handler returns).
    private async Task AnswerInvokeAsync(HttpListenerContext context)
    {
        _invoked.TrySetResult();
        await _calleeServed.Task;
        context.Response.ContentType = "application/json";
        await context.Response.OutputStream.WriteAsync("""{"from":"callee"}"""u8.ToArray());
    }
}
