// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text.Json.Nodes;
using Nexus.Backend.Services;
using Nexus.Bench;
using Nexus.Functions;
using Xunit.Abstractions;

namespace Nexus.Frontend.Tests;

/// <summary>
/// The function corpus (runtime/frontend/corpus/fn_*.py: handlers in the patterns of public Lambda examples, S3 and
/// DynamoDB), each run unchanged by run_corpus.py with real boto3 over HTTP (baseline: the store with the function's
/// limited key, dynalite) and with the stand-in over the channel (nexus: the fast path for S3, the generic path for
/// DynamoDB); every function's normalized result must be the same.
/// </summary>
public sealed class CorpusTests(ITestOutputHelper output)
{
    private const string Table = "corpus-items";

    private static string Script => Path.Combine(PythonProcess.FrontendDir, "corpus", "run_corpus.py");

    /// <summary>The difftest function's S3 grants, and every DynamoDB action on the corpus's table.</summary>
    private static FunctionManifest Manifest => DiffEnvironment.Manifest with
    {
        Services = [new ServiceGrant("dynamodb", ["*"], "table/" + Table)],
    };

    [DynaliteFact]
    public async Task EveryCorpusFunctionGivesTheSameResultInBothModes()
    {
        await using var environment = await DiffEnvironment.StartAsync();
        await using var dynalite = await Dynalite.StartAsync();
        var env = new Dictionary<string, string>
        {
            ["CORPUS_BUCKET"] = DiffEnvironment.Bucket,
            ["CORPUS_TABLE"] = Table,
            ["CORPUS_S3_ENDPOINT"] = environment.Endpoint,
            ["CORPUS_DDB_ENDPOINT"] = dynalite.Endpoint,
        };
        var baseline = Parse("baseline", await environment.RunBaselineScriptAsync([Script], env));
        env.Remove("CORPUS_S3_ENDPOINT");
        env.Remove("CORPUS_DDB_ENDPOINT");
        var nexus = Parse("nexus", await environment.RunNexusScriptAsync(
            Manifest, [Script], env, new Dictionary<string, ServiceEndpoint> { ["dynamodb"] = new() { Url = dynalite.Endpoint } }));

        Assert.StartsWith("/usr/lib/python3/dist-packages/", (string?)baseline["boto3_file"], StringComparison.Ordinal);
        Assert.StartsWith(PythonProcess.FrontendDir, (string?)nexus["boto3_file"], StringComparison.Ordinal);
        var baselineRuns = Functions(baseline);
        var nexusRuns = Functions(nexus);
        Assert.True(baselineRuns.Count >= 23, $"the corpus has {baselineRuns.Count} functions");
        // Every function must succeed in baseline, or equality would prove little.
        Assert.All(baselineRuns, r => Assert.True(r.Value["error"] is null, $"{r.Key} failed in baseline: {r.Value.ToJsonString()}"));

        var different = new List<string>();
        foreach (var (name, record) in baselineRuns)
        {
            var same = nexusRuns.TryGetValue(name, out var other) && JsonNode.DeepEquals(record, other);
            output.WriteLine($"{(same ? "same" : "DIFFERENT")}  {name}");
            if (!same)
            {
                different.Add($"{name}: baseline {record.ToJsonString()} nexus {other?.ToJsonString() ?? "<missing>"}");
            }
        }

        Assert.True(different.Count == 0, "corpus functions differ between modes:\n" + string.Join("\n", different));
    }

    private static Dictionary<string, JsonObject> Functions(JsonObject record) =>
        record["functions"]!.AsArray().Select(f => f!.AsObject()).ToDictionary(f => (string)f["function"]!);

    private static JsonObject Parse(string mode, (int ExitCode, string Stdout, string Stderr) run) =>
        run.ExitCode == 0 && JsonNode.Parse(run.Stdout) is JsonObject record
            ? record
            : throw new InvalidOperationException($"run_corpus.py ({mode}) failed (exit {run.ExitCode}):\n{run.Stdout}\n{run.Stderr}");
}
