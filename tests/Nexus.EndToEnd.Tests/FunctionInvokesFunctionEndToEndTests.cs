// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text.Json;
using Nexus.Testing;

namespace Nexus.EndToEnd.Tests;

/// <summary>
/// A function invokes another with real boto3's <c>lambda.invoke</c>, unchanged, in both I/O modes: nexus mode over the
/// channel's generic path, baseline through the node's signing proxy (its default endpoint for Lambda), both ending in
/// the node's own Invoke API, within the caller's <c>services:</c> grants. The callee shares the caller's trace.
/// </summary>
public sealed class FunctionInvokesFunctionEndToEndTests(NodeFixture fixture) : IClassFixture<NodeFixture>
{
    private const string Callee = """
        import os

        def handler(event, context):
            return {"got": event, "trace": os.environ.get("_X_AMZN_TRACE_ID")}
        """;

    private const string Caller = """
        import json, os
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
            for name, call in (("denied", lambda: lam.invoke(FunctionName=event["denied"], Payload=b"{}")),
                               ("other_call", lambda: lam.get_function(FunctionName=event["callee"]))):
                try:
                    call()
                    out[name] = "allowed"
                except ClientError as e:
                    out[name] = [e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"]]
            return out
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
            $"name: e2e-caller-{io}\nhandler: handler.handler\nio: {io}\nservices:\n  - service: lambda\n    actions: [Invoke]\n    resource: function/{callee}\n",
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
        Assert.Equal(403, root.GetProperty("denied")[0].GetInt32());
        Assert.Equal(501, root.GetProperty("other_call")[0].GetInt32());
    }
}
