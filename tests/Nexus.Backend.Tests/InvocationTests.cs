// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text;
using System.Text.Json;
using Nexus.Channel;
using Nexus.Testing.Channel;

namespace Nexus.Backend.Tests;

/// <summary>Invocations pushed by the node through <see cref="InstanceSession.InvokeAsync"/> to a Python runtime loop.</summary>
public sealed class InvocationTests : IAsyncLifetime
{
    private const string RuntimeLoop = """
        import json, os, sys
        import nexus_channel
        src = nexus_channel.InvocationSource()
        while True:
            inv = src.next()
            ev = json.loads(inv.event)
            if ev.get("stop"):
                src.post_response(inv.request_id, b'"bye"')
                break
            if ev.get("fail"):
                src.post_error(inv.request_id, {"errorMessage": "boom", "errorType": "ValueError", "stackTrace": ["line 1"]})
                continue
            out = {"rid": inv.request_id, "deadline": inv.deadline_ms, "arn": inv.function_arn, "size": len(inv.event)}
            if ev.get("big"):
                out["pad"] = "y" * ev["big"]
            src.post_response(inv.request_id, json.dumps(out).encode())
        """;

    private NodeUnderTest _node = null!;

    public async Task InitializeAsync() => _node = await NodeUnderTest.StartAsync();

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task Invocations_reach_the_runtime_and_results_and_errors_come_back()
    {
        // A 1 MiB region with 64 KiB chunks, so 3 MiB events and responses are chunked both ways.
        var (channel, session) = _node.Attach(new ChannelOptions { RegionSize = 1 << 20, SlotSize = 64 << 10 }, NodeUnderTest.Manifest("echo-fn"));
        var process = PythonSandbox.Start(channel, RuntimeLoop, out var stdout, out var stderr);
        var deadline = DateTimeOffset.UtcNow.AddMinutes(5);

        var ok = await session.InvokeAsync("req-1", """{"hello":1}"""u8.ToArray(), deadline);
        Assert.Equal(InvocationStatus.Success, ok.Status);
        using (var doc = JsonDocument.Parse(ok.Payload))
        {
            Assert.Equal("req-1", doc.RootElement.GetProperty("rid").GetString());
            Assert.Equal(deadline.ToUnixTimeMilliseconds(), doc.RootElement.GetProperty("deadline").GetInt64());
            Assert.EndsWith(":function:echo-fn", doc.RootElement.GetProperty("arn").GetString(), StringComparison.Ordinal);
        }

        var failed = await session.InvokeAsync("req-2", """{"fail":true}"""u8.ToArray(), deadline);
        Assert.Equal(InvocationStatus.FunctionError, failed.Status);
        Assert.Equal("ValueError", failed.ErrorType);
        Assert.Contains("boom", Encoding.UTF8.GetString(failed.Payload.Span), StringComparison.Ordinal);

        var bigEvent = Encoding.UTF8.GetBytes($$"""{"big":3000000,"pad":"{{new string('x', 3_000_000)}}"}""");
        var big = await session.InvokeAsync("req-3", bigEvent, deadline);
        Assert.Equal(InvocationStatus.Success, big.Status);
        using (var doc = JsonDocument.Parse(big.Payload))
        {
            Assert.Equal(bigEvent.Length, doc.RootElement.GetProperty("size").GetInt32());
            Assert.Equal(3_000_000, doc.RootElement.GetProperty("pad").GetString()!.Length);
        }

        var bye = await session.InvokeAsync("req-4", """{"stop":true}"""u8.ToArray(), deadline);
        Assert.Equal("\"bye\"", Encoding.UTF8.GetString(bye.Payload.Span));
        Assert.True(await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1)) == 0, File.ReadAllText(stderr));
        File.Delete(stdout);
        File.Delete(stderr);
    }

    [Fact]
    public async Task An_init_error_fails_pending_and_later_invocations_with_its_payload()
    {
        var (channel, session) = _node.Attach();
        var pending = session.InvokeAsync("req-1", "{}"u8.ToArray(), DateTimeOffset.UtcNow.AddMinutes(5));
        var result = await PythonSandbox.RunAsync(channel, """
            import nexus_channel
            src = nexus_channel.InvocationSource()
            src.init_error({"errorMessage": "No module named 'handler'", "errorType": "Runtime.ImportModuleError", "stackTrace": []})
            print("{}")
            """);
        Assert.True(result.ExitCode == 0, result.ToString());
        var first = await pending;
        Assert.Equal(InvocationStatus.InitError, first.Status);
        Assert.Equal("Runtime.ImportModuleError", first.ErrorType);
        var later = await session.InvokeAsync("req-2", "{}"u8.ToArray(), DateTimeOffset.UtcNow.AddMinutes(5));
        Assert.Equal(InvocationStatus.InitError, later.Status);
    }

    [Fact]
    public async Task A_closed_channel_fails_waiting_invocations()
    {
        var (channel, session) = _node.Attach();
        using var raw = new RawSandbox(channel);
        var pending = session.InvokeAsync("req-1", "{}"u8.ToArray(), DateTimeOffset.UtcNow.AddMinutes(5));
        raw.SubTail = 1_000_000;
        channel.ToHost.Signal();
        await Assert.ThrowsAsync<InstanceClosedException>(() => pending);
        await Assert.ThrowsAsync<InstanceClosedException>(() => session.InvokeAsync("req-2", "{}"u8.ToArray(), DateTimeOffset.UtcNow.AddMinutes(5)));
    }
}
