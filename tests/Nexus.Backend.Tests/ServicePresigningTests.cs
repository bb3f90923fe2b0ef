// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text.Json;
using Nexus.Backend.Services;
using Nexus.Channel.Services;
using Nexus.Functions;

namespace Nexus.Backend.Tests;

/// <summary>
/// What the backend signs for a sandbox that asks for a presigned URL of a service other than S3 or an RDS
/// authentication token (<see cref="ServicePresigning"/>), attacked directly: only what the grants allow, the action read
/// from the request, no X-Amz-* parameter of the sandbox's, every part of a token shaped. The URLs' equality with the
/// real botocore's is PresignedUrlStandInTests' (tests/Nexus.Frontend.Tests).
/// </summary>
public sealed class ServicePresigningTests
{
    private static readonly DateTime s_now = new(2026, 12, 6, 20, 0, 0, DateTimeKind.Utc);

    private static FunctionManifest Manifest => new()
    {
        Name = "signer",
        Handler = "signer.main",
        Services =
        [
            new ServiceGrant("ec2", ["DescribeInstances"], "*"),
            new ServiceGrant("rds-db", ["connect"], "db.example.com:5432/app_*"),
        ],
    };

    private static NexusBackendOptions Options => new()
    {
        ServiceUrl = "http://127.0.0.1:9",
        AccessKey = "NEXUSNODEKEY00000001",
        SecretKey = "node-secret",
        Services = new Dictionary<string, ServiceEndpoint>
        {
            ["ec2"] = new() { Url = "http://10.0.0.5:8080", Region = "eu-west-1" },
            ["rds-db"] = new() { Url = "http://unused.invalid", AccessKey = "RDSDBKEY000000000001", SecretKey = "rds-secret" },
        },
    };

    private static ServiceRequest Ec2(string operation, string query) =>
        ServiceRequest.Create("ec2", operation, "POST", "/?" + query, []);

    [Fact]
    public void A_granted_action_is_signed_for_the_services_endpoint_and_region()
    {
        var url = ServicePresigning.Presign(Manifest, Options, Ec2("DescribeInstances", "Action=DescribeInstances&Version=2016-11-15"), region: null, 300, s_now);
        Assert.StartsWith("http://10.0.0.5:8080/?Action=DescribeInstances&Version=2016-11-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=NEXUSNODEKEY00000001%2F20261206%2Feu-west-1%2Fec2%2Faws4_request&X-Amz-Date=20261206T200000Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature=", url, StringComparison.Ordinal);
        var crossRegion = ServicePresigning.Presign(Manifest, Options, Ec2("DescribeInstances", "Action=DescribeInstances"), region: "us-west-2", 300, s_now);
        Assert.Contains("%2Fus-west-2%2Fec2%2F", crossRegion, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("TerminateInstances", "Action=TerminateInstances", 403, "may not perform ec2:TerminateInstances on resource *")]
    [InlineData("DescribeInstances", "Action=TerminateInstances", 400, "performs \"TerminateInstances\" but says it is DescribeInstances")]
    [InlineData("DescribeInstances", "Action=DescribeInstances&Action=TerminateInstances", 400, "more than one Action")]
    [InlineData("DescribeInstances", "Action=DescribeInstances&X-Amz-Expires=999999999", 400, "no X-Amz-* query parameters")]
    [InlineData("DescribeInstances", "Action=DescribeInstances&x-amz-credential=OTHER", 400, "no X-Amz-* query parameters")]
    [InlineData("DescribeInstances", "Version=2016-11-15", 403, "only a grant of actions [\"*\"]")]
    public void What_the_grants_do_not_allow_or_the_sandbox_forged_is_not_signed(string operation, string query, int status, string why)
    {
        var e = Assert.Throws<ChannelRequestException>(() => ServicePresigning.Presign(Manifest, Options, Ec2(operation, query), null, 300, s_now));
        Assert.Equal(status, e.Status);
        Assert.Contains(why, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_service_without_an_endpoint_and_the_nodes_own_lambda_api_are_not_signed()
    {
        var sns = ServiceRequest.Create("sns", "ListTopics", "POST", "/?Action=ListTopics", []);
        Assert.Equal(501, Assert.Throws<ChannelRequestException>(() => ServicePresigning.Presign(Manifest, Options, sns, null, 60, s_now)).Status);
        var lambda = ServiceRequest.Create("lambda", "ListFunctions", "GET", "/2015-03-31/functions/", []);
        Assert.Contains("takes no presigned requests", Assert.Throws<ChannelRequestException>(() => ServicePresigning.Presign(Manifest, Options, lambda, null, 60, s_now)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_db_token_is_botocores_shape_signed_with_the_rds_db_entrys_key()
    {
        var token = ServicePresigning.DbAuthToken(Manifest, Options, Json("""{"Hostname":"db.example.com","Port":5432,"User":"app_user","Region":"us-east-1"}"""), s_now);
        Assert.StartsWith("db.example.com:5432/?Action=connect&DBUser=app_user&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=RDSDBKEY000000000001%2F20261206%2Fus-east-1%2Frds-db%2Faws4_request&X-Amz-Date=20261206T200000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=", token, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"Hostname":"db.example.com","Port":5432,"User":"admin","Region":"us-east-1"}""", 403, "rds-db:connect on resource db.example.com:5432/admin")]
    [InlineData("""{"Hostname":"db.example.com","Port":5433,"User":"app_user","Region":"us-east-1"}""", 403, "on resource db.example.com:5433/app_user")]
    [InlineData("""{"Hostname":"evil.test/db.example.com","Port":5432,"User":"app_user","Region":"us-east-1"}""", 400, "Hostname must be a DNS name")]
    [InlineData("""{"Hostname":"a@db.example.com","Port":5432,"User":"app_user","Region":"us-east-1"}""", 400, "Hostname must be a DNS name")]
    [InlineData("""{"Hostname":"db.example.com","Port":0,"User":"app_user","Region":"us-east-1"}""", 400, "Port must be a number from 1 to 65535")]
    [InlineData("""{"Hostname":"db.example.com","Port":5432,"User":"app_\u000a","Region":"us-east-1"}""", 400, "without control characters")]
    [InlineData("""{"Hostname":"db.example.com","Port":5432,"User":"app_user","Region":"us-east-1/x"}""", 400, "is not a region name")]
    public void A_db_token_outside_the_grants_or_badly_shaped_is_not_signed(string parameters, int status, string why)
    {
        var e = Assert.Throws<ChannelRequestException>(() => ServicePresigning.DbAuthToken(Manifest, Options, Json(parameters), s_now));
        Assert.Equal(status, e.Status);
        Assert.Contains(why, e.Message, StringComparison.Ordinal);
    }

    private static JsonElement Json(string text)
    {
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }
}
