// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text.Json;
using Nexus.Functions;
using Nexus.Store;
using Nexus.Testing;

namespace Nexus.Image.Tests;

/// <summary>
/// Every example, seeded with examples/seed_inputs.py into the real embedded store, then run by the real runtime
/// (baseline: real boto3 over HTTP) with a store key limited to the grants in its manifest, so a manifest that
/// grants too little fails here.
/// </summary>
public sealed class ExamplesTests : IAsyncLifetime
{
    private const string AdminKey = "EXAMPLESADMIN";
    private const string AdminSecret = "examples-admin-secret";

    private readonly TempDir _data = new();
    private readonly StoreCredentials _credentials = new();
    private S3StoreServer? _store;

    private string Endpoint => _store!.BoundAddresses[0].ToString().TrimEnd('/');

    public static TheoryData<string> Examples => new(
        Directory.GetDirectories(Path.Combine(HostRequirements.RepoRoot, "examples"))
            .Where(d => File.Exists(Path.Combine(d, "function.yaml")))
            .Select(Path.GetFileName)
            .Order(StringComparer.Ordinal)!);

    public async Task InitializeAsync()
    {
        _credentials.Add(new StoreCredential(AdminKey, AdminSecret));
        _store = await S3StoreServer.StartAsync(
            new StoreOptions { DataDirectory = _data.Combine("store"), Urls = ["http://127.0.0.1:0"], Durable = false }, _credentials);
    }

    public async Task DisposeAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }

        _data.Dispose();
    }

    [RealClientsFact]
    public async Task SeedingIsIdempotentAndMakesRealisticSizes()
    {
        var first = await SeedAsync();
        var second = await SeedAsync();

        Assert.Contains("created bucket nexus-examples", first, StringComparison.Ordinal);
        Assert.Equal(7, second.Split('\n').Count(l => l.StartsWith("unchanged ", StringComparison.Ordinal)));

        var (exitCode, listing) = await Run.ProgramAsync(HostRequirements.DebianPython, [SeedScript, "--list"]);
        Assert.Equal(0, exitCode);
        var sizes = listing.Trim().Split('\n').Select(l => l.Split('\t')).ToDictionary(f => f[0], f => long.Parse(f[1], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(1024, sizes["hello-s3/input/hello.txt"]);
        Assert.InRange(sizes["image-rotate/input/photo.jpg"], 900_000, 1_200_000);
        Assert.InRange(sizes["json-serdes/input/orders.json"], 256 * 1024, 300 * 1024);
        Assert.Equal(1024 * 1024, sizes["compression/input/app.log"]);
    }

    [RealClientsTheory]
    [MemberData(nameof(Examples))]
    public Task ExampleRunsWithOnlyItsManifestGrants(string name) => RunExampleAsync(name, rootfs: null);

    [RealClientsTheory(root: true)]
    [MemberData(nameof(Examples))]
    public async Task ExampleRunsInsideTheImageAsNobody(string name) =>
        await RunExampleAsync(name, (await ImageIntegrationTests.EnsureImageAsync()).RootfsPath);

    private async Task RunExampleAsync(string name, string? rootfs)
    {
        await SeedAsync();
        var folder = Path.Combine(HostRequirements.RepoRoot, "examples", name);
        var manifest = ManifestParser.LoadFolder(folder);
        Assert.Equal(name, manifest.Name);
        // The examples leave io to the default (nexus); this test runs them as baseline does (invoke_example.py
        // sets NEXUS_IO=baseline): real boto3 against the store, which checks the manifest's grants.
        Assert.Equal(IoMode.Nexus, manifest.Io);

        // The function's own key: every request checked against the manifest's grants, as the node registers it.
        var key = "FN" + name.Replace("-", "", StringComparison.Ordinal).ToUpperInvariant();
        _credentials.Add(new StoreCredential(key, "function-secret", scope =>
            scope.Bucket is not null && scope.Key is not null
            && manifest.Allows(scope.Bucket, scope.Key, scope.IsWrite ? StorageAccess.Write : StorageAccess.Read)));

        var environment = new Dictionary<string, string>(manifest.Environment)
        {
            ["PATH"] = "/usr/bin:/bin",
            ["AWS_LAMBDA_FUNCTION_NAME"] = name,
            ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = manifest.MemoryMb.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["AWS_REGION"] = "us-east-1",
            ["AWS_DEFAULT_REGION"] = "us-east-1",
            ["AWS_ACCESS_KEY_ID"] = key,
            ["AWS_SECRET_ACCESS_KEY"] = "function-secret",
            ["NEXUS_S3_ENDPOINT"] = Endpoint,
            ["CHECK_ACCESS_KEY"] = AdminKey,
            ["CHECK_SECRET_KEY"] = AdminSecret,
        };
        if (rootfs is not null)
        {
            environment["IMAGE_ROOTFS"] = rootfs;
        }

        var (exitCode, output, errors) = await Run.ProgramWithStreamsAsync(
            HostRequirements.DebianPython,
            [Path.Combine(HostRequirements.RepoRoot, "tests", "Nexus.Image.Tests", "invoke_example.py"), Path.Combine(HostRequirements.RepoRoot, "runtime"), folder, manifest.Handler],
            environment);
        Assert.True(exitCode == 0, output + errors);

        using var report = JsonDocument.Parse(output);
        var results = report.RootElement.GetProperty("results").EnumerateArray().ToList();
        var log = report.RootElement.GetProperty("log").GetString();
        foreach (var result in results)
        {
            Assert.True(result.GetProperty("path").GetString()!.EndsWith("/response", StringComparison.Ordinal), $"{result}\n{log}");
        }

        // The S3 event and the manifest's defaults name the same input, so all three runs write the same output.
        var outputs = results.Select(r => r.GetProperty("body").GetProperty("output").GetString()).Distinct().ToList();
        var output0 = Assert.Single(outputs);
        Assert.StartsWith(name + "/output/", output0, StringComparison.Ordinal);

        var check = report.RootElement.GetProperty("check");
        Assert.True(check.GetProperty("bytes").GetInt64() > 0);
        var verdicts = check.EnumerateObject().Where(p => p.Value.ValueKind is JsonValueKind.True or JsonValueKind.False).ToList();
        Assert.Single(verdicts);
        Assert.True(verdicts[0].Value.GetBoolean(), $"{name}: {verdicts[0].Name} failed\n{output}");
    }

    private static string SeedScript => Path.Combine(HostRequirements.RepoRoot, "examples", "seed_inputs.py");

    private async Task<string> SeedAsync()
    {
        var (exitCode, output) = await Run.ProgramAsync(
            HostRequirements.DebianPython,
            [SeedScript, "--endpoint", Endpoint, "--access-key", AdminKey, "--secret-key", AdminSecret],
            new Dictionary<string, string> { ["PYTHONDONTWRITEBYTECODE"] = "1" });
        Assert.True(exitCode == 0, output);
        return output;
    }
}

/// <summary>A theory that needs Debian's python3-boto3 and the AWS CLI (and root if asked), skipping with the reason otherwise.</summary>
public sealed class RealClientsTheoryAttribute : TheoryAttribute
{
    public RealClientsTheoryAttribute(bool root = false)
    {
        Skip = HostRequirements.Missing(root: root, debianBoto3: true, awsCli: true);
    }
}
