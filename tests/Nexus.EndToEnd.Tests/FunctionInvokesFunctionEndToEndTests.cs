// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text.Json;
using Nexus.Testing;

namespace Nexus.EndToEnd.Tests;

/// <summary>
/// A function invokes another with boto3's <c>lambda.invoke</c>, unchanged, in both I/O modes: nexus mode over the
/// channel (the stand-in's Lambda client, no real botocore loaded), baseline through the node's signing proxy (its
/// default endpoint for Lambda), both ending in the node's own Invoke API, within the caller's <c>services:</c> grants.
/// The callee shares the caller's trace.
/// </summary>
public sealed class FunctionInvokesFunctionEndToEndTests(NodeFixture fixture) : IClassFixture<NodeFixture>
{
    private const string Callee = """
        import os

        def handler(event, context):
            return {"got": event, "trace": os.environ.get("_X_AMZN_TRACE_ID")}
        """;

    private const string Caller = """
        import json, os, sys
        import boto3
        from botocore.config import Config
        from botocore.exceptions import ClientError

        lam = boto3.client("lambda", config=Config(retries={"max_attempts": 1}))

        def handler(event, context):
            out = {"trace": os.environ.get("_X_AMZN_TRACE_ID")}
            answer = lam.invoke(FunctionName=event["callee"], Payload=json.dumps({"n": event["n"]}).encode())
            out["sync"] = [answer["StatusCode"], answer.get("FunctionError"), json.loads(answer["Payload"].read())]
            queued = lam.invoke(FunctionName=event["callee"], InvocationType="Event", Payload=b"{}")
            out["event"] = queued["StatusCode"]
            # A read the node serves to functions under its own grant: the callee's configuration from the node's API.
            configuration = lam.get_function_configuration(FunctionName=event["callee"])
            out["configuration"] = [configuration["FunctionName"], configuration["Handler"]]
            for name, call in (("denied", lambda: lam.invoke(FunctionName=event["denied"], Payload=b"{}")),
                               ("other_call", lambda: lam.get_function(FunctionName=event["callee"])),
                               ("unlisted", lambda: lam.list_functions())):
                try:
                    call()
                    out[name] = "allowed"
                except ClientError as e:
                    out[name] = [e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"]]
            # Whether the real SDK's HTTP stack is loaded: baseline's boto3 is the real one; nexus mode's Lambda client
            # is the stand-in's (Invoke its own, the reads from Lambda's model).
            out["real_sdk"] = "urllib3" in sys.modules
            return out
        """;

    private const string SelfInvoker = """
        import json, os
        import boto3
        from botocore.exceptions import ClientError

        lam = boto3.client("lambda")

        def handler(event, context):
            hop = event.get("hop", 0) + 1
            print(f"hop {hop}")
            try:
                lam.invoke(FunctionName=os.environ["AWS_LAMBDA_FUNCTION_NAME"], InvocationType="Event", Payload=json.dumps({"hop": hop}).encode())
            except ClientError as e:
                print(f"stopped after hop {hop}: {e.response['Error']['Code']}")
            return hop
        """;

    [RootTheory]
    [InlineData("nexus")]
    [InlineData("baseline")]
    public async Task A_function_invokes_the_function_its_grants_name_and_no_other(string io)
    {
        var callee = $"e2e-callee-{io}";
        var other = $"e2e-other-{io}";
        await fixture.DeployAsync($"name: {callee}\nhandler: handler.handler\n", Callee);
        await fixture.DeployAsync($"name: {other}\nhandler: handler.handler\n", Callee);
        await fixture.DeployAsync(
            $"name: e2e-caller-{io}\nhandler: handler.handler\nio: {io}\nservices:\n  - service: lambda\n    actions: [Invoke, GetFunctionConfiguration]\n    resource: function/{callee}\n",
            Caller);

        var (response, body) = await fixture.InvokeAsync($"e2e-caller-{io}", JsonSerializer.Serialize(new { callee, denied = other, n = 41 }));
        Assert.False(response.Headers.Contains("X-Amz-Function-Error"), body);
        using var result = JsonDocument.Parse(body);
        var root = result.RootElement;
        var sync = root.GetProperty("sync");
        Assert.Equal(200, sync[0].GetInt32());
        Assert.Equal(JsonValueKind.Null, sync[1].ValueKind);
        Assert.Equal(41, sync[2].GetProperty("got").GetProperty("n").GetInt32());

        // The callee runs in the caller's trace (botocore sends the caller's _X_AMZN_TRACE_ID as X-Amzn-Trace-Id).
        var callerRoot = root.GetProperty("trace").GetString()!.Split(';')[0];
        Assert.StartsWith("Root=1-", callerRoot, StringComparison.Ordinal);
        Assert.StartsWith(callerRoot + ";", sync[2].GetProperty("trace").GetString(), StringComparison.Ordinal);

        Assert.Equal(202, root.GetProperty("event").GetInt32());
        Assert.Equal(io == "baseline", root.GetProperty("real_sdk").GetBoolean());
        Assert.Equal(403, root.GetProperty("denied")[0].GetInt32());
        Assert.Equal(501, root.GetProperty("other_call")[0].GetInt32());
        Assert.Equal([callee, "handler.handler"], root.GetProperty("configuration").EnumerateArray().Select(e => e.GetString()));
        // Listing every function needs a grant on every function ("*").
        Assert.Equal(403, root.GetProperty("unlisted")[0].GetInt32());
    }

    /// <summary>
    /// A function that invokes itself asynchronously forever (granted to) runs 16 times in its chain and is stopped, as
    /// Lambda stops a recursive loop: the chain's count travels in the trace header's Lineage, through the event queue
    /// too. Without the count check this chain never ends.
    /// </summary>
    [RootTheory]
    [InlineData("nexus")]
    [InlineData("baseline")]
    public async Task A_function_invoking_itself_is_stopped_after_16_runs_of_its_chain(string io)
    {
        var name = $"e2e-loop-{io}";
        await fixture.DeployAsync(
            $"name: {name}\nhandler: handler.handler\nio: {io}\nservices:\n  - service: lambda\n    actions: [Invoke]\n    resource: function/{name}\n",
            SelfInvoker);
        var (_, body) = await fixture.InvokeAsync(name, "{}");
        Assert.Equal("1", body);

        var until = DateTime.UtcNow.AddMinutes(2);
        List<string> lines;
        while (!(lines = Lines(name)).Any(l => l.StartsWith("stopped after", StringComparison.Ordinal)) && DateTime.UtcNow < until)
        {
            await Task.Delay(200);
        }

        Assert.Equal("stopped after hop 16: RecursiveInvocationException", Assert.Single(lines, l => l.StartsWith("stopped after", StringComparison.Ordinal)));
        await Task.Delay(1000);
        Assert.Equal([.. Enumerable.Range(1, 16).Select(n => $"hop {n}")], Lines(name).Where(l => l.StartsWith("hop ", StringComparison.Ordinal)));
    }

    // The function's own lines: "<time> <instance> <request id or -> <text>".
    private List<string> Lines(string name) =>
        [.. fixture.Node.Logs.Tail(name, 10_000).Select(line => line.Split(' ', 4)).Where(f => f.Length == 4).Select(f => f[3])];
}
