// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text;
using Nexus.Testing;

namespace Nexus.EndToEnd.Tests;

/// <summary>
/// Lambda's log contract in real sandboxes: everything a function prints during an invocation is logged with that
/// invocation's request id before its END and REPORT lines, and LogType=Tail returns it. The runtime writes the
/// traceback just before it posts the error, so without the node's drain before END (InstancePool.RunAsync:
/// sandbox.DrainOutput) the traceback often came after END, without a request id, and was missing from the tail: with
/// the drain removed this test failed in both modes (tried once).
/// </summary>
public sealed class LogOrderEndToEndTests(NodeFixture fixture) : IClassFixture<NodeFixture>
{
    private const int Invocations = 25;

    private const string Handler = """
        import sys

        def handler(event, context):
            for i in range(40):
                print(f"out {context.aws_request_id} {i}")
                sys.stderr.write(f"err {context.aws_request_id} {i}\n")
            sys.stdout.write(f"last {context.aws_request_id} without a newline")
            deeper(context.aws_request_id)

        def deeper(request_id):
            raise ValueError("boom " + request_id)
        """;

    [RootTheory]
    [InlineData("nexus")]
    [InlineData("baseline")]
    public async Task EverythingAFailingFunctionPrintsIsLoggedBeforeItsEnd(string io)
    {
        var name = $"e2e-logorder-{io}";
        await fixture.DeployAsync($"name: {name}\nhandler: handler.handler\nio: {io}\n", Handler);
        var requestIds = new List<string>();
        for (var n = 0; n < Invocations; n++)
        {
            var (response, body) = await fixture.InvokeAsync(name, "{}", "Tail");
            Assert.Equal("Unhandled", response.Headers.GetValues("X-Amz-Function-Error").Single());
            var requestId = response.Headers.GetValues("X-Amzn-RequestId").Single();
            requestIds.Add(requestId);
            Assert.Contains("boom " + requestId, body, StringComparison.Ordinal);

            var tail = Encoding.UTF8.GetString(Convert.FromBase64String(response.Headers.GetValues("X-Amz-Log-Result").Single()));
            var end = tail.IndexOf("END RequestId: " + requestId, StringComparison.Ordinal);
            Assert.True(end > 0, $"call {n}: no END line in the tail:\n{tail}");
            foreach (var expected in new[] { $"out {requestId} 39", $"err {requestId} 39", $"last {requestId} without a newline", "Traceback (most recent call last):", "ValueError: boom " + requestId })
            {
                var at = tail.IndexOf(expected, StringComparison.Ordinal);
                Assert.True(at >= 0 && at < end, $"call {n}: '{expected}' is not before END in the tail:\n{tail}");
            }
        }

        // The function's log: "<time> <instance> <request id or -> <text>".
        var log = fixture.Node.Logs.Tail(name, 100_000).Select(line => line.Split(' ', 4)).Where(f => f.Length == 4).ToList();
        foreach (var requestId in requestIds)
        {
            var end = log.FindIndex(f => f[3] == "END RequestId: " + requestId);
            Assert.True(end > 0, $"no END line for {requestId}");
            var mine = log.Select((fields, at) => (fields, at)).Where(l => l.fields[3].Contains(requestId, StringComparison.Ordinal) || l.fields[3].StartsWith("Traceback", StringComparison.Ordinal)).ToList();
            foreach (var expected in Enumerable.Range(0, 40).SelectMany(i => new[] { $"out {requestId} {i}", $"err {requestId} {i}" }).Append($"last {requestId} without a newline").Append($"[ERROR] ValueError: boom {requestId}"))
            {
                var (fields, at) = Assert.Single(mine, l => l.fields[3] == expected);
                Assert.True(fields[2] == requestId && at < end, $"'{expected}' logged as request '{fields[2]}' at line {at}, END at {end}");
            }

            // The traceback's first line carries no request id of its own: the one logged under this id comes before END.
            Assert.Contains(mine, l => l.fields[2] == requestId && l.fields[3] == "Traceback (most recent call last):" && l.at < end);
        }

        Assert.DoesNotContain(log, f => f[2] == "-" && (f[3].StartsWith("Traceback", StringComparison.Ordinal) || f[3].Contains("ValueError", StringComparison.Ordinal) || f[3].StartsWith("  File ", StringComparison.Ordinal)));
    }
}
