// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text;
using System.Text.Json;
using Nexus.Channel;
using Nexus.Channel.Services;
using Nexus.Node.Transports;
using Nexus.Node.Transports.NexusChannel;
using Nexus.Testing.Channel;

namespace Nexus.Node.Tests;

/// <summary>Invocations pushed by the node's <see cref="InvocationService"/> over a real channel to a Python runtime loop.</summary>
public sealed partial class InvocationServiceTests : IAsyncLifetime
{
    private const string RuntimeLoop = """
        import json, os, sys
        import nexus_channel
        src = nexus_channel.InvocationSource()
        while True:
            inv = src.next()
            ev = json.loads(inv.event)
            if ev.get("stop"):
                src.transport.post_response(inv.request_id, b'"bye"')   # answered 202: the loop ends
                break
            if ev.get("fail"):
                src.post_error(inv.request_id, {"errorMessage": "boom", "errorType": "ValueError", "stackTrace": ["line 1"]})
                continue
            out = {"rid": inv.request_id, "deadline": inv.deadline_ms, "arn": inv.function_arn, "size": len(inv.event)}
            if ev.get("exact"):
                src.post_response(inv.request_id, b"1" * ev["exact"])   # a body of exactly that many bytes
                continue
            if ev.get("big"):
                out["pad"] = "y" * ev["big"]
            src.post_response(inv.request_id, json.dumps(out).encode())
        """;

    private readonly ChannelServiceHost _host = new();
    private readonly List<ProcessChannel> _channels = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        foreach (var channel in _channels)
        {
            channel.Dispose();
        }
    }

    [Fact]
    public async Task Invocations_reach_the_runtime_and_results_and_errors_come_back()
    {
        // A 1 MiB region with 64 KiB chunks, so 3 MiB events and responses are chunked both ways.
        var (channel, _, session) = Attach(new ChannelOptions { RegionSize = 1 << 20, SlotSize = 64 << 10 });
        var process = PythonSandbox.Start(channel, RuntimeLoop, out var stdout, out var stderr);
        var deadline = DateTimeOffset.UtcNow.AddMinutes(5);

        var ok = await session.InvokeAsync(NewInvocation("req-1", """{"hello":1}"""u8.ToArray(), deadline), CancellationToken.None);
        Assert.False(ok.IsError);
        using (var doc = JsonDocument.Parse(ok.Payload))
        {
            Assert.Equal("req-1", doc.RootElement.GetProperty("rid").GetString());
            Assert.Equal(deadline.ToUnixTimeMilliseconds(), doc.RootElement.GetProperty("deadline").GetInt64());
            Assert.Equal(LambdaJson.FunctionArn("echo-fn"), doc.RootElement.GetProperty("arn").GetString());
        }

        var failed = await session.InvokeAsync(NewInvocation("req-2", """{"fail":true}"""u8.ToArray(), deadline), CancellationToken.None);
        Assert.True(failed.IsError);
        Assert.Equal("ValueError", failed.ErrorType);
        Assert.Contains("boom", Encoding.UTF8.GetString(failed.Payload.Span), StringComparison.Ordinal);

        var bigEvent = Encoding.UTF8.GetBytes($$"""{"big":3000000,"pad":"{{new string('x', 3_000_000)}}"}""");
        var big = await session.InvokeAsync(NewInvocation("req-3", bigEvent, deadline), CancellationToken.None);
        Assert.False(big.IsError);
        using (var doc = JsonDocument.Parse(big.Payload))
        {
            Assert.Equal(bigEvent.Length, doc.RootElement.GetProperty("size").GetInt32());
            Assert.Equal(3_000_000, doc.RootElement.GetProperty("pad").GetString()!.Length);
        }

        var bye = await session.InvokeAsync(NewInvocation("req-4", """{"stop":true}"""u8.ToArray(), deadline), CancellationToken.None);
        Assert.Equal("\"bye\"", Encoding.UTF8.GetString(bye.Payload.Span));
        Assert.True(await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1)) == 0, File.ReadAllText(stderr));
        File.Delete(stdout);
        File.Delete(stderr);
    }

    /// <summary>
    /// Guards Lambda's limit on results (InvocationService reads at most <see cref="LambdaJson.MaxResponseBytes"/> of a
    /// response body, 6291556): a body of exactly that many bytes is the result, one byte more fails the invocation as
    /// Lambda does, Function.ResponseSizeTooLarge in its words, instead of the node buffering it. With the limit passed
    /// as int.MaxValue once, a 6.5 MB result came back as a success and this failed; with the node's old limit of
    /// 6291456, 100 bytes under Lambda's, the exact body was refused and this failed.
    /// </summary>
    [Fact]
    public async Task A_response_past_Lambdas_6291556_bytes_fails_the_invocation_as_ResponseSizeTooLarge()
    {
        var (channel, _, session) = Attach(new ChannelOptions { RegionSize = 1 << 20, SlotSize = 64 << 10 });
        var process = PythonSandbox.Start(channel, RuntimeLoop, out var stdout, out var stderr);
        try
        {
            var fits = await session.InvokeAsync(NewInvocation("req-exact", """{"exact":6291556}"""u8.ToArray(), DateTimeOffset.UtcNow.AddMinutes(5)), CancellationToken.None);
            Assert.False(fits.IsError, Encoding.UTF8.GetString(fits.Payload.Span[..Math.Min(300, fits.Payload.Length)]));
            Assert.Equal(6291556, fits.Payload.Length);

            var result = await session.InvokeAsync(NewInvocation("req-big", """{"exact":6291557}"""u8.ToArray(), DateTimeOffset.UtcNow.AddMinutes(5)), CancellationToken.None);
            Assert.True(result.IsError, "a result over the limit was accepted");
            Assert.Equal("Function.ResponseSizeTooLarge", result.ErrorType);
            Assert.Equal("Response payload size (6291557 bytes) exceeded maximum allowed payload size (6291556 bytes).", (string?)System.Text.Json.Nodes.JsonNode.Parse(result.Payload.Span)?["errorMessage"]);
        }
        finally
        {
            process.Kill();
            await process.WaitForExitAsync();
            File.Delete(stdout);
            File.Delete(stderr);
        }
    }

    [Fact]
    public async Task An_init_error_fails_pending_and_later_invocations_with_its_payload()
    {
        var (channel, _, session) = Attach();
        var pending = session.InvokeAsync(NewInvocation("req-1", "{}"u8.ToArray(), DateTimeOffset.UtcNow.AddMinutes(5)), CancellationToken.None);
        var result = await PythonSandbox.RunAsync(channel, """
            import nexus_channel
            src = nexus_channel.InvocationSource()
            src.init_error({"errorMessage": "No module named 'handler'", "errorType": "Runtime.ImportModuleError", "stackTrace": []})
            print("{}")
            """);
        Assert.True(result.ExitCode == 0, result.ToString());
        var first = await pending;
        Assert.True(first.IsError);
        Assert.Equal("Runtime.ImportModuleError", first.ErrorType);
        var later = await session.InvokeAsync(NewInvocation("req-2", "{}"u8.ToArray(), DateTimeOffset.UtcNow.AddMinutes(5)), CancellationToken.None);
        Assert.Equal("Runtime.ImportModuleError", later.ErrorType);
    }

    [Fact]
    public async Task A_closed_channel_fails_waiting_invocations()
    {
        var (channel, _, session) = Attach();
        using var raw = new RawSandbox(channel);
        var pending = session.InvokeAsync(NewInvocation("req-1", "{}"u8.ToArray(), DateTimeOffset.UtcNow.AddMinutes(5)), CancellationToken.None);
        raw.SubTail = 1_000_000;
        channel.ToHost.Signal();
        await Assert.ThrowsAsync<ChannelClosedException>(() => pending);
        await Assert.ThrowsAsync<ChannelClosedException>(() => session.InvokeAsync(NewInvocation("req-2", "{}"u8.ToArray(), DateTimeOffset.UtcNow.AddMinutes(5)), CancellationToken.None));
    }

    [Fact]
    public async Task An_invocation_is_pushed_into_the_waiting_request_and_a_second_waiter_is_refused()
    {
        var (channel, _, session) = Attach();
        using var raw = new RawSandbox(channel);
        raw.SubmitRequest(1, ChannelOp.NextInvocation, "{}");
        raw.SubmitRequest(2, ChannelOp.NextInvocation, "{}", relative: 64);
        var refused = await raw.NextCompletionAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(2UL, refused!.Value.RequestId);
        Assert.Equal(409, refused.Value.Status);
        Assert.True(session.Ready.IsCompleted);

        var result = session.InvokeAsync(NewInvocation("req-1", "{\"k\":1}"u8.ToArray(), DateTimeOffset.UtcNow.AddMinutes(5)), CancellationToken.None);
        var pushed = await raw.NextCompletionAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(1UL, pushed!.Value.RequestId);
        Assert.Equal(200, pushed.Value.Status);
        Assert.Contains("\"RequestId\":\"req-1\"", raw.HeaderOf(pushed.Value), StringComparison.Ordinal);
        Assert.Equal(7UL, pushed.Value.TotalLength);
        Assert.False(result.IsCompleted);
    }

    private static Invocation NewInvocation(string requestId, byte[] payload, DateTimeOffset deadline) =>
        new(requestId, payload, deadline, LambdaJson.FunctionArn("echo-fn"));

    private (ProcessChannel Channel, ChannelSession Session, InvocationService Invocations) Attach(ChannelOptions? options = null)
    {
        var channel = new ProcessChannel(options ?? new ChannelOptions { RegionSize = 16 << 20, SlotSize = 1 << 20 });
        _channels.Add(channel);
        var session = _host.Open(channel.Host);
        var invocations = new InvocationService(session, LambdaJson.MaxResponseBytes);
        session.Start();
        return (channel, session, invocations);
    }
}
