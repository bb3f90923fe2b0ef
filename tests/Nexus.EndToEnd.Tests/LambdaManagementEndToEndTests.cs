// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using Nexus.Testing;

namespace Nexus.EndToEnd.Tests;

/// <summary>
/// The Lambda API's management calls on a real node with the AWS CLI v2 (Debian's): a function created from a zip runs,
/// new code runs once updated, a new timeout holds once the configuration is, and a deleted function is gone; and
/// neither a sandbox (granted every Lambda action) nor a function's key taken out of one may create or change functions.
/// </summary>
public sealed class LambdaManagementEndToEndTests(NodeFixture fixture) : IClassFixture<NodeFixture>
{
    private const string Attacker = """
        import io, os, zipfile
        import boto3
        from botocore.config import Config

        lam = boto3.client("lambda", config=Config(retries={"max_attempts": 1}))

        def handler(event, context):
            package = io.BytesIO()
            with zipfile.ZipFile(package, "w") as z:
                z.writestr("app.py", "def handler(e, c):\n    return 'planted'\n")
            calls = {
                "create": lambda: lam.create_function(FunctionName="e2e-planted", Runtime="python3.11", Role="r", Handler="app.handler", Code={"ZipFile": package.getvalue()}),
                "update_code": lambda: lam.update_function_code(FunctionName=event["victim"], ZipFile=package.getvalue()),
                "update_configuration": lambda: lam.update_function_configuration(FunctionName=event["victim"], Timeout=1),
                "delete": lambda: lam.delete_function(FunctionName=event["victim"]),
            }
            out = {}
            for name, call in calls.items():
                try:
                    call()
                    out[name] = "allowed"
                except Exception as e:
                    out[name] = f"{type(e).__name__}: {e}"
            out["key"] = [os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")]
            return out
        """;

    [RootFact(awsCli: true)]
    public async Task The_aws_cli_creates_updates_and_deletes_a_function_that_runs()
    {
        var work = Path.Combine(fixture.Home, "cli-work");
        Directory.CreateDirectory(work);
        var v1 = await ZipAsync(work, "v1.zip", "def handler(e, c):\n    return {'v': 1, 'remaining_ms': c.get_remaining_time_in_millis()}\n");
        var v2 = await ZipAsync(work, "v2.zip", "def handler(e, c):\n    return {'v': 2, 'remaining_ms': c.get_remaining_time_in_millis()}\n");

        var (code, output) = await AwsAsync(null, "create-function", "--function-name", "e2e-made", "--runtime", "python3.11", "--role", "arn:aws:iam::000000000000:role/ignored", "--handler", "app.handler", "--zip-file", "fileb://" + v1);
        Assert.True(code == 0, output);
        Assert.Equal(3, (int)JsonNode.Parse(output)!["Timeout"]!);
        var result = await InvokeAsync(work);
        Assert.True((int)result["v"]! == 1 && (int)result["remaining_ms"]! <= 3000, result.ToJsonString());

        (code, output) = await AwsAsync(null, "update-function-code", "--function-name", "e2e-made", "--zip-file", "fileb://" + v2);
        Assert.True(code == 0, output);
        Assert.Equal(2, (int)(await InvokeAsync(work))["v"]!);

        (code, output) = await AwsAsync(null, "update-function-configuration", "--function-name", "e2e-made", "--timeout", "20");
        Assert.True(code == 0, output);
        (code, output) = await AwsAsync(null, "wait", "function-updated", "--function-name", "e2e-made");
        Assert.True(code == 0, output);
        result = await InvokeAsync(work);
        Assert.True((int)result["v"]! == 2 && (int)result["remaining_ms"]! > 10_000, result.ToJsonString());

        (code, output) = await AwsAsync(null, "delete-function", "--function-name", "e2e-made");
        Assert.True(code == 0, output);
        (code, output) = await AwsAsync(null, "invoke", "--function-name", "e2e-made", Path.Combine(work, "out.json"));
        Assert.True(code != 0 && output.Contains("(ResourceNotFoundException)", StringComparison.Ordinal), output);
    }

    /// <summary>
    /// The node's own Lambda endpoint serves a function Invoke and two reads only (ServiceTarget.LambdaActionOf), so a
    /// grant of every Lambda action still gives a sandbox no management call, in either mode; and a baseline function's
    /// key, which its sandbox holds, is refused them at the node's API too (AccessDeniedException).
    /// </summary>
    [RootTheory]
    [InlineData("nexus")]
    [InlineData("baseline")]
    public async Task A_sandbox_granted_every_lambda_action_cannot_create_or_change_functions(string io)
    {
        var victim = await fixture.DeployAsync($"name: e2e-victim-{io}\nhandler: handler.handler\n", "def handler(e, c):\n    return 'victim'\n");
        await fixture.DeployAsync($"name: e2e-attacker-{io}\nhandler: handler.handler\nio: {io}\nservices:\n  - service: lambda\n    actions: [\"*\"]\n    resource: \"*\"\n", Attacker);
        var (response, body) = await fixture.InvokeAsync($"e2e-attacker-{io}", $$"""{"victim": "{{victim.Name}}"}""");
        Assert.False(response.Headers.Contains("X-Amz-Function-Error"), body);
        var outcome = JsonNode.Parse(body)!;
        foreach (var call in new[] { "create", "update_code", "update_configuration", "delete" })
        {
            // The node's refusal (ServiceTarget.LambdaNotServed), not a client-side failure before the call was sent.
            Assert.True((string?)outcome[call] is { } refusal && refusal.Contains("a function may call Invoke, GetFunctionConfiguration and ListFunctions", StringComparison.Ordinal), $"{call}: {body}");
        }

        Assert.False(fixture.Node.TryGetFunction("e2e-planted", out _));
        Assert.True(fixture.Node.TryGetFunction(victim.Name, out var after));
        Assert.Equal(victim.Revision, after.Revision);

        if (io == "baseline")
        {
            var key = (outcome["key"]!.AsArray()[0]!.GetValue<string>(), outcome["key"]!.AsArray()[1]!.GetValue<string>());
            var zip = await ZipAsync(fixture.Home, "planted.zip", "def handler(e, c):\n    return 'planted'\n");
            var (code, output) = await AwsAsync(key, "create-function", "--function-name", "e2e-planted", "--runtime", "python3.11", "--role", "r", "--handler", "app.handler", "--zip-file", "fileb://" + zip);
            Assert.True(code != 0 && output.Contains("(AccessDeniedException)", StringComparison.Ordinal), output);
            (code, output) = await AwsAsync(key, "delete-function", "--function-name", victim.Name);
            Assert.True(code != 0 && output.Contains("(AccessDeniedException)", StringComparison.Ordinal), output);
            Assert.False(fixture.Node.TryGetFunction("e2e-planted", out _));
            Assert.True(fixture.Node.TryGetFunction(victim.Name, out _));
        }
    }

    /// <summary>
    /// On a real node, nexus deploy (the management API) and the Lambda API's changes of one function wait for each
    /// other (NexusNode.DeployAsync installs under the function's change): a CreateFunction racing a deploy of its name is
    /// 409 or replaced by the deploy, an update of the code given the RevisionId racing a deploy is 412 or followed by
    /// it; either way the deploy's revision is the function's in the end (the Lambda calls' packages unpack to 16 MiB,
    /// so their deploys end well after their checks). With the deploy's change removed from NexusNode.DeployAsync
    /// (installed without waiting), the Lambda call's install landed over the deploy's and it failed.
    /// </summary>
    [RootFact]
    public async Task Nexus_deploy_and_the_Lambda_calls_of_one_function_land_one_after_the_other()
    {
        var signed = fixture.Http; // the management token: nexus deploy's, and taken by the Lambda API
        for (var round = 0; round < 6; round++)
        {
            var name = $"e2e-raced-{round}";
            var create = signed.PostAsync("/2015-03-31/functions", Json(new JsonObject
            {
                ["FunctionName"] = name,
                ["Runtime"] = "python3.11",
                ["Role"] = "r",
                ["Handler"] = "handler.handler",
                ["Code"] = new JsonObject { ["ZipFile"] = Convert.ToBase64String(Package(name, "created", padded: true)) },
            }));
            var deploy = DeployAsync(signed, name, "deployed");
            using (var created = await create)
            {
                var revision = await deploy;
                Assert.True(created.StatusCode is System.Net.HttpStatusCode.Created or System.Net.HttpStatusCode.Conflict, $"round {round}: {(int)created.StatusCode}");
                Assert.True(fixture.Node.TryGetFunction(name, out var raced));
                Assert.Equal(revision, raced.Revision);
            }

            Assert.True(fixture.Node.TryGetFunction(name, out var before));
            var update = signed.PutAsync($"/2015-03-31/functions/{name}/code", Json(new JsonObject { ["ZipFile"] = Convert.ToBase64String(Package(name, "updated", padded: true)), ["RevisionId"] = before.Revision }));
            deploy = DeployAsync(signed, name, "deployed-again");
            using (var updated = await update)
            {
                var revision = await deploy;
                Assert.True(updated.StatusCode is System.Net.HttpStatusCode.OK or System.Net.HttpStatusCode.PreconditionFailed, $"round {round}: {(int)updated.StatusCode}");
                Assert.True(fixture.Node.TryGetFunction(name, out var after));
                Assert.Equal(revision, after.Revision);
                Assert.Contains("'deployed-again'", await File.ReadAllTextAsync(Path.Combine(after.CodeDirectory, "handler.py")), StringComparison.Ordinal);
            }

            Assert.True(await fixture.Node.RemoveAsync(name, CancellationToken.None));
        }

        static StringContent Json(JsonObject body) => new(body.ToJsonString(), Encoding.UTF8, "application/json");

        // Padded: with a file of 16 MiB that zips to a few KiB, so the Lambda call's deploy ends well after its check.
        static byte[] Package(string name, string returns, bool padded = false)
        {
            using var buffer = new MemoryStream();
            using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
            {
                foreach (var (path, text) in new[] { ("function.yaml", $"name: {name}\nhandler: handler.handler\n"), ("handler.py", $"def handler(e, c):\n    return '{returns}'\n"), ("padding.txt", padded ? new string('x', 16 << 20) : "") })
                {
                    using var entry = zip.CreateEntry(path).Open();
                    entry.Write(Encoding.UTF8.GetBytes(text));
                }
            }

            return buffer.ToArray();
        }

        static async Task<string> DeployAsync(HttpClient client, string name, string returns)
        {
            using var response = await client.PostAsync("/nexus/v1/functions", new ByteArrayContent(Package(name, returns)));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, $"deploy of {name}: {(int)response.StatusCode} {text}");
            return (string)JsonNode.Parse(text)!["revision"]!;
        }
    }

    private async Task<JsonNode> InvokeAsync(string work)
    {
        var output = Path.Combine(work, "out.json");
        var (code, text) = await AwsAsync(null, "invoke", "--function-name", "e2e-made", output);
        Assert.True(code == 0 && !text.Contains("FunctionError", StringComparison.Ordinal), text + await File.ReadAllTextAsync(output));
        return JsonNode.Parse(await File.ReadAllTextAsync(output))!;
    }

    private static async Task<string> ZipAsync(string folder, string name, string handler)
    {
        var path = Path.Combine(folder, name);
        await using var file = File.Create(path);
        using var zip = new ZipArchive(file, ZipArchiveMode.Create);
        using var entry = zip.CreateEntry("app.py").Open();
        await entry.WriteAsync(Encoding.UTF8.GetBytes(handler));
        return path;
    }

    /// <summary>The AWS CLI's lambda command against the node, signed with the admin key unless <paramref name="key"/> is given.</summary>
    private async Task<(int Code, string Output)> AwsAsync((string Id, string Secret)? key, params string[] args)
    {
        var (id, secret) = key ?? (fixture.Node.AdminKey.AccessKeyId, fixture.Node.AdminKey.SecretAccessKey);
        var (code, stdout, stderr) = await Processes.RunAsync(HostRequirements.AwsCli, ["lambda", .. args, "--endpoint-url", fixture.Node.ApiAddress.ToString()], new Dictionary<string, string>
        {
            ["AWS_ACCESS_KEY_ID"] = id,
            ["AWS_SECRET_ACCESS_KEY"] = secret,
            ["AWS_DEFAULT_REGION"] = "us-east-1",
            ["AWS_MAX_ATTEMPTS"] = "1",
            ["AWS_PAGER"] = "",
        });
        return (code, stdout + stderr);
    }
}
