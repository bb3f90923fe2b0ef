// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text.Json.Nodes;
using Nexus.Backend;
using Nexus.Backend.Services;
using Nexus.Bench;
using Nexus.Functions;
using Xunit.Abstractions;

namespace Nexus.Frontend.Tests;

/// <summary>
/// The generic path against an independent DynamoDB (dynalite): difftests/ddbtest.py's DynamoDB calls give the same
/// records with real boto3 over HTTP (baseline) and with the real botocore behind the stand-in, over the channel and
/// the backend's ServiceRequest (nexus); and calls outside a function's service grants are refused before they are sent.
/// </summary>
public sealed class GenericPathTests(ITestOutputHelper output)
{
    private const string NodeKey = "NEXUSNODEKEY00000001";
    private const string NodeSecret = "node-secret-for-the-generic-path-tests-00";

    /// <summary>Every DynamoDB action on the suite's tables, and ListTables (a call whose resource is "*").</summary>
    private static FunctionManifest SuiteManifest => new()
    {
        Name = "ddbtest",
        Handler = "ddbtest.main",
        Services =
        [
            new ServiceGrant("dynamodb", ["*"], "table/dt-*"),
            new ServiceGrant("dynamodb", ["ListTables"], "*"),
        ],
    };

    /// <summary>The issue's example grant: three actions on one table.</summary>
    private static FunctionManifest NarrowManifest => new()
    {
        Name = "ddbnarrow",
        Handler = "ddbtest.main",
        Services = [new ServiceGrant("dynamodb", ["GetItem", "PutItem", "Query"], "table/dt-orders")],
    };

    private static string Script => Path.Combine(PythonProcess.FrontendDir, "difftests", "ddbtest.py");

    private static string ItemsScript => Path.Combine(PythonProcess.FrontendDir, "difftests", "ddbitems.py");

    [DynaliteFact]
    public async Task DynamoDbCallsGiveTheSameResultsThroughBaselineAndTheGenericPath()
    {
        await using var dynalite = await Dynalite.StartAsync();
        var work = Directory.CreateTempSubdirectory("nexus-ddbtest-");
        try
        {
            await RunBaselineAsync(dynalite, "setup", work.FullName);
            var baseline = Parse("baseline", await RunBaselineAsync(dynalite, "run", work.FullName));
            var (nexusOut, nexusErr) = await RunNexusAsync(dynalite, SuiteManifest, "run", work.FullName);
            var nexus = Parse("nexus", nexusOut);

            Assert.StartsWith("/usr/lib/python3/dist-packages/", (string?)baseline["botocore_file"], StringComparison.Ordinal);
            // The handler sees the stand-in; the real botocore works behind it.
            Assert.StartsWith(PythonProcess.FrontendDir, (string?)nexus["botocore_file"], StringComparison.Ordinal);

            var baselineCases = DifferentialTests.Cases(baseline);
            // Real success and failure paths, or equality proves nothing.
            Assert.Equal("client.exceptions.ConditionalCheckFailedException", (string?)baselineCases["put_item_condition_fails"]["result"]?["caught_as"]);
            Assert.Equal("ConditionalCheckFailedException", (string?)baselineCases["update_item_condition_fails"]["error"]?["response"]?["Error"]?["Code"]);
            Assert.Equal("ResourceNotFoundException", (string?)baselineCases["describe_missing_table"]["error"]?["response"]?["Error"]?["Code"]);
            Assert.Equal(4, baselineCases["query_paginator"]["result"]!.AsArray().Count);
            Assert.Equal(30, (int?)baselineCases["resource_batch_writer"]["result"]);
            Assert.Equal("ParamValidationError", (string?)baselineCases["param_validation"]["result"]?["caught_as"]);

            DifferentialTests.AssertSameRecords(baselineCases, nexus, output, "the generic path differs from real boto3");

            // Honest behaviour: the client's endpoint_url was routed by the node, and the log says so once.
            const string Said = "nexus: a dynamodb client was created with endpoint_url=";
            Assert.Equal(1, CountOf(nexusErr, Said));
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    /// <summary>
    /// The stand-in's own DynamoDB client and Table resource (difftests/ddbitems.py: every attribute type, each item call,
    /// modeled errors with their fields, parameter checks at every depth; Python values, Key/Attr conditions and the
    /// batch writer through the resource) give real boto3's records without the real botocore loaded.
    /// </summary>
    [DynaliteFact]
    public async Task ItemCallsGiveTheSameResultsWithoutTheRealBotocore()
    {
        await using var dynalite = await Dynalite.StartAsync();
        var work = Directory.CreateTempSubdirectory("nexus-ddbitems-");
        try
        {
            await RunBaselineAsync(dynalite, "setup", work.FullName);
            var baseline = Parse("baseline", await RunBaselineAsync(dynalite, "run", work.FullName, script: ItemsScript));
            var (nexusOut, nexusErr) = await RunNexusAsync(dynalite, SuiteManifest, "run", work.FullName, ItemsScript);
            var nexus = Parse("nexus", nexusOut);
            Assert.Contains("urllib3", baseline["modules"]!.AsArray().Select(m => (string?)m));
            Assert.True(nexus["modules"]!.AsArray().Count == 0, $"nexus mode loaded {nexus["modules"]!.ToJsonString()}:\n{nexusErr}");

            var baselineCases = DifferentialTests.Cases(baseline);
            // Real answers of each kind, or equality proves nothing.
            Assert.Equal(4, (int?)baselineCases["get_every_type"]["result"]?["Item"]?["b"]?["B"]?["<bytes>"]);
            Assert.Equal("client.exceptions.ConditionalCheckFailedException", (string?)baselineCases["condition_fails_as_modeled"]["result"]?["caught_as"]);
            Assert.Equal("botocore.exceptions.ParamValidationError", (string?)baselineCases["checked_at_every_depth"]["error"]?["exception"]);
            Assert.Equal("Decimal", (string?)baselineCases["resource_python_values"]["result"]?["price"]?[0]);
            Assert.Equal("Binary", (string?)baselineCases["resource_python_values"]["result"]?["raw"]?[0]);
            Assert.Equal("ConditionalCheckFailedException", (string?)baselineCases["resource_conditions"]["result"]?["failed"]);
            Assert.True((int?)baselineCases["resource_conditions"]["result"]?["count"] > 0);
            Assert.Equal("boto3.exceptions.DynamoDBNeedsKeyConditionError", (string?)baselineCases["resource_key_condition_refused"]["error"]?["exception"]);

            DifferentialTests.AssertSameRecords(baselineCases, nexus, output, "the stand-in's DynamoDB client differs from real boto3");
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    [DynaliteFact]
    public async Task CallsOutsideTheServiceGrantsAreRefusedBeforeTheyAreSent()
    {
        await using var dynalite = await Dynalite.StartAsync();
        var work = Directory.CreateTempSubdirectory("nexus-ddbdenied-");
        try
        {
            await RunBaselineAsync(dynalite, "setup", work.FullName);
            var (stdout, _) = await RunNexusAsync(dynalite, NarrowManifest, "denied", work.FullName);
            var calls = JsonNode.Parse(stdout)!.AsObject();
            output.WriteLine(stdout);

            Assert.Equal("granted", (string?)calls["get_granted"]?["result"]?["Item"]?["v"]?["S"]);
            AssertDenied(calls, "put_other_table", "dynamodb:PutItem on resource table/dt-secret");
            AssertDenied(calls, "delete_granted_table", "dynamodb:DeleteItem on resource table/dt-orders");
            AssertDenied(calls, "batch_write_mixed", "dynamodb:BatchWriteItem on resource table/dt-orders");
            AssertDenied(calls, "list_tables", "dynamodb:ListTables on resource *");
            // A service the node has no endpoint for cannot be reached, as real botocore finds in a baseline sandbox.
            Assert.Equal("botocore.exceptions.EndpointConnectionError", (string?)calls["sqs_not_configured"]?["error"]?["exception"]);
            Assert.Equal($"Could not connect to the endpoint URL: \"{dynalite.Endpoint}/\"", (string?)calls["sqs_not_configured"]?["error"]?["message"]);

            // Nothing refused reached the service: the other table is still empty, the mixed batch wrote nothing.
            var peek = JsonNode.Parse(await RunBaselineAsync(dynalite, "peek", work.FullName))!;
            Assert.Equal(0, (int?)peek["secret_items"]);
            Assert.False((bool?)peek["orders_g2"]);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    /// <summary>
    /// Baseline mode's way to the same service: real boto3 signs with the function's key and calls the node's signing
    /// proxy (ServiceProxy), which checks that key and the function's grants with the generic path's code and sends the
    /// call signed with the node's key. Every case of the suite gives the record the generic path gives, and the calls
    /// outside the narrow grants are refused exactly as in nexus mode (code, message, status), before they are sent.
    /// </summary>
    [DynaliteFact]
    public async Task BaselineThroughTheSigningProxyGivesTheGenericPathsResultsAndRefusals()
    {
        await using var dynalite = await Dynalite.StartAsync();
        var work = Directory.CreateTempSubdirectory("nexus-ddbproxy-");
        try
        {
            await RunBaselineAsync(dynalite, "setup", work.FullName);
            string proxied;
            await using (var proxy = await SigningProxy.StartAsync(BackendOptions(dynalite), SuiteManifest))
            {
                proxied = await RunBaselineAsync(dynalite, "run", work.FullName, proxy);
            }

            var viaProxy = DifferentialTests.Cases(Parse("baseline via proxy", proxied));
            var nexus = DifferentialTests.Cases(Parse("nexus", (await RunNexusAsync(dynalite, SuiteManifest, "run", work.FullName)).Stdout));
            Assert.Equal("ConditionalCheckFailedException", (string?)viaProxy["update_item_condition_fails"]["error"]?["response"]?["Error"]?["Code"]);
            Assert.Equal(30, (int?)viaProxy["resource_batch_writer"]["result"]);
            var differences = DifferentialTests.Compare(viaProxy, nexus);
            output.WriteLine($"{viaProxy.Count} cases compared, {differences.Count} differences");
            Assert.True(differences.Count == 0, "baseline through the proxy differs from the generic path:\n" + string.Join("\n", differences));

            // The suite recreated the table: the item the denied run may read is put back.
            await RunBaselineAsync(dynalite, "setup", work.FullName);
            string deniedViaProxy;
            await using (var proxy = await SigningProxy.StartAsync(BackendOptions(dynalite), NarrowManifest))
            {
                deniedViaProxy = await RunBaselineAsync(dynalite, "denied", work.FullName, proxy);
            }

            output.WriteLine(deniedViaProxy);
            var calls = JsonNode.Parse(deniedViaProxy)!.AsObject();
            Assert.Equal("granted", (string?)calls["get_granted"]?["result"]?["Item"]?["v"]?["S"]);
            AssertDenied(calls, "put_other_table", "dynamodb:PutItem on resource table/dt-secret");
            AssertDenied(calls, "batch_write_mixed", "dynamodb:BatchWriteItem on resource table/dt-orders");
            var peek = JsonNode.Parse(await RunBaselineAsync(dynalite, "peek", work.FullName))!;
            Assert.Equal(0, (int?)peek["secret_items"]);
            Assert.False((bool?)peek["orders_g2"]);

            var deniedInNexus = JsonNode.Parse((await RunNexusAsync(dynalite, NarrowManifest, "denied", work.FullName)).Stdout)!.AsObject();
            // Not the SQS call: pointed at the proxy, it reaches a node that answers NotImplemented, which a baseline
            // sandbox never does (its client of a service the node does not serve has the service's public endpoint,
            // out of its reach: EndpointConnectionError, as nexus mode raises; difftest services_the_node_does_not_serve).
            var refusals = DifferentialTests.Compare(
                calls.Where(c => c.Key != "sqs_not_configured").ToDictionary(c => c.Key, c => c.Value!.AsObject()),
                deniedInNexus.Where(c => c.Key != "sqs_not_configured").ToDictionary(c => c.Key, c => c.Value!.AsObject()));
            Assert.True(refusals.Count == 0, "baseline through the proxy is refused otherwise than nexus mode:\n" + string.Join("\n", refusals));
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private static void AssertDenied(JsonObject calls, string call, string naming)
    {
        var error = calls[call]?["error"];
        Assert.True(error is not null, $"{call} was not refused: {calls[call]?.ToJsonString()}");
        Assert.Equal("AccessDenied", (string?)error["response"]?["Error"]?["Code"]);
        Assert.Contains(naming, (string?)error["response"]?["Error"]?["Message"], StringComparison.Ordinal);
        Assert.Equal("botocore.exceptions.ClientError", (string?)error["exception"]);
    }

    private static int CountOf(string text, string what)
    {
        var count = 0;
        for (var at = text.IndexOf(what, StringComparison.Ordinal); at >= 0; at = text.IndexOf(what, at + what.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    /// <summary>Real boto3 over HTTP: straight to dynalite, or through the node's signing proxy with the function's key.</summary>
    private static async Task<string> RunBaselineAsync(Dynalite dynalite, string command, string work, SigningProxy? proxy = null, string? script = null)
    {
        var env = PythonProcess.BaseEnvironment();
        env["AWS_ACCESS_KEY_ID"] = proxy is null ? "baseline-function-key" : SigningProxy.FunctionKey;
        env["AWS_SECRET_ACCESS_KEY"] = proxy is null ? "baseline-function-secret" : SigningProxy.FunctionSecret;
        env["DDBTEST_ENDPOINT"] = proxy?.Endpoint ?? dynalite.Endpoint;
        env["NEXUS_IO"] = "baseline";
        var (exitCode, stdout, stderr) = await PythonProcess.RunAsync([script ?? Script, command], env, work);
        return exitCode == 0 ? stdout : throw new InvalidOperationException($"ddbtest {command} (baseline) failed (exit {exitCode}):\n{stdout}\n{stderr}");
    }

    private static async Task<(string Stdout, string Stderr)> RunNexusAsync(Dynalite dynalite, FunctionManifest manifest, string command, string work, string? script = null)
    {
        var options = BackendOptions(dynalite);
        var env = PythonProcess.BaseEnvironment();
        env["DDBTEST_ENDPOINT"] = dynalite.Endpoint;
        var (exitCode, stdout, stderr) = await ChannelRun.RunAsync(options, manifest, [script ?? Script, command], env, work);
        return exitCode == 0 ? (stdout, stderr) : throw new InvalidOperationException($"ddbtest {command} (nexus) failed (exit {exitCode}):\n{stdout}\n{stderr}");
    }

    private static NexusBackendOptions BackendOptions(Dynalite dynalite) => new()
    {
        // No S3 call is made; the generic path signs with this key (dynalite accepts any).
        ServiceUrl = "http://127.0.0.1:9",
        AccessKey = NodeKey,
        SecretKey = NodeSecret,
        Services = new Dictionary<string, ServiceEndpoint> { ["dynamodb"] = new() { Url = dynalite.Endpoint } },
    };

    private static JsonObject Parse(string mode, string stdout) =>
        JsonNode.Parse(stdout) as JsonObject ?? throw new InvalidOperationException($"ddbtest {mode} printed no JSON object:\n{stdout}");
}
