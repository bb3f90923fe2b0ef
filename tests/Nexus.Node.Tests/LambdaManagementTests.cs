// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Nexus.Node.Api;
using Nexus.Node.Registry;
using Nexus.Testing;

namespace Nexus.Node.Tests;

/// <summary>
/// The Lambda API's management calls over a real registry (a <see cref="RecordingNode"/>): CreateFunction,
/// UpdateFunctionCode, UpdateFunctionConfiguration and DeleteFunction as deploys, their refusals as Lambda's errors,
/// the package defences (each seen failing once with its check removed), who may call them, and the real AWS CLI and
/// boto3 driving them (their invokes run real code in LambdaManagementEndToEndTests).
/// </summary>
public sealed class LambdaManagementTests : IAsyncLifetime
{
    private const string Functions = "/2015-03-31/functions";
    private const string Handler = "def handler(e, c):\n    return e\n";

    /// <summary>A file of 16 MiB that zips to a few KiB: a package with it is a small request whose unpacking takes a while.</summary>
    private static readonly (string Path, string Text) s_padding = ("padding.txt", new string('x', 16 << 20));

    private RecordingApi _api = null!;

    private HttpClient Http => _api.Http;

    private RecordingNode Node => _api.Node;

    public async Task InitializeAsync() => _api = await RecordingApi.StartAsync("existing");

    public async Task DisposeAsync() => await _api.DisposeAsync();

    [Fact]
    public async Task Create_update_and_delete_are_deploys_whose_manifest_is_the_requests_settings_over_the_packages()
    {
        // The package's function.yaml gives the Nexus settings; the request's Lambda fields win over its own.
        var package = FunctionPackages.Zip(
            ("function.yaml", "name: ignored\nhandler: other.handler\nio: baseline\ntimeout: 60\nstorage:\n  - bucket: data\n    access: read\n"),
            ("app.py", Handler));
        using (var created = await SendAsync(HttpMethod.Post, Functions, Create("made", package, ("Timeout", 10), ("Environment", new JsonObject { ["Variables"] = new JsonObject { ["MODE"] = "true" } }))))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var configuration = JsonNode.Parse(await created.Content.ReadAsStringAsync())!;
            Assert.Equal(("made", "app.handler", 10, 128), ((string?)configuration["FunctionName"], (string?)configuration["Handler"], (int)configuration["Timeout"]!, (int)configuration["MemorySize"]!));
            Assert.Equal(("Active", "Successful"), ((string?)configuration["State"], (string?)configuration["LastUpdateStatus"]));
            Assert.Equal("""{"Variables":{"MODE":"true"}}""", configuration["Environment"]!.ToJsonString());
        }

        Assert.True(Node.TryGetFunction("made", out var made));
        Assert.Equal(Nexus.Functions.IoMode.Baseline, made.Manifest.Io);
        Assert.Equal("data", made.Manifest.Storage.Single().Bucket);

        // Without a function.yaml or a Timeout, Lambda's default timeout (3 s) and no grants.
        using (var plain = await SendAsync(HttpMethod.Post, Functions, Create("plain", FunctionPackages.Zip(("app.py", Handler))))) { Assert.Equal(HttpStatusCode.Created, plain.StatusCode); }
        Assert.True(Node.TryGetFunction("plain", out var plainFunction));
        Assert.Equal((3, 0, Nexus.Functions.IoMode.Nexus), ((int)plainFunction.Manifest.Timeout.TotalSeconds, plainFunction.Manifest.Storage.Count, plainFunction.Manifest.Io));

        // New code without a manifest keeps the function's settings, grants and all, and makes a new revision.
        using (var code = await SendAsync(HttpMethod.Put, Functions + "/made/code", new JsonObject { ["ZipFile"] = Convert.ToBase64String(FunctionPackages.Zip(("app.py", "def handler(e, c):\n    return 2\n"))) }))
        {
            Assert.Equal(HttpStatusCode.OK, code.StatusCode);
        }

        Assert.True(Node.TryGetFunction("made", out var recoded));
        Assert.NotEqual(made.Revision, recoded.Revision);
        Assert.Equal(Settings(made), Settings(recoded));
        Assert.Contains("return 2", await File.ReadAllTextAsync(Path.Combine(recoded.CodeDirectory, "app.py")), StringComparison.Ordinal);

        // New settings over the same code; what is not given stays.
        using (var configured = await SendAsync(HttpMethod.Put, Functions + "/made/configuration", new JsonObject { ["Timeout"] = 42, ["Description"] = "from the API", ["Runtime"] = "python3.12", ["Role"] = "arn:aws:iam::1:role/x" }))
        {
            var configuration = JsonNode.Parse(await configured.Content.ReadAsStringAsync())!;
            Assert.Equal((42, "from the API", "app.handler"), ((int)configuration["Timeout"]!, (string?)configuration["Description"], (string?)configuration["Handler"]));
        }

        Assert.True(Node.TryGetFunction("made", out var configuredFunction));
        Assert.Equal(Settings(recoded) with { Timeout = 42, Description = "from the API" }, Settings(configuredFunction));
        Assert.Contains("return 2", await File.ReadAllTextAsync(Path.Combine(configuredFunction.CodeDirectory, "app.py")), StringComparison.Ordinal);

        using (var deleted = await SendAsync(HttpMethod.Delete, Functions + "/made", null)) { Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode); }
        Assert.False(Node.TryGetFunction("made", out _));
        using var gone = await SendAsync(HttpMethod.Delete, Functions + "/made", null);
        await RecordingNode.AssertApiErrorAsync(gone, 404, "ResourceNotFoundException", "Function not found: arn:aws:lambda:us-east-1:000000000000:function:made");
    }

    [Fact]
    public async Task Refusals_are_Lambdas_errors_and_change_nothing()
    {
        var zip = FunctionPackages.Zip(("app.py", Handler));
        Assert.True(Node.TryGetFunction("existing", out var before));
        var cases = new (HttpMethod Method, string Path, JsonObject Body, int Status, string Type, string Message)[]
        {
            (HttpMethod.Post, Functions, Create("existing", zip), 409, "ResourceConflictException", "Function already exist: existing"),
            (HttpMethod.Post, Functions, Create("node-fn", zip, ("Runtime", "nodejs20.x")), 400, "InvalidParameterValueException", "The runtime parameter of nodejs20.x is not supported"),
            (HttpMethod.Post, Functions, Create("no-runtime", zip, ("Runtime", null)), 400, "InvalidParameterValueException", "Runtime and Handler are mandatory"),
            (HttpMethod.Post, Functions, Create("Upper_Case", zip), 400, "InvalidParameterValueException", "is not a Nexus function name"),
            (HttpMethod.Post, Functions, Create("published", zip, ("Publish", true)), 400, "InvalidParameterValueException", "Publish is not supported by the Nexus node: the node keeps no versions"),
            (HttpMethod.Post, Functions, Create("layered", zip, ("Layers", new JsonArray("arn:aws:lambda:us-east-1:1:layer:x:1"))), 400, "InvalidParameterValueException", "Layers is not supported"),
            (HttpMethod.Post, Functions, Create("no-module", zip, ("Handler", "missing.handler")), 400, "InvalidParameterValueException", "module 'missing' not found"),
            (HttpMethod.Post, Functions, Create("reserved", zip, ("Environment", new JsonObject { ["Variables"] = new JsonObject { ["AWS_REGION"] = "x" } })), 400, "InvalidParameterValueException", "is reserved"),
            (HttpMethod.Put, Functions + "/nope/code", new JsonObject { ["ZipFile"] = Convert.ToBase64String(zip) }, 404, "ResourceNotFoundException", "Function not found"),
            (HttpMethod.Put, Functions + "/nope/configuration", new JsonObject { ["Timeout"] = 5 }, 404, "ResourceNotFoundException", "Function not found"),
            (HttpMethod.Put, Functions + "/existing/configuration", new JsonObject { ["Timeout"] = 5, ["RevisionId"] = "stale" }, 412, "PreconditionFailedException", "The Revision Id provided does not match"),
            (HttpMethod.Put, Functions + "/existing/configuration", new JsonObject { ["Timeout"] = 901 }, 400, "InvalidParameterValueException", "timeout"),
            (HttpMethod.Put, Functions + "/existing/code", new JsonObject { ["S3Bucket"] = "b", ["S3Key"] = "k" }, 400, "InvalidParameterValueException", "S3Bucket is not supported"),
            (HttpMethod.Post, Functions + "/existing/versions", new JsonObject(), 501, "NotImplementedException", "PublishVersion and alias changes are not served"),
        };
        foreach (var (method, path, body, status, type, message) in cases)
        {
            using var response = await SendAsync(method, path, body);
            await RecordingNode.AssertApiErrorAsync(response, status, type, message);
        }

        Assert.True(Node.TryGetFunction("existing", out var after));
        Assert.Equal(before.Revision, after.Revision);
        Assert.Equal(["existing"], Node.Functions.Select(f => f.Name));
    }

    /// <summary>
    /// Each attack on the package unpacker is refused with nothing deployed and nothing left behind. Each failed once
    /// with its check removed from FunctionRegistry.Unpack: the path check (../ and absolute entries were written
    /// outside the staging folder), the symlink check (a link entry became a file), the entry count and the unpacked
    /// bound; and the check that a package names each path once (a duplicated entry, <c>./app.py</c> beside
    /// <c>app.py</c>, a folder entry and a file entry of one name, a file another entry is inside: each answered 500,
    /// the second entry failing to unpack over the first).
    /// </summary>
    [Theory]
    [InlineData("not-a-zip", "is not a zip archive")]
    [InlineData("parent", "points outside the function folder")]
    [InlineData("absolute", "points outside the function folder")]
    [InlineData("symlink", "is a symbolic link")]
    [InlineData("many-entries", $"at most 10000 are allowed")]
    [InlineData("bomb", "the unpacked function folder is larger than the limit of 268435456 bytes")]
    [InlineData("duplicate", "the package entries 'app.py' and 'app.py' both name 'app.py'; a package names each file and folder once")]
    [InlineData("dot-slash", "the package entries 'app.py' and './app.py' both name 'app.py'")]
    [InlineData("folder-and-file", "the package entries 'lib/' and 'lib' both name 'lib'")]
    [InlineData("file-and-folder", "the package entries 'lib' and 'lib/' both name 'lib'")]
    [InlineData("inside-a-file", "the package entry 'lib/x.py' is inside 'lib', which the entry 'lib' makes a file")]
    [InlineData("file-over-contents", "the package entry 'lib' makes 'lib' a file, and the entry 'lib/x.py' is inside it")]
    public async Task A_hostile_package_is_refused_and_leaves_nothing(string attack, string message)
    {
        // A path of this run's own: an escape by an earlier run (a check removed) must not fail this one.
        var escape = $"/tmp/nexus-lambda-escape-{Guid.NewGuid():N}.py";
        var package = HostilePackage(attack, escape);
        Assert.True(package.Length < 4 << 20, $"{attack}: {package.Length} bytes");
        using (var created = await SendAsync(HttpMethod.Post, Functions, Create("victim", package)))
        {
            await RecordingNode.AssertApiErrorAsync(created, 400, "InvalidParameterValueException", message);
        }

        using (var updated = await SendAsync(HttpMethod.Put, Functions + "/existing/code", new JsonObject { ["ZipFile"] = Convert.ToBase64String(package) }))
        {
            await RecordingNode.AssertApiErrorAsync(updated, 400, "InvalidParameterValueException", message);
        }

        Assert.False(Node.TryGetFunction("victim", out _));
        var functionsDirectory = Path.Combine(_api.Root, "functions");
        Assert.Equal(["existing"], Directory.EnumerateFileSystemEntries(functionsDirectory).Select(Path.GetFileName));
        Assert.False(File.Exists(Path.Combine(_api.Root, "escaped.py")));
        Assert.False(File.Exists(escape));
    }

    /// <summary>
    /// Changes of one function are made one after the other, each over the one before. 20 updates of its environment
    /// sent at once all answer 200 with revisions of their own, and the function ends as one of them answered. Then, in
    /// 6 rounds, 5 updates sent at once, each of another field (the code, Timeout, MemorySize, Description,
    /// Environment), all land: the function ends with the 5 values, none lost to an update that read the function
    /// before another landed. With the function's change made no lock (a gate of its own per call), the rounds failed:
    /// the function kept only some of a round's values.
    /// </summary>
    [Fact]
    public async Task Concurrent_updates_of_one_function_all_land_one_after_another()
    {
        var environments = await AnswersAsync(Enumerable.Range(0, 20).Select(i =>
            SendAsync(HttpMethod.Put, Functions + "/existing/configuration", new JsonObject { ["Environment"] = new JsonObject { ["Variables"] = new JsonObject { ["N"] = $"{i}" } } })));
        Assert.Equal(20, environments.Select(a => (string?)a["RevisionId"]).Distinct().Count());
        Assert.True(Node.TryGetFunction("existing", out var final));
        var last = Assert.Single(environments, a => (string?)a["RevisionId"] == final.Revision);
        Assert.Equal((string?)last["Environment"]!["Variables"]!["N"], final.Manifest.Environment["N"]);

        for (var round = 0; round < 6; round++)
        {
            var answers = await AnswersAsync(
            [
                SendAsync(HttpMethod.Put, Functions + "/existing/code", new JsonObject { ["ZipFile"] = Convert.ToBase64String(FunctionPackages.Zip(("handler.py", $"def handler(e, c):\n    return {round}\n"))) }),
                SendAsync(HttpMethod.Put, Functions + "/existing/configuration", new JsonObject { ["Timeout"] = 10 + round }),
                SendAsync(HttpMethod.Put, Functions + "/existing/configuration", new JsonObject { ["MemorySize"] = 256 + (64 * round) }),
                SendAsync(HttpMethod.Put, Functions + "/existing/configuration", new JsonObject { ["Description"] = $"round {round}" }),
                SendAsync(HttpMethod.Put, Functions + "/existing/configuration", new JsonObject { ["Environment"] = new JsonObject { ["Variables"] = new JsonObject { ["ROUND"] = $"{round}" } } }),
            ]);
            Assert.Equal(5, answers.Select(a => (string?)a["RevisionId"]).Distinct().Count());
            Assert.True(Node.TryGetFunction("existing", out var function));
            var m = function.Manifest;
            var code = await File.ReadAllTextAsync(Path.Combine(function.CodeDirectory, "handler.py"));
            Assert.True(
                code.Contains($"return {round}\n", StringComparison.Ordinal) && (int)m.Timeout.TotalSeconds == 10 + round && m.MemoryMb == 256 + (64 * round)
                    && m.Description == $"round {round}" && m.Environment.GetValueOrDefault("ROUND") == $"{round}",
                $"round {round}: an update was lost: code {code.Trim()}, timeout {m.Timeout.TotalSeconds}, memory {m.MemoryMb}, description {m.Description}, environment {string.Join(",", m.Environment)}");
            Assert.Contains(answers, a => (string?)a["RevisionId"] == function.Revision);
        }

        // Every answer 200, its configuration.
        async Task<List<JsonNode>> AnswersAsync(IEnumerable<Task<HttpResponseMessage>> sent)
        {
            var answers = new List<JsonNode>();
            foreach (var response in await Task.WhenAll(sent))
            {
                using (response)
                {
                    var text = await response.Content.ReadAsStringAsync();
                    Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
                    answers.Add(JsonNode.Parse(text)!);
                }
            }

            return answers;
        }
    }

    /// <summary>
    /// Lambda's optimistic lock holds under concurrency: two updates given the function's RevisionId at once (new code
    /// and a new timeout) find it as it is when their change begins, so exactly one lands and the other answers 412
    /// PreconditionFailed, round after round. With the function's change made no lock (a gate of its own per call),
    /// both passed the check and answered 200.
    /// </summary>
    [Fact]
    public async Task Of_two_updates_given_the_same_RevisionId_exactly_one_lands()
    {
        for (var round = 0; round < 10; round++)
        {
            Assert.True(Node.TryGetFunction("existing", out var before));
            var code = SendAsync(HttpMethod.Put, Functions + "/existing/code", new JsonObject
            {
                ["ZipFile"] = Convert.ToBase64String(FunctionPackages.Zip(("function.yaml", "name: existing\nhandler: handler.handler\n"), ("handler.py", $"def handler(e, c):\n    return {round}\n"))),
                ["RevisionId"] = before.Revision,
            });
            var configuration = SendAsync(HttpMethod.Put, Functions + "/existing/configuration", new JsonObject { ["Timeout"] = 100 + round, ["RevisionId"] = before.Revision });
            using var codeAnswer = await code;
            using var configurationAnswer = await configuration;
            var statuses = new[] { (int)codeAnswer.StatusCode, (int)configurationAnswer.StatusCode };
            Assert.True(statuses.Order().SequenceEqual([200, 412]), $"round {round}: code {statuses[0]}, configuration {statuses[1]}");
            var loser = statuses[0] == 412 ? codeAnswer : configurationAnswer;
            await RecordingNode.AssertApiErrorAsync(loser, 412, "PreconditionFailedException", "The Revision Id provided does not match");

            Assert.True(Node.TryGetFunction("existing", out var after));
            var winner = JsonNode.Parse(await (statuses[0] == 200 ? codeAnswer : configurationAnswer).Content.ReadAsStringAsync())!;
            Assert.Equal(after.Revision, (string?)winner["RevisionId"]);
        }
    }

    /// <summary>
    /// nexus deploy and nexus rm (the management API) wait for a Lambda API change of the same function, and it for
    /// them: a CreateFunction racing a deploy of the same name is either answered 409 or replaced by the deploy, never
    /// installed over it; an update of the code given the RevisionId racing a deploy is either refused (412) or followed
    /// by it, so the deploy's code stays; an update racing a removal never brings the function back. The Lambda calls'
    /// packages unpack to 16 MiB, so their deploys end well after their checks. With the function's change made no lock
    /// (a gate of its own per call), the Lambda call's install landed after the deploy's (its code lost) or after the
    /// removal (the function back), and it failed.
    /// </summary>
    [Fact]
    public async Task Deploys_and_removals_wait_for_a_Lambda_change_of_the_same_function()
    {
        for (var round = 0; round < 8; round++)
        {
            // CreateFunction against nexus deploy of one new name.
            var name = $"raced-{round}";
            var create = SendAsync(HttpMethod.Post, Functions, Create(name, FunctionPackages.Zip(("app.py", "def handler(e, c):\n    return 'created'\n"), s_padding)));
            var deploy = DeployThroughManagementApiAsync(name, "deployed");
            using (var created = await create)
            {
                var deployedRevision = await deploy;
                Assert.True(created.StatusCode is HttpStatusCode.Created or HttpStatusCode.Conflict, $"round {round}: create answered {(int)created.StatusCode}");
                Assert.True(Node.TryGetFunction(name, out var raced));
                Assert.Equal(deployedRevision, raced.Revision);
                Assert.Contains("'deployed'", await File.ReadAllTextAsync(Path.Combine(raced.CodeDirectory, "handler.py")), StringComparison.Ordinal);
            }

            // An update given the RevisionId against nexus deploy of the function.
            Assert.True(Node.TryGetFunction("existing", out var before));
            var update = SendAsync(HttpMethod.Put, Functions + "/existing/code", new JsonObject
            {
                ["ZipFile"] = Convert.ToBase64String(FunctionPackages.Zip(("handler.py", "def handler(e, c):\n    return 'updated'\n"), s_padding)),
                ["RevisionId"] = before.Revision,
            });
            deploy = DeployThroughManagementApiAsync("existing", $"deployed-{round}");
            using (var updated = await update)
            {
                var deployedRevision = await deploy;
                Assert.True(updated.StatusCode is HttpStatusCode.OK or HttpStatusCode.PreconditionFailed, $"round {round}: update answered {(int)updated.StatusCode}");
                Assert.True(Node.TryGetFunction("existing", out var after));
                Assert.Equal(deployedRevision, after.Revision);
                Assert.Contains($"'deployed-{round}'", await File.ReadAllTextAsync(Path.Combine(after.CodeDirectory, "handler.py")), StringComparison.Ordinal);
            }

            // An update against nexus rm of the function: it is gone either way.
            var configure = SendAsync(HttpMethod.Put, Functions + "/existing/configuration", new JsonObject { ["Timeout"] = 300 + round });
            var remove = Http.DeleteAsync(NodeApi.ManagementPrefix + "/functions/existing");
            using (var configured = await configure)
            using (var removed = await remove)
            {
                Assert.Equal(HttpStatusCode.OK, removed.StatusCode);
                Assert.True(configured.StatusCode is HttpStatusCode.OK or HttpStatusCode.NotFound, $"round {round}: update answered {(int)configured.StatusCode}");
                Assert.False(Node.TryGetFunction("existing", out _), $"round {round}: the update brought the removed function back ({(int)configured.StatusCode})");
            }

            Node.Registry.Deploy(new MemoryStream(FunctionPackages.Zip(("function.yaml", "name: existing\nhandler: handler.handler\n"), ("handler.py", Handler))));
        }
    }

    [Fact]
    public async Task A_request_past_Lambdas_limit_is_RequestEntityTooLarge()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Functions) { Content = new ByteArrayContent(new byte[NodeApi.MaxCodeRequestBytes + 1]) };
        using var response = await Http.SendAsync(request);
        await RecordingNode.AssertApiErrorAsync(response, 413, "RequestEntityTooLargeException", "Request must be smaller than 69905067 bytes for the CreateFunction operation");
    }

    /// <summary>
    /// They change what runs on the node: neither an unsigned caller nor one signing with a function's key (which a
    /// baseline sandbox holds) may make them, where that key may still read and invoke. With the admin-only check
    /// removed, the function key's create was served.
    /// </summary>
    [Fact]
    public async Task Only_the_admin_key_or_the_management_token_may_manage_functions()
    {
        using var anonymous = new HttpClient { BaseAddress = _api.Base };
        var zip = FunctionPackages.Zip(("app.py", Handler));
        using (var unsigned = await anonymous.PostAsync(Functions, new StringContent(Create("intruder", zip).ToJsonString())))
        {
            await RecordingNode.AssertApiErrorAsync(unsigned, 403, "MissingAuthenticationTokenException", "Missing Authentication Token");
        }

        anonymous.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", $"AWS4-HMAC-SHA256 Credential={RecordingNode.FunctionKeyId}/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=00");
        foreach (var (method, path, body) in new (HttpMethod, string, JsonObject?)[]
        {
            (HttpMethod.Post, Functions, Create("intruder", zip)),
            (HttpMethod.Put, Functions + "/existing/code", new JsonObject { ["ZipFile"] = Convert.ToBase64String(zip) }),
            (HttpMethod.Put, Functions + "/existing/configuration", new JsonObject { ["Timeout"] = 1 }),
            (HttpMethod.Delete, Functions + "/existing", null),
        })
        {
            using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : new StringContent(body.ToJsonString()) };
            using var refused = await anonymous.SendAsync(request);
            await RecordingNode.AssertApiErrorAsync(refused, 403, "AccessDeniedException", $"key {RecordingNode.FunctionKeyId} is not the node's admin key");
        }

        using (var read = await anonymous.GetAsync(Functions + "/existing/configuration")) { Assert.Equal(HttpStatusCode.OK, read.StatusCode); }
        Assert.False(Node.TryGetFunction("intruder", out _));
        Assert.True(Node.TryGetFunction("existing", out var existing));
        Assert.Equal(30, (int)existing.Manifest.Timeout.TotalSeconds);
    }

    /// <summary>
    /// The AWS CLI v2 (Debian's) and boto3 drive the calls as they drive Lambda's: create, wait, update code and
    /// configuration, the waiters, delete, and the errors by their codes (a 52 MB zip too: the CLI sees Lambda's 413,
    /// not a broken connection).
    /// </summary>
    [RealClientsFact]
    public async Task The_aws_cli_and_boto3_manage_functions()
    {
        var work = Directory.CreateTempSubdirectory("nexus-lambda-cli-").FullName;
        try
        {
            var zip = Path.Combine(work, "f.zip");
            await File.WriteAllBytesAsync(zip, FunctionPackages.Zip(("app.py", Handler)));
            var (code, output) = await AwsAsync("create-function", "--function-name", "cli-made", "--runtime", "python3.11", "--role", "arn:aws:iam::000000000000:role/ignored", "--handler", "app.handler", "--zip-file", "fileb://" + zip, "--timeout", "7");
            Assert.True(code == 0, output);
            Assert.Equal(7, (int)JsonNode.Parse(output)!["Timeout"]!);
            (code, output) = await AwsAsync("wait", "function-active-v2", "--function-name", "cli-made");
            Assert.True(code == 0, output);
            (code, output) = await AwsAsync("update-function-code", "--function-name", "cli-made", "--zip-file", "fileb://" + zip);
            Assert.True(code == 0, output);
            (code, output) = await AwsAsync("update-function-configuration", "--function-name", "cli-made", "--memory-size", "256", "--environment", "Variables={STAGE=test}");
            Assert.True(code == 0, output);
            (code, output) = await AwsAsync("wait", "function-updated", "--function-name", "cli-made");
            Assert.True(code == 0, output);
            Assert.True(Node.TryGetFunction("cli-made", out var made));
            Assert.Equal((256, "test", 7), (made.Manifest.MemoryMb, made.Manifest.Environment["STAGE"], (int)made.Manifest.Timeout.TotalSeconds));

            (code, output) = await AwsAsync("create-function", "--function-name", "cli-made", "--runtime", "python3.11", "--role", "r", "--handler", "app.handler", "--zip-file", "fileb://" + zip);
            Assert.True(code != 0 && output.Contains("(ResourceConflictException)", StringComparison.Ordinal), output);
            (code, output) = await AwsAsync("publish-version", "--function-name", "cli-made");
            Assert.True(code != 0 && output.Contains("PublishVersion and alias changes are not served", StringComparison.Ordinal), output);

            var large = Path.Combine(work, "large.zip");
            await File.WriteAllBytesAsync(large, RandomBytesZip(52 << 20));
            (code, output) = await AwsAsync("update-function-code", "--function-name", "cli-made", "--zip-file", "fileb://" + large);
            Assert.True(code != 0 && output.Contains("(RequestEntityTooLargeException)", StringComparison.Ordinal), output);

            (code, output) = await AwsAsync("delete-function", "--function-name", "cli-made");
            Assert.True(code == 0, output);
            (code, output) = await AwsAsync("delete-function", "--function-name", "cli-made");
            Assert.True(code != 0 && output.Contains("(ResourceNotFoundException)", StringComparison.Ordinal), output);

            // boto3's lambda client, with its waiter.
            var script = $$"""
                import boto3, botocore
                lam = boto3.client("lambda", endpoint_url="{{_api.Base}}", region_name="us-east-1", aws_access_key_id="AKIDADMIN", aws_secret_access_key="s")
                zip = open("{{zip}}", "rb").read()
                made = lam.create_function(FunctionName="boto-made", Runtime="python3.12", Role="r", Handler="app.handler", Code={"ZipFile": zip}, Description="boto")
                lam.get_waiter("function_active_v2").wait(FunctionName="boto-made")
                updated = lam.update_function_configuration(FunctionName="boto-made", Timeout=12, RevisionId=made["RevisionId"])
                lam.get_waiter("function_updated_v2").wait(FunctionName="boto-made")
                try:
                    lam.update_function_configuration(FunctionName="boto-made", Timeout=13, RevisionId=made["RevisionId"])
                except lam.exceptions.PreconditionFailedException:
                    stale = "refused"
                try:
                    lam.create_function(FunctionName="bad", Runtime="java21", Role="r", Handler="app.handler", Code={"ZipFile": zip})
                except lam.exceptions.InvalidParameterValueException:
                    runtime = "refused"
                lam.delete_function(FunctionName="boto-made")
                try:
                    lam.get_function(FunctionName="boto-made")
                except lam.exceptions.ResourceNotFoundException:
                    gone = "gone"
                print(made["Description"], updated["Timeout"], stale, runtime, gone)
                """;
            var (exit, stdout, stderr) = await Processes.RunAsync(HostRequirements.DebianPython, ["-c", script]);
            Assert.True(exit == 0, stderr);
            Assert.Equal("boto 12 refused refused gone", stdout.Trim());
            Assert.Equal(["existing"], Node.Functions.Select(f => f.Name));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static FunctionSettings Settings(DeployedFunction function)
    {
        var m = function.Manifest;
        return new(m.Handler, (int)m.Timeout.TotalSeconds, m.MemoryMb, m.Description, m.Io, string.Join(",", m.Storage), string.Join(",", m.Environment));
    }

    private async Task<(int Code, string Output)> AwsAsync(params string[] args)
    {
        var (code, stdout, stderr) = await Processes.RunAsync(HostRequirements.AwsCli, ["lambda", .. args, "--endpoint-url", _api.Base.ToString()], new Dictionary<string, string>
        {
            ["AWS_ACCESS_KEY_ID"] = "AKIDADMIN",
            ["AWS_SECRET_ACCESS_KEY"] = "s",
            ["AWS_DEFAULT_REGION"] = "us-east-1",
            ["AWS_MAX_ATTEMPTS"] = "1",
            ["AWS_PAGER"] = "",
        });
        return (code, stdout + stderr);
    }

    private static JsonObject Create(string name, byte[] zip, params (string Member, JsonNode? Value)[] members)
    {
        var request = new JsonObject
        {
            ["FunctionName"] = name,
            ["Runtime"] = "python3.11",
            ["Role"] = "arn:aws:iam::000000000000:role/any",
            ["Handler"] = "app.handler",
            ["Code"] = new JsonObject { ["ZipFile"] = Convert.ToBase64String(zip) },
        };
        foreach (var (member, value) in members)
        {
            request[member] = value;
        }

        return request;
    }

    /// <summary>nexus deploy's call: a function folder zipped, posted to the management API; the revision it made.</summary>
    private async Task<string> DeployThroughManagementApiAsync(string name, string returns)
    {
        var package = FunctionPackages.Zip(("function.yaml", $"name: {name}\nhandler: handler.handler\n"), ("handler.py", $"def handler(e, c):\n    return '{returns}'\n"));
        using var response = await Http.PostAsync(NodeApi.ManagementPrefix + "/functions", new ByteArrayContent(package));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"deploy of {name}: {(int)response.StatusCode} {text}");
        return (string)JsonNode.Parse(text)!["revision"]!;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, JsonObject? body)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
        return await Http.SendAsync(request);
    }

    private static byte[] HostilePackage(string attack, string absolutePath)
    {
        if (attack == "not-a-zip")
        {
            return Encoding.UTF8.GetBytes("def handler(e, c):\n    return e\n");
        }

        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            Write(zip.CreateEntry("app.py"), Handler);
            switch (attack)
            {
                case "parent":
                    Write(zip.CreateEntry("../../escaped.py"), "x = 1\n");
                    break;
                case "absolute":
                    Write(zip.CreateEntry(absolutePath), "x = 1\n");
                    break;
                case "symlink":
                    var link = zip.CreateEntry("config.py");
                    link.ExternalAttributes = unchecked((int)0xA1FF0000); // S_IFLNK | 0777
                    Write(link, "/etc/shadow");
                    break;
                case "many-entries":
                    for (var i = 0; i < FunctionRegistry.MaxFiles; i++)
                    {
                        zip.CreateEntry($"d/{i}");
                    }

                    break;
                case "duplicate":
                    Write(zip.CreateEntry("app.py"), "def handler(e, c):\n    return 'second'\n");
                    break;
                case "dot-slash":
                    Write(zip.CreateEntry("./app.py"), "def handler(e, c):\n    return 'second'\n");
                    break;
                case "folder-and-file":
                    zip.CreateEntry("lib/");
                    Write(zip.CreateEntry("lib"), "x = 1\n");
                    break;
                case "file-and-folder":
                    Write(zip.CreateEntry("lib"), "x = 1\n");
                    zip.CreateEntry("lib/");
                    break;
                case "inside-a-file":
                    Write(zip.CreateEntry("lib"), "x = 1\n");
                    Write(zip.CreateEntry("lib/x.py"), "x = 1\n");
                    break;
                case "file-over-contents":
                    Write(zip.CreateEntry("lib/x.py"), "x = 1\n");
                    Write(zip.CreateEntry("lib"), "x = 1\n");
                    break;
                case "bomb":
                    using (var zeros = zip.CreateEntry("zeros.bin", CompressionLevel.SmallestSize).Open())
                    {
                        var block = new byte[1 << 20];
                        for (var i = 0; i <= FunctionRegistry.MaxUnpackedBytes >> 20; i++)
                        {
                            zeros.Write(block);
                        }
                    }

                    break;
            }
        }

        return buffer.ToArray();
    }

    private static void Write(ZipArchiveEntry entry, string text)
    {
        using var stream = entry.Open();
        stream.Write(Encoding.UTF8.GetBytes(text));
    }

    // Stored, not compressed: a zip of this many bytes.
    private static byte[] RandomBytesZip(int bytes)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            Write(zip.CreateEntry("app.py"), Handler);
            using var blob = zip.CreateEntry("blob.bin", CompressionLevel.NoCompression).Open();
            blob.Write(System.Security.Cryptography.RandomNumberGenerator.GetBytes(bytes));
        }

        return buffer.ToArray();
    }

    /// <summary>What a test compares of two revisions' manifests (the manifest's collections compare by reference).</summary>
    private sealed record FunctionSettings(string Handler, int Timeout, int Memory, string? Description, Nexus.Functions.IoMode Io, string Storage, string Environment);
}
