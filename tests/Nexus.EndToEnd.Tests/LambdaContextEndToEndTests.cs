// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Nexus.Testing;

namespace Nexus.EndToEnd.Tests;

/// <summary>
/// What a handler gets beside its event, the same in both I/O modes and as on Lambda: the caller's ClientContext
/// (decoded, as objects), an identity object without Cognito fields, the invocation's X-Ray trace header in
/// _X_AMZN_TRACE_ID (the caller's when it sent a well-formed one, else a new root), context.log, and the root logger
/// set up as Lambda's runtime sets it (in nexus mode in the fork template, before the handler's module runs).
/// </summary>
public sealed partial class LambdaContextEndToEndTests(NodeFixture fixture) : IClassFixture<NodeFixture>
{
    private const string Handler = """
        import logging
        import os

        logging.getLogger().setLevel(logging.INFO)

        def handler(event, context):
            context.log("via context.log " + context.aws_request_id + "\n")
            logging.getLogger("app").info("via logging %d", 7)
            cc = context.client_context
            return {
                "custom": cc and cc.custom, "env": cc and cc.env,
                "client": cc and cc.client and [cc.client.app_title, cc.client.installation_id],
                "identity": [context.identity.cognito_identity_id, context.identity.cognito_identity_pool_id],
                "trace": os.environ.get("_X_AMZN_TRACE_ID"), "w3c": context.w3c(),
                "lambda_env": [os.environ.get(n) for n in ("AWS_EXECUTION_ENV", "AWS_LAMBDA_INITIALIZATION_TYPE", "TZ")],
                "utc_offset": __import__("time").localtime().tm_gmtoff,
            }
        """;

    [RootTheory]
    [InlineData("nexus")]
    [InlineData("baseline")]
    public async Task A_handler_gets_the_callers_client_context_and_trace(string io)
    {
        var name = $"e2e-context-{io}";
        await fixture.DeployAsync($"name: {name}\nhandler: handler.handler\nio: {io}\n", Handler);
        const string trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
        var clientContext = Convert.ToBase64String(Encoding.UTF8.GetBytes(
            """{"custom": {"tenant": "t-\u00e9"}, "env": {"locale": "en"}, "client": {"app_title": "app"}, "w3c": {"traceparent": "00-ab-01", "n": 1}}"""));

        var (response, body) = await fixture.InvokeAsync(name, "{}", "Tail", new Dictionary<string, string>
        {
            ["X-Amz-Client-Context"] = clientContext,
            ["X-Amzn-Trace-Id"] = trace,
        });
        Assert.False(response.Headers.Contains("X-Amz-Function-Error"), body);
        using (var result = JsonDocument.Parse(body))
        {
            var root = result.RootElement;
            Assert.Equal("t-\u00e9", root.GetProperty("custom").GetProperty("tenant").GetString());
            Assert.Equal("en", root.GetProperty("env").GetProperty("locale").GetString());
            Assert.Equal("""["app", null]""", root.GetProperty("client").GetRawText());
            Assert.Equal("[null, null]", root.GetProperty("identity").GetRawText());
            // The caller's header, with the node's count of this function's runs in the chain (InvocationLineage).
            Assert.Matches("^" + Regex.Escape(trace) + ";Lineage=[0-9a-f]{8}:1$", root.GetProperty("trace").GetString());
            Assert.Equal("""{"traceparent": "00-ab-01"}""", root.GetProperty("w3c").GetRawText());
            Assert.Equal("""["AWS_Lambda_python3.11", "on-demand", ":UTC"]""", root.GetProperty("lambda_env").GetRawText());
            Assert.Equal(0, root.GetProperty("utc_offset").GetInt32());
        }

        var requestId = response.Headers.GetValues("X-Amzn-RequestId").Single();
        var tail = Encoding.UTF8.GetString(Convert.FromBase64String(response.Headers.GetValues("X-Amz-Log-Result").Single()));
        Assert.Contains("via context.log " + requestId, tail, StringComparison.Ordinal);
        Assert.Matches($@"\[INFO\]\t\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z\t{requestId}\tvia logging 7\n", tail);

        // Without either: no client context, and a trace of its own (not the last call's).
        (response, body) = await fixture.InvokeAsync(name, "{}");
        using (var result = JsonDocument.Parse(body))
        {
            var root = result.RootElement;
            Assert.Equal(JsonValueKind.Null, root.GetProperty("custom").ValueKind);
            Assert.Equal("[null, null]", root.GetProperty("identity").GetRawText());
            var own = root.GetProperty("trace").GetString()!;
            Assert.Matches(NewTrace(), own);
            Assert.DoesNotContain("bd862e3fe1be46a994272793", own, StringComparison.Ordinal);
        }
    }

    [GeneratedRegex("^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0;Lineage=[0-9a-f]{8}:1$")]
    private static partial Regex NewTrace();
    /// <summary>
    /// Lambda's JSON log format (function.yaml <c>logging:</c>): the handler's <c>logging</c> records are JSON objects with
    /// its request id and extra fields, filtered by the application level; print() stays text; the node's START and
    /// REPORT are platform.start / platform.report records, and a system level of WARN leaves them out.
    /// </summary>
    [RootTheory]
    [InlineData("nexus")]
    [InlineData("baseline")]
    public async Task The_json_log_format_writes_the_functions_and_the_nodes_records_as_json(string io)
    {
        const string handler = """
            import logging

            def handler(event, context):
                logging.getLogger("app").debug("detail %d", 1, extra={"orderId": "o-1"})
                print("plain print")
                return "ok"
            """;
        var name = $"e2e-jsonlogs-{io}";
        await fixture.DeployAsync($"name: {name}\nhandler: handler.handler\nio: {io}\nlogging:\n  format: JSON\n  applicationLogLevel: DEBUG\n", handler);
        var (response, body) = await fixture.InvokeAsync(name, "{}", "Tail");
        Assert.Equal("\"ok\"", body);
        var requestId = response.Headers.GetValues("X-Amzn-RequestId").Single();
        var lines = Encoding.UTF8.GetString(Convert.FromBase64String(response.Headers.GetValues("X-Amz-Log-Result").Single()))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("plain print", lines);
        var records = lines.Where(l => l.StartsWith('{')).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var start = Assert.Single(records, r => r.TryGetProperty("type", out var t) && t.GetString() == "platform.start");
        Assert.Equal(requestId, start.GetProperty("record").GetProperty("requestId").GetString());
        var report = Assert.Single(records, r => r.TryGetProperty("type", out var t) && t.GetString() == "platform.report");
        Assert.Equal("success", report.GetProperty("record").GetProperty("status").GetString());
        var detail = Assert.Single(records, r => r.TryGetProperty("message", out var m) && m.GetString() == "detail 1");
        Assert.Equal(("DEBUG", "app", requestId, "o-1"), (detail.GetProperty("level").GetString(), detail.GetProperty("logger").GetString(),
            detail.GetProperty("requestId").GetString(), detail.GetProperty("orderId").GetString()));
        Assert.DoesNotContain(lines, l => l.Contains("RequestId:", StringComparison.Ordinal));

        var quiet = $"e2e-jsonlogs-quiet-{io}";
        await fixture.DeployAsync($"name: {quiet}\nhandler: handler.handler\nio: {io}\nlogging:\n  format: JSON\n  systemLogLevel: WARN\n", handler);
        (response, _) = await fixture.InvokeAsync(quiet, "{}", "Tail");
        var tail = Encoding.UTF8.GetString(Convert.FromBase64String(response.Headers.GetValues("X-Amz-Log-Result").Single()));
        Assert.Contains("plain print", tail, StringComparison.Ordinal);
        Assert.DoesNotContain("platform.", tail, StringComparison.Ordinal);
        Assert.DoesNotContain("detail 1", tail, StringComparison.Ordinal); // below the default application level, INFO
    }
}
