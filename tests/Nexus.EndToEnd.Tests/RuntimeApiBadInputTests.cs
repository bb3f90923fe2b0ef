// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Testing;

namespace Nexus.EndToEnd.Tests;

/// <summary>What a baseline function may send its Runtime API (it reaches it over HTTP, so it can send anything).</summary>
public sealed class RuntimeApiBadInputTests(NodeFixture fixture) : IClassFixture<NodeFixture>
{
    /// <summary>
    /// An invocation error whose body is not valid UTF-8 is still taken as the invocation's error (Runtime.Unknown, "an
    /// unreadable body"), not a 500 from inside the Runtime API that leaves the invocation to whatever the runtime posts
    /// next. Guards the UTF-8 check of LambdaJson.IsValidJson (the JSON reader checks a string's bytes only when one is
    /// read, and reading the errorType then threw); without it the post got 500 and the handler's own return answered,
    /// and this failed (once).
    /// </summary>
    [RootFact]
    public async Task An_error_whose_type_is_not_utf8_is_taken_as_the_invocations_error()
    {
        await fixture.DeployAsync("name: e2e-bad-error\nhandler: handler.handler\nio: baseline\n", """
            import os, urllib.error, urllib.request
            def handler(event, context):
                api = os.environ["AWS_LAMBDA_RUNTIME_API"]
                url = f"http://{api}/2018-06-01/runtime/invocation/{context.aws_request_id}/error"
                body = b'{"errorType":"Bad\xc3\x28","errorMessage":"posted by the handler"}'
                try:
                    status = urllib.request.urlopen(urllib.request.Request(url, data=body, method="POST"), timeout=10).status
                except urllib.error.HTTPError as e:
                    status = e.code
                return {"posted": status}
            """);

        var (response, body) = await fixture.InvokeAsync("e2e-bad-error", "{}");

        Assert.True(response.Headers.TryGetValues("X-Amz-Function-Error", out var error), $"a success: {body}");
        Assert.Equal("Unhandled", Assert.Single(error));
        Assert.Contains("unreadable body", body, StringComparison.Ordinal);
    }

    /// <summary>
    /// Guards the one-at-a-time rule of the Runtime API's results (RuntimeApiServer.ReadResultAsync): while one post of the
    /// instance's (an init error claiming 6 MB, left unfinished) is being read, another is refused with 409
    /// ResultInProgress before its body is read. Without it a baseline sandbox could hold any number of posts open, each
    /// up to 6 MiB buffered in the node (found by review, 2026-12-06); with the rule removed once, the second post was
    /// taken as the invocation's error (failed).
    /// </summary>
    [RootFact]
    public async Task A_second_result_while_one_is_being_read_is_refused_unread()
    {
        await fixture.DeployAsync("name: e2e-held-result\nhandler: handler.handler\nio: baseline\n", """
            import os, socket, time, urllib.error, urllib.request
            def handler(event, context):
                api = os.environ["AWS_LAMBDA_RUNTIME_API"]
                host, port = api.split(":")
                held = socket.create_connection((host, int(port)))
                held.sendall(b"POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: x\r\nContent-Length: 6000000\r\n\r\n" + b"{" * 1000)
                time.sleep(0.5)
                url = f"http://{api}/2018-06-01/runtime/invocation/{context.aws_request_id}/error"
                try:
                    answer = urllib.request.urlopen(urllib.request.Request(url, data=b'{"errorType":"Posted","errorMessage":"by the handler"}', method="POST"), timeout=10)
                    status, text = answer.status, answer.read().decode()
                except urllib.error.HTTPError as e:
                    status, text = e.code, e.read().decode()
                held.close()
                time.sleep(1)
                return {"second": status, "answer": text}
            """);

        var (response, body) = await fixture.InvokeAsync("e2e-held-result", "{}");

        Assert.False(response.Headers.Contains("X-Amz-Function-Error"), body);
        Assert.Contains("\"second\": 409", body, StringComparison.Ordinal);
        Assert.Contains("ResultInProgress", body, StringComparison.Ordinal);
    }
}
