// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Text.Json;
using Nexus.Backend.Services;
using Nexus.Bench;
using Nexus.Node;
using Nexus.Testing;

namespace Nexus.EndToEnd.Tests;

/// <summary>A node whose config has a DynamoDB (dynalite) on the sandboxes' service address, listening on every address.</summary>
public sealed class DynamoDbNodeFixture : NodeFixture
{
    public Dynalite? Dynalite { get; private set; }

    protected override async Task<NodeOptions> OptionsAsync()
    {
        Dynalite = await Dynalite.StartAsync("0.0.0.0");
        return Options(Home) with
        {
            ServiceProxyUrl = "http://10.77.0.1:0",
            Services = new Dictionary<string, ServiceEndpoint> { ["dynamodb"] = new() { Url = $"http://10.77.0.1:{Dynalite.Port.ToString(CultureInfo.InvariantCulture)}" } },
        };
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (Dynalite is not null)
        {
            await Dynalite.DisposeAsync();
        }
    }
}

/// <summary>
/// A real baseline function (runc sandbox, its own network, real boto3) and a service of the node config: its calls go
/// through the node's signing proxy, within its grants, and nothing else of the service or the node is within reach.
/// </summary>
public sealed class BaselineServiceGrantsTests(DynamoDbNodeFixture fixture) : IClassFixture<DynamoDbNodeFixture>
{
    private const string Handler = """
        import os, socket
        import boto3, botocore
        from botocore.config import Config

        def handler(event, context):
            endpoint = os.environ["NEXUS_DYNAMODB_ENDPOINT"]
            config = Config(retries={"max_attempts": 1})
            ddb = boto3.client("dynamodb", endpoint_url=endpoint, config=config)
            forged = boto3.client("dynamodb", endpoint_url=endpoint, config=config,
                                  aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"], aws_secret_access_key="x" * 40)
            out = {"endpoint": endpoint, "environ": dict(os.environ)}

            def call(name, fn):
                try:
                    out[name] = {"status": fn()["ResponseMetadata"]["HTTPStatusCode"]}
                except botocore.exceptions.ClientError as e:
                    out[name] = {"code": e.response["Error"]["Code"], "message": e.response["Error"]["Message"]}

            schema = dict(KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
            call("create", lambda: ddb.create_table(TableName="e2e-orders", **schema))
            ddb.get_waiter("table_exists").wait(TableName="e2e-orders", WaiterConfig={"Delay": 1, "MaxAttempts": 30})
            call("put", lambda: ddb.put_item(TableName="e2e-orders", Item={"pk": {"S": "a"}, "v": {"S": "stored"}}))
            got = ddb.get_item(TableName="e2e-orders", Key={"pk": {"S": "a"}})
            out["got"] = got["Item"]["v"]["S"]
            call("create_other", lambda: ddb.create_table(TableName="e2e-secret", **schema))
            call("delete_granted", lambda: ddb.delete_item(TableName="e2e-orders", Key={"pk": {"S": "a"}}))
            call("forged", lambda: forged.get_item(TableName="e2e-orders", Key={"pk": {"S": "a"}}))
            try:
                socket.create_connection((event["service_host"], event["service_port"]), timeout=1).close()
                out["direct"] = "connected"
            except OSError as e:
                out["direct"] = type(e).__name__
            return out
        """;

    [RootFact]
    public async Task ABaselineFunctionReachesTheServiceOnlyThroughTheProxyWithinItsGrants()
    {
        await fixture.DeployAsync(
            "name: e2e-ddb\nhandler: handler.handler\nio: baseline\nservices:\n  - service: dynamodb\n    actions: [CreateTable, DescribeTable, GetItem, PutItem]\n    resource: table/e2e-orders\n",
            Handler);
        var service = new Uri(fixture.Node.Options.Services["dynamodb"].Url);
        var (response, body) = await fixture.InvokeAsync("e2e-ddb", JsonSerializer.Serialize(new { service_host = service.Host, service_port = service.Port }));

        Assert.True(response.IsSuccessStatusCode && !response.Headers.Contains("X-Amz-Function-Error"), body);
        using var document = JsonDocument.Parse(body);
        var result = document.RootElement;

        // Granted calls work end to end: created, written and read back through the proxy.
        Assert.Equal(200, result.GetProperty("create").GetProperty("status").GetInt32());
        Assert.Equal(200, result.GetProperty("put").GetProperty("status").GetInt32());
        Assert.Equal("stored", result.GetProperty("got").GetString());

        // Outside the grants: the generic path's refusal; a wrong secret: the service's.
        Assert.Equal("AccessDenied", result.GetProperty("create_other").GetProperty("code").GetString());
        Assert.Contains("dynamodb:CreateTable on resource table/e2e-secret", result.GetProperty("create_other").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("AccessDenied", result.GetProperty("delete_granted").GetProperty("code").GetString());
        Assert.Equal("InvalidSignatureException", result.GetProperty("forged").GetProperty("code").GetString());

        // The endpoint it is given is the proxy; the service's own port is closed to it.
        Assert.NotEqual(service.Port, new Uri(result.GetProperty("endpoint").GetString()!).Port);
        Assert.NotEqual("connected", result.GetProperty("direct").GetString());

        // Nothing of the node's credentials is in the sandbox: its only key is its function's.
        var environment = result.GetProperty("environ").EnumerateObject().Select(p => p.Value.GetString() ?? "").ToList();
        string[] nodeSecrets = [fixture.Node.AdminKey.AccessKeyId, fixture.Node.AdminKey.SecretAccessKey, fixture.Node.StoreKey.AccessKeyId, fixture.Node.StoreKey.SecretAccessKey];
        Assert.All(nodeSecrets, secret => Assert.DoesNotContain(environment, value => value.Contains(secret, StringComparison.Ordinal)));
        Assert.StartsWith("NXF", result.GetProperty("environ").GetProperty("AWS_ACCESS_KEY_ID").GetString(), StringComparison.Ordinal);
    }
}
