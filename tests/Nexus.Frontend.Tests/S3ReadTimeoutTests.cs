// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Text.Json.Nodes;
using Nexus.Backend.Services;
using Nexus.Testing;
using Xunit.Abstractions;

namespace Nexus.Frontend.Tests;

/// <summary>
/// botocore's read_timeout on the stand-in's S3 fast path (difftests/s3timeout.py): against a store that delays each
/// answer's first byte past the clients' timeouts, real boto3 over HTTP (baseline) and the stand-in over the channel
/// and the backend (nexus) give up, retry and raise ReadTimeoutError the same way, and wait when the timeout allows.
/// </summary>
public sealed class S3ReadTimeoutTests(ITestOutputHelper output)
{
    private static readonly TimeSpan s_slow = TimeSpan.FromSeconds(1.5);

    private static string Script => Path.Combine(PythonProcess.FrontendDir, "difftests", "s3timeout.py");

    [RealClientsFact]
    public async Task AnS3CallSlowerThanItsReadTimeoutIsRetriedThenRaisedAsWithRealBoto3()
    {
        await using var environment = await DiffEnvironment.StartAsync(s_slow);
        var extra = new Dictionary<string, string> { ["S3TIMEOUT_SLOW_SECONDS"] = s_slow.TotalSeconds.ToString(CultureInfo.InvariantCulture) };
        Parse("setup", await environment.RunBaselineScriptAsync([Script, "setup"], extra), expectJson: false);
        var baseline = Parse("baseline", await environment.RunBaselineScriptAsync([Script, "run"], extra));
        var nexus = Parse("nexus", await environment.RunNexusScriptAsync(DiffEnvironment.Manifest, [Script, "run"], extra, new Dictionary<string, ServiceEndpoint>()));
        output.WriteLine(nexus.ToJsonString());

        // The fast path served the nexus run: no HTTP stack (the generic path's real botocore) was loaded.
        Assert.StartsWith(PythonProcess.FrontendDir, (string?)nexus["botocore_file"], StringComparison.Ordinal);
        Assert.Empty(nexus["modules"]!.AsArray());

        // Real behaviour in both modes, or equality proves nothing.
        foreach (var record in new[] { baseline, nexus })
        {
            var cases = DifferentialTests.Cases(record);
            var retried = cases["get_slower_than_the_timeout_is_retried_then_raised"]["result"]!;
            Assert.Equal("ReadTimeoutError", (string?)retried["outcome"]);
            Assert.True((bool?)retried["both_attempts_waited"], $"{record["mode"]}: a get raised before its retry: {retried}");
            Assert.True((bool?)retried["before_the_store_answered_twice"], $"{record["mode"]}: a get waited for the store: {retried}");
            Assert.True((bool?)cases["head_slower_than_the_timeout_without_retries"]["result"]!["did_not_wait_for_the_store"]);
            Assert.True((bool?)cases["listing_in_standard_mode"]["result"]!["both_attempts_waited"]);
            Assert.True((bool?)cases["get_within_the_timeout"]["result"]!["outcome"]);
        }

        var differences = DifferentialTests.Compare(DifferentialTests.Cases(baseline), DifferentialTests.Cases(nexus));
        Assert.True(differences.Count == 0, "nexus mode's read timeouts differ from real boto3's:\n" + string.Join("\n", differences));
    }

    private static JsonObject Parse(string mode, (int ExitCode, string Stdout, string Stderr) run, bool expectJson = true)
    {
        Assert.True(run.ExitCode == 0, $"s3timeout {mode} run failed (exit {run.ExitCode}):\n{run.Stdout}\n{run.Stderr}");
        return !expectJson ? [] : JsonNode.Parse(run.Stdout) as JsonObject
            ?? throw new InvalidOperationException($"s3timeout {mode} printed no JSON:\n{run.Stdout}\n{run.Stderr}");
    }
}
