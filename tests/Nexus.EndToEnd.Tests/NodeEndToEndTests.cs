// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using System.Text.Json;
using Nexus.Testing;

namespace Nexus.EndToEnd.Tests;

public sealed class NodeEndToEndTests(NodeFixture fixture) : IClassFixture<NodeFixture>
{
    private static string ErrorType(string body)
    {
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.GetProperty("errorType").GetString()!;
    }

    /// <summary>
    /// An instance's malloc heap is on transparent huge pages (the node's GLIBC_TUNABLES): the idle trim gives it back
    /// after a second and the next call faults 16 MiB in with a few huge-page faults, not thousands of small ones.
    /// </summary>
    [HugePagesTheory]
    [InlineData("nexus")]
    [InlineData("baseline")]
    public async Task AFunctionsHeapIsOnHugePages(string io)
    {
        await fixture.DeployAsync($"name: e2e-thp-{io}\nhandler: handler.handler\nio: {io}\n", """
            def handler(event, context):
                buffer = bytearray(16 << 20)
                for i in range(0, len(buffer), 4096):
                    buffer[i] = 1
                with open("/proc/self/smaps_rollup") as smaps:
                    huge = next(int(line.split()[1]) for line in smaps if line.startswith("AnonHugePages:"))
                return {"anon_huge_kib": huge}
            """);
        var (response, body) = await fixture.InvokeAsync($"e2e-thp-{io}", "{}");
        Assert.False(response.Headers.Contains("X-Amz-Function-Error"), body);
        using var result = JsonDocument.Parse(body);
        Assert.True(result.RootElement.GetProperty("anon_huge_kib").GetInt64() >= 8192, body);

        // A nexus instance was forked from its function's template, which the node's default drivers report with its
        // memory (bench density counts it as node memory).
        if (io == "nexus")
        {
            Assert.Contains(fixture.Node.ReadTemplateUsage(), t => t.Memory.PssBytes > 1 << 20);
        }
    }

    [RootFact]
    public async Task EveryExampleDeploysAndRuns()
    {
        var examples = Directory.EnumerateDirectories(NodeFixture.Examples).Where(d => File.Exists(Path.Combine(d, "function.yaml"))).ToList();
        Assert.NotEmpty(examples);
        foreach (var dir in examples)
        {
            var function = await fixture.Node.DeployAsync(new MemoryStream(NodeFixture.Zip(dir)), CancellationToken.None);
            var payload = await File.ReadAllTextAsync(Path.Combine(dir, "event.json"));
            var (response, body) = await fixture.InvokeAsync(function.Name, payload, "Tail");
            Assert.True(response.IsSuccessStatusCode, $"{function.Name}: {response.StatusCode} {body}");
            Assert.False(response.Headers.Contains("X-Amz-Function-Error"), $"{function.Name}: {body}");
            Assert.Equal("$LATEST", response.Headers.GetValues("X-Amz-Executed-Version").Single());
            await fixture.OutputObjectAsync(body, payload);
            var log = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(response.Headers.GetValues("X-Amz-Log-Result").Single()));
            Assert.Contains("REPORT RequestId:", log, StringComparison.Ordinal);
        }
    }

    [RootFact]
    public async Task HandlerErrorComesBackAsAFunctionError()
    {
        await fixture.DeployAsync("name: e2e-raise\nhandler: handler.handler\nio: baseline\n", "def handler(event, context):\n    raise ValueError('bad ' + event['what'])\n");
        var (response, body) = await fixture.InvokeAsync("e2e-raise", """{"what":"input"}""");
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("Unhandled", response.Headers.GetValues("X-Amz-Function-Error").Single());
        Assert.Equal("ValueError", ErrorType(body));
        Assert.Contains("bad input", body, StringComparison.Ordinal);
    }

    [RootFact]
    public async Task TimeoutReplacesTheInstanceAndTheNextCallWorks()
    {
        await fixture.DeployAsync("name: e2e-sleep\nhandler: handler.handler\nio: baseline\ntimeout: 1\n", "import time\n\ndef handler(event, context):\n    time.sleep(event['sleep'])\n    return {'slept': event['sleep']}\n");
        var (_, warmup) = await fixture.InvokeAsync("e2e-sleep", """{"sleep":0}""");
        Assert.Contains("slept", warmup, StringComparison.Ordinal);
        var (response, body) = await fixture.InvokeAsync("e2e-sleep", """{"sleep":5}""");
        Assert.Equal("Unhandled", response.Headers.GetValues("X-Amz-Function-Error").Single());
        Assert.Equal("Sandbox.Timedout", ErrorType(body));
        Assert.Contains("Task timed out after 1.00 seconds", body, StringComparison.Ordinal);
        var (next, nextBody) = await fixture.InvokeAsync("e2e-sleep", """{"sleep":0}""");
        Assert.False(next.Headers.Contains("X-Amz-Function-Error"), nextBody);
        Assert.Equal("""{"slept": 0}""", nextBody);
    }

    [RootFact]
    public async Task MemoryHogIsReportedOutOfMemory()
    {
        await fixture.DeployAsync("name: e2e-hog\nhandler: handler.handler\nio: baseline\nmemory: 64\n", "def handler(event, context):\n    blocks = []\n    while True:\n        blocks.append(bytearray(16 * 1024 * 1024))\n");
        var (response, body) = await fixture.InvokeAsync("e2e-hog", "{}");
        Assert.Equal("Unhandled", response.Headers.GetValues("X-Amz-Function-Error").Single());
        Assert.Equal("Runtime.OutOfMemory", ErrorType(body));
    }

    [RootFact]
    public async Task UnknownFunctionIs404LikeLambda()
    {
        var (response, body) = await fixture.InvokeAsync("no-such-function", "{}");
        Assert.Equal(404, (int)response.StatusCode);
        Assert.Equal("ResourceNotFoundException", response.Headers.GetValues("x-amzn-ErrorType").Single());
        Assert.Equal("""{"Type":"User","Message":"Function not found: arn:aws:lambda:us-east-1:000000000000:function:no-such-function"}""", body);
    }

    [RootFact]
    public async Task StockAwsCliInvokesAndListsTheStore()
    {
        Assert.True(File.Exists(HostRequirements.AwsCli), "needs the AWS CLI (apt-get install awscli)");
        await fixture.DeployAsync("name: e2e-echo\nhandler: handler.handler\nio: baseline\n", "def handler(event, context):\n    return {'echo': event, 'fn': context.function_name}\n");
        var output = Path.Combine(fixture.Home, "aws-out.json");
        var (code, text) = await RunAwsAsync("lambda", "invoke", "--endpoint-url", fixture.Node.ApiAddress.ToString(), "--function-name", "e2e-echo", "--cli-binary-format", "raw-in-base64-out", "--payload", """{"k":"v"}""", output);
        Assert.True(code == 0, text);
        Assert.Equal("""{"echo": {"k": "v"}, "fn": "e2e-echo"}""", await File.ReadAllTextAsync(output));

        (code, text) = await RunAwsAsync("s3", "ls", "--endpoint-url", fixture.Node.StoreAddress.ToString(), "s3://nexus-examples/", "--recursive");
        Assert.True(code == 0, text);
        Assert.Contains("hello-s3/input/", text, StringComparison.Ordinal);

        (code, text) = await RunAwsAsync("lambda", "invoke", "--endpoint-url", fixture.Node.ApiAddress.ToString(), "--function-name", "e2e-echo", output, secret: "wrong-secret");
        Assert.NotEqual(0, code);
        Assert.Contains("InvalidSignatureException", text, StringComparison.Ordinal);

        // Reads are checked as invokes are: a configuration holds the function's environment.
        (code, text) = await RunAwsAsync(["lambda", "get-function-configuration", "--endpoint-url", fixture.Node.ApiAddress.ToString(), "--function-name", "e2e-echo"], "wrong-secret");
        Assert.NotEqual(0, code);
        Assert.Contains("InvalidSignatureException", text, StringComparison.Ordinal);

        // A key the node does not know is not a bad signature, as Lambda says.
        (code, text) = await RunAwsAsync(["lambda", "invoke", "--endpoint-url", fixture.Node.ApiAddress.ToString(), "--function-name", "e2e-echo", output], null, accessKey: "AKIDUNKNOWNKEY000000");
        Assert.NotEqual(0, code);
        Assert.Contains("(UnrecognizedClientException)", text, StringComparison.Ordinal);
        Assert.Contains("The security token included in the request is invalid.", text, StringComparison.Ordinal);
    }

    private async Task<(int Code, string Output)> RunAwsAsync(params string[] args) => await RunAwsAsync(args, null);

    private async Task<(int Code, string Output)> RunAwsAsync(string a, string b, string c, string d, string e, string f, string g, string secret) =>
        await RunAwsAsync([a, b, c, d, e, f, g], secret);

    private async Task<(int Code, string Output)> RunAwsAsync(string[] args, string? secret, string? accessKey = null)
    {
        var start = new ProcessStartInfo(HostRequirements.AwsCli) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["AWS_ACCESS_KEY_ID"] = accessKey ?? fixture.Node.AdminKey.AccessKeyId;
        start.Environment["AWS_SECRET_ACCESS_KEY"] = secret ?? fixture.Node.AdminKey.SecretAccessKey;
        start.Environment["AWS_DEFAULT_REGION"] = "us-east-1";
        start.Environment["AWS_MAX_ATTEMPTS"] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }
}
