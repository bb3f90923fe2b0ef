// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text.Json.Nodes;
using Nexus.Functions;
using Xunit.Abstractions;

namespace Nexus.Frontend.Tests;

/// <summary>
/// Presigned URLs of services other than S3 and RDS IAM authentication tokens in nexus mode (difftests/presigntest.py):
/// the sandbox holds no credentials, so the backend signs them, within the function's grants; each must be exactly what
/// the real botocore makes of the same call with the node's key, endpoint and region at the same instant. Before the
/// backend signed them the real botocore in the sandbox handed out unsigned URLs and tokens, which no service takes.
/// </summary>
public sealed class PresignedUrlStandInTests(ITestOutputHelper output)
{
    // Nothing is sent to it: a presigned URL is handed out, not used.
    private const string Endpoint = "http://127.0.0.1:9";

    private static FunctionManifest Manifest => new()
    {
        Name = "presigntest",
        Handler = "presigntest.main",
        Services =
        [
            new ServiceGrant("rds-db", ["connect"], "db.example.com:5432/app_*"),
            new ServiceGrant("rds-db", ["connect"], "Db-1.Example.com:3306/app_reader"),
            new ServiceGrant("ec2", ["DescribeInstances"], "*"),
            new ServiceGrant("dynamodb", ["ListTables"], "*"),
            new ServiceGrant("sts", ["GetCallerIdentity"], "*"),
        ],
    };

    private static string Script => Path.Combine(PythonProcess.FrontendDir, "difftests", "presigntest.py");

    [Fact]
    public async Task UrlsAndTokensAreTheRealBotocoresSignedWithTheNodesKeyWithinTheGrants()
    {
        var options = ProxyDifferential.BackendOptions(("ec2", Endpoint), ("dynamodb", Endpoint), ("sts", Endpoint));
        var work = Directory.CreateTempSubdirectory("nexus-presigntest-");
        try
        {
            var (code, stdout, stderr) = await ChannelRun.RunAsync(options, Manifest, [Script, "run"], PythonProcess.BaseEnvironment(), work.FullName);
            Assert.True(code == 0, $"presigntest.py (nexus) failed (exit {code}):\n{stdout}\n{stderr}");
            var record = JsonNode.Parse(stdout)!.AsObject();
            var cases = DifferentialTests.Cases(record);

            // The tokens are the stand-in's RDS client's: no real botocore (and its HTTP stack) loaded for them.
            Assert.True(record["modules"]!.AsArray().Count == 0, $"nexus mode loaded {record["modules"]!.ToJsonString()}:\n{stderr}");
            var token = (string?)cases["db_auth_token"]["result"];
            Assert.StartsWith($"db.example.com:5432/?Action=connect&DBUser=app_user&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={options.AccessKey}%2F", token, StringComparison.Ordinal);
            Assert.Contains("%2Fus-east-1%2Frds-db%2Faws4_request&", token, StringComparison.Ordinal);
            Assert.Contains("%2Feu-west-1%2Frds-db%2Faws4_request&", (string?)cases["db_auth_token_of_another_region_and_host"]["result"], StringComparison.Ordinal);
            var describe = (string?)cases["ec2_describe_instances"]["result"];
            Assert.StartsWith($"{Endpoint}/?Action=DescribeInstances&Version=2016-11-15&InstanceId.1=i-0abc&InstanceId.2=i-0def&X-Amz-Algorithm=", describe, StringComparison.Ordinal);

            // An EKS token's URL signs the header its handlers added.
            Assert.Contains("&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&", (string?)cases["eks_token_url"]["result"], StringComparison.Ordinal);

            // Outside the grants, and a service the node has no endpoint for: refused, nothing signed.
            Assert.Equal("AccessDenied", (string?)cases["db_auth_token_outside_the_grants"]["error"]?["response"]?["Error"]?["Code"]);
            Assert.Contains("rds-db:connect on resource db.example.com:5432/admin", (string?)cases["db_auth_token_outside_the_grants"]["error"]?["message"], StringComparison.Ordinal);
            Assert.Equal("AccessDenied", (string?)cases["ec2_outside_the_grants"]["error"]?["response"]?["Error"]?["Code"]);
            Assert.Equal("NotImplemented", (string?)cases["service_without_an_endpoint"]["error"]?["response"]?["Error"]?["Code"]);

            // Each URL and token is the real botocore's, signed with the node's key at the same instant.
            var recordPath = Path.Combine(work.FullName, "record.json");
            await File.WriteAllTextAsync(recordPath, stdout);
            var env = PythonProcess.BaseEnvironment();
            env["PRESIGNTEST_KEY"] = options.AccessKey;
            env["PRESIGNTEST_SECRET"] = options.SecretKey;
            env["PRESIGNTEST_REGION"] = options.Region;
            env["PRESIGNTEST_ENDPOINT"] = Endpoint;
            var (expectCode, expectOut, expectErr) = await PythonProcess.RunAsync([Script, "expect", recordPath], env, work.FullName);
            Assert.True(expectCode == 0, $"presigntest.py expect failed (exit {expectCode}):\n{expectOut}\n{expectErr}");
            var expected = JsonNode.Parse(expectOut)!.AsObject();
            Assert.Equal(["db_auth_token", "db_auth_token_of_another_region_and_host", "dynamodb_list_tables", "ec2_describe_instances", "eks_token_url"], expected.Select(e => e.Key).Order(StringComparer.Ordinal));
            foreach (var (name, compared) in expected)
            {
                output.WriteLine($"{name}: {cases[name]["result"]}");
                Assert.True(JsonNode.DeepEquals(compared!["made"], compared["given"]), $"{name}: the real botocore made {compared["made"]!.ToJsonString()}, the function got {compared["given"]!.ToJsonString()}");
            }
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }
}
