// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Nexus.Backend;
using Nexus.Channel.Services;
using Nexus.Functions;
using Nexus.Interop;
using Nexus.Node.Transports;
using Nexus.Node.Transports.NexusChannel;
using Nexus.Store;
using Nexus.Testing;
using Nexus.Testing.Channel;

namespace Nexus.Frontend.Tests;

/// <summary>
/// The examples, unchanged, through the real runtime in both modes against one store: baseline (real boto3 over HTTP,
/// the function's own limited key, invocations over a fake Lambda Runtime API: the image tests' driver) and nexus
/// (the runtime's channel source, the stand-in boto3, the real backend enforcing the manifest). The handlers' results
/// and the objects they write must be the same.
/// </summary>
public sealed class ExamplesDifferentialTests : IAsyncLifetime
{
    private const string AdminKey = "EXDIFFADMIN000000001";
    private const string AdminSecret = "examples-diff-admin-secret-0000000000000";
    private const string Bucket = "nexus-examples";

    private static readonly string[] s_invocations = ["cold", "warm", "defaults"];

    private readonly StoreCredentials _credentials = new();
    private DirectoryInfo? _root;
    private S3StoreServer? _store;

    public static TheoryData<string> Examples => new(
        Directory.GetDirectories(Path.Combine(HostRequirements.RepoRoot, "examples"))
            .Where(d => File.Exists(Path.Combine(d, "function.yaml")))
            .Select(d => Path.GetFileName(d))
            .Order(StringComparer.Ordinal));

    private string Endpoint => _store!.BoundAddresses[0].ToString().TrimEnd('/');

    private static string RuntimeDir => Path.Combine(HostRequirements.RepoRoot, "runtime");

    public async Task InitializeAsync()
    {
        _root = Directory.CreateTempSubdirectory("nexus-examples-diff-");
        _credentials.Add(new StoreCredential(AdminKey, AdminSecret));
        _store = await S3StoreServer.StartAsync(
            new StoreOptions { DataDirectory = Path.Combine(_root.FullName, "store"), Urls = ["http://127.0.0.1:0"], Durable = false },
            _credentials);
    }

    public async Task DisposeAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }

        _root?.Delete(recursive: true);
    }

    [RealClientsTheory]
    [MemberData(nameof(Examples))]
    public async Task ExampleGivesTheSameResultsAndOutputsInBothModes(string name)
    {
        await SeedAsync();
        var folder = Path.Combine(HostRequirements.RepoRoot, "examples", name);
        var manifest = ManifestParser.LoadFolder(folder);
        var eventJson = await File.ReadAllBytesAsync(Path.Combine(folder, "event.json"));

        var baseline = await RunBaselineAsync(name, folder, manifest);
        var baselineOutput = await TakeOutputAsync(baseline[0]);
        var nexus = await RunNexusAsync(name, folder, manifest with { Io = IoMode.Nexus }, eventJson);
        var nexusOutput = await TakeOutputAsync(nexus[0]);

        for (var i = 0; i < s_invocations.Length; i++)
        {
            Assert.True(JsonNode.DeepEquals(baseline[i], nexus[i]),
                $"{name} {s_invocations[i]}: baseline {baseline[i]?.ToJsonString()} nexus {nexus[i]?.ToJsonString()}");
        }

        Assert.True(JsonNode.DeepEquals(baselineOutput, nexusOutput),
            $"{name} output object: baseline {baselineOutput.ToJsonString()} nexus {nexusOutput.ToJsonString()}");
        Assert.True((long)baselineOutput["bytes"]! > 0);
    }

    /// <summary>The image tests' driver: the real runtime in baseline mode, real boto3, a fake Runtime API.</summary>
    private async Task<JsonNode?[]> RunBaselineAsync(string name, string folder, FunctionManifest manifest)
    {
        var key = "FN" + name.Replace("-", "", StringComparison.Ordinal).ToUpperInvariant();
        _credentials.Add(new StoreCredential(key, "function-secret", scope =>
            scope.Bucket is not null && scope.Key is not null
            && manifest.Allows(scope.Bucket, scope.Key, scope.IsWrite ? StorageAccess.Write : StorageAccess.Read)));
        var env = FunctionEnvironment(name, manifest);
        env["AWS_ACCESS_KEY_ID"] = key;
        env["AWS_SECRET_ACCESS_KEY"] = "function-secret";
        env["NEXUS_S3_ENDPOINT"] = Endpoint;
        env["CHECK_ACCESS_KEY"] = AdminKey;
        env["CHECK_SECRET_KEY"] = AdminSecret;
        var driver = Path.Combine(HostRequirements.RepoRoot, "tests", "Nexus.Image.Tests", "invoke_example.py");
        var (exitCode, stdout, stderr) = await PythonProcess.RunAsync([driver, RuntimeDir, folder, manifest.Handler], env, folder);
        Assert.True(exitCode == 0, $"baseline driver failed (exit {exitCode}):\n{stdout}\n{stderr}");
        var report = JsonNode.Parse(stdout)!;
        var results = report["results"]!.AsArray();
        Assert.All(results, r => Assert.EndsWith("/response", (string?)r!["path"], StringComparison.Ordinal));
        return results.Select(r => r!["body"]!.DeepClone()).ToArray();
    }

    /// <summary>The real runtime in nexus mode over a real channel, invoked through the node's invocation service.</summary>
    private async Task<JsonNode?[]> RunNexusAsync(string name, string folder, FunctionManifest manifest, byte[] eventJson)
    {
        await using var backend = new NexusBackend(new NexusBackendOptions { ServiceUrl = Endpoint, AccessKey = AdminKey, SecretKey = AdminSecret });
        await using var host = new ChannelServiceHost();
        InvocationService? invocations = null;
        await using var served = ServedChannel.Open(host, backend, manifest, registerMore: session => invocations = new InvocationService(session, LambdaJson.MaxResponseBytes));
        var channel = served.Channel;
        var env = FunctionEnvironment(name, manifest);
        foreach (var (variable, value) in channel.SandboxEnvironment)
        {
            env[variable] = value;
        }

        env["NEXUS_IO"] = "nexus";
        env["NEXUS_FRONTEND_DIR"] = PythonProcess.FrontendDir;
        env["PYTHONPATH"] = RuntimeDir + ":" + PythonProcess.ChannelDir;
        env["_HANDLER"] = manifest.Handler;
        env["LAMBDA_TASK_ROOT"] = folder;
        var log = Path.Combine(_root!.FullName, name + ".nexus.log");
        var process = SpawnedProcess.Start(HostRequirements.DebianPython, ["python3", "-m", "nexus_runtime"], env, channel.SandboxFds, log, log);
        try
        {
            var results = new JsonNode?[s_invocations.Length];
            for (var i = 0; i < s_invocations.Length; i++)
            {
                var payload = s_invocations[i] == "defaults" ? "{}"u8.ToArray() : eventJson;
                var invocation = new Invocation(s_invocations[i], payload, DateTimeOffset.UtcNow.AddMinutes(2), LambdaJson.FunctionArn(name));
                var result = await invocations!.InvokeAsync(invocation, CancellationToken.None).WaitAsync(PythonProcess.HangGuard);
                var text = Encoding.UTF8.GetString(result.Payload.Span);
                Assert.True(!result.IsError,
                    $"{name} {s_invocations[i]}: {result.ErrorType} {text}\n{await File.ReadAllTextAsync(log)}");
                results[i] = JsonNode.Parse(text);
            }

            return results;
        }
        finally
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
    }

    private static Dictionary<string, string> FunctionEnvironment(string name, FunctionManifest manifest)
    {
        var env = PythonProcess.BaseEnvironment();
        foreach (var (variable, value) in manifest.Environment)
        {
            env[variable] = value;
        }

        env["AWS_LAMBDA_FUNCTION_NAME"] = name;
        env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = manifest.MemoryMb.ToString(CultureInfo.InvariantCulture);
        env["AWS_LAMBDA_FUNCTION_VERSION"] = "$LATEST";
        return env;
    }

    private async Task SeedAsync()
    {
        var env = PythonProcess.BaseEnvironment();
        var (exitCode, stdout, stderr) = await PythonProcess.RunAsync(
            [Path.Combine(HostRequirements.RepoRoot, "examples", "seed_inputs.py"), "--endpoint", Endpoint, "--access-key", AdminKey, "--secret-key", AdminSecret],
            env, _root!.FullName);
        Assert.True(exitCode == 0, stdout + stderr);
    }

    /// <summary>Digest, size and type of the output object a run wrote, read with the admin key; then deletes it.</summary>
    private async Task<JsonObject> TakeOutputAsync(JsonNode? result)
    {
        var key = (string?)result?["output"] ?? throw new InvalidOperationException($"no output in {result?.ToJsonString()}");
        const string Code = """
            import boto3, hashlib, json, os, sys
            s3 = boto3.client("s3", endpoint_url=os.environ["ENDPOINT"], region_name="us-east-1",
                              aws_access_key_id=os.environ["KEY"], aws_secret_access_key=os.environ["SECRET"])
            o = s3.get_object(Bucket=sys.argv[1], Key=sys.argv[2])
            data = o["Body"].read()
            s3.delete_object(Bucket=sys.argv[1], Key=sys.argv[2])
            print(json.dumps({"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                              "content_type": o["ContentType"], "metadata": o["Metadata"]}))
            """;
        var env = PythonProcess.BaseEnvironment();
        env["ENDPOINT"] = Endpoint;
        env["KEY"] = AdminKey;
        env["SECRET"] = AdminSecret;
        var (exitCode, stdout, stderr) = await PythonProcess.RunAsync(["-c", Code, Bucket, key], env, _root!.FullName);
        Assert.True(exitCode == 0, stdout + stderr);
        return JsonNode.Parse(stdout)!.AsObject();
    }
}

/// <summary>A theory that needs Debian's python3-boto3 and the AWS CLI, skipping with the reason otherwise.</summary>
public sealed class RealClientsTheoryAttribute : TheoryAttribute
{
    public RealClientsTheoryAttribute()
    {
        Skip = HostRequirements.Missing(debianBoto3: true, awsCli: true);
    }
}
