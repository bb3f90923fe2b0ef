// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Nexus.Functions;
using Nexus.Testing;
using Xunit.Abstractions;

namespace Nexus.Frontend.Tests;

/// <summary>
/// The stand-in's SSM and Secrets Manager clients against real boto3: difftests/secretstest.py's calls give the same
/// records with real boto3 through the node's signing proxy (baseline) and with the stand-in over the channel (nexus),
/// against one scripted endpoint for both services, which receives the same requests from both; nexus mode loads no
/// real botocore for them.
/// </summary>
public sealed class SecretsStandInTests(ITestOutputHelper output)
{
    /// <summary>Every parameter call but DeleteParameter (refused in both modes), and GetSecretValue.</summary>
    private static FunctionManifest Manifest => new()
    {
        Name = "secretstest",
        Handler = "secretstest.main",
        Services =
        [
            new ServiceGrant("ssm", ["GetParameter", "GetParameters", "GetParametersByPath", "PutParameter"], "*"),
            new ServiceGrant("secretsmanager", ["GetSecretValue", "DescribeSecret", "PutSecretValue", "UpdateSecretVersionStage", "GetRandomPassword"], "*"),
        ],
    };

    private static string Script => Path.Combine(PythonProcess.FrontendDir, "difftests", "secretstest.py");

    [Fact]
    public async Task ParameterAndSecretCallsGiveTheSameResultsWithRealBoto3AndTheStandIn()
    {
        var service = new ScriptedSecrets();
        await using var endpoint = new StandInEndpoint(service.ServeAsync);
        var env = PythonProcess.BaseEnvironment();
        env["AWS_DEFAULT_REGION"] = "us-east-1";
        var (baseline, nexus) = await ProxyDifferential.RunAsync(Script, Manifest, ProxyDifferential.BackendOptions(("ssm", endpoint.Url), ("secretsmanager", endpoint.Url)), env, "SECRETSTEST_ENDPOINT", nexusEndpoint: null);
        var baselineCases = DifferentialTests.Cases(baseline);
        // Real answers of each kind, or equality proves nothing.
        Assert.Equal("s3cr3t", (string?)baselineCases["get_parameter"]["result"]?["Parameter"]?["Value"]);
        Assert.Equal("AWSPENDING", (string?)baselineCases["rotation_steps"]["result"]?[0]?["VersionIdsToStages"]?["a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"]?[0]);
        Assert.Equal("aware", (string?)baselineCases["rotation_steps"]["result"]?[0]?["LastRotatedDate"]?["<datetime>"]);
        Assert.Equal("aware", (string?)baselineCases["get_parameter"]["result"]?["Parameter"]?["LastModifiedDate"]?["<datetime>"]);
        Assert.Equal("client.exceptions.ParameterNotFound", (string?)baselineCases["get_parameter_missing_is_modeled"]["result"]?["caught_as"]);
        Assert.Equal(1, (int?)baselineCases["get_parameter_throttled_is_retried"]["error"]?["response"]?["ResponseMetadata"]?["RetryAttempts"]);
        Assert.Equal(8, (int?)baselineCases["get_secret_binary"]["result"]?["SecretBinary"]?["<bytes>"]);
        Assert.Equal("AccessDenied", (string?)baselineCases["delete_parameter_outside_the_grants"]["error"]?["response"]?["Error"]?["Code"]);
        Assert.Equal(["/app/db", "/app/port"], baselineCases["paginator_of_parameters_by_path"]["result"]!.AsArray().Select(n => (string?)n));

        DifferentialTests.AssertSameRecords(baselineCases, nexus, output, "the stand-in's SSM or Secrets Manager client differs from real boto3");
    }

    /// <summary>
    /// SSM and Secrets Manager as far as the test asks them: each name one kind of answer. What it received is kept
    /// (target, content type, body) until the parameter "/received" hands it back, so each run reads its own requests.
    /// </summary>
    private sealed class ScriptedSecrets
    {
        private const double Modified = 1700000000.123;

        private readonly JsonArray _received = [];

        public async Task ServeAsync(HttpListenerContext context)
        {
            var request = context.Request;
            using var reader = new StreamReader(request.InputStream, Encoding.UTF8);
            var text = await reader.ReadToEndAsync();
            var body = JsonNode.Parse(text)!.AsObject();
            var target = request.Headers["X-Amz-Target"] ?? "";
            var response = context.Response;
            response.Headers["x-amzn-RequestId"] = Guid.NewGuid().ToString();
            if ((string?)body["Name"] == "/received")
            {
                await ProxyDifferential.AnswerJsonAsync(response, 200, new JsonObject { ["Parameter"] = Parameter("/received", _received.ToJsonString()) });
                _received.Clear();
                return;
            }

            _received.Add(new JsonObject { ["target"] = target, ["content_type"] = request.ContentType, ["body"] = body.DeepClone() });
            var (status, answer) = target switch
            {
                "AmazonSSM.GetParameter" => (string?)body["Name"] switch
                {
                    "/app/db" => (200, new JsonObject { ["Parameter"] = Parameter("/app/db", "s3cr3t") }),
                    "/app/throttled" => (400, new JsonObject { ["__type"] = "ThrottlingException", ["message"] = "Rate exceeded" }),
                    "/app/broken" => (500, new JsonObject { ["__type"] = "InternalServerError", ["Message"] = "try later" }),
                    _ => (400, new JsonObject { ["__type"] = "ParameterNotFound" }),
                },
                "AmazonSSM.GetParameters" => (200, new JsonObject
                {
                    ["Parameters"] = new JsonArray(Parameter("/app/db", "s3cr3t")),
                    ["InvalidParameters"] = new JsonArray("/app/nope"),
                }),
                "AmazonSSM.GetParametersByPath" => body["NextToken"] is null
                    ? (200, new JsonObject { ["Parameters"] = new JsonArray(Parameter("/app/db", "s3cr3t")), ["NextToken"] = "page-2" })
                    : (200, new JsonObject { ["Parameters"] = new JsonArray(Parameter("/app/port", "5432")) }),
                "AmazonSSM.PutParameter" => (string?)body["Name"] == "/app/db" && body["Overwrite"] is null
                    ? (400, new JsonObject { ["__type"] = "ParameterAlreadyExists", ["message"] = "The parameter already exists." })
                    : (200, new JsonObject { ["Version"] = 4, ["Tier"] = "Standard" }),
                "secretsmanager.GetSecretValue" => (string?)body["SecretId"] switch
                {
                    "db" => (200, Secret("db", "SecretString", "{\"password\":\"p\"}")),
                    "bin" => (200, Secret("bin", "SecretBinary", Convert.ToBase64String("\0\u0001binary"u8))),
                    "undecryptable" => (400, new JsonObject { ["__type"] = "DecryptionFailure", ["Message"] = "KMS said no" }),
                    _ => (400, new JsonObject { ["__type"] = "ResourceNotFoundException", ["Message"] = "Secrets Manager can't find the specified secret." }),
                },
                "secretsmanager.DescribeSecret" => (200, new JsonObject
                {
                    ["ARN"] = "arn:aws:secretsmanager:us-east-1:000000000000:secret:db-AbCdEf",
                    ["Name"] = "db",
                    ["RotationEnabled"] = true,
                    ["RotationRules"] = new JsonObject { ["AutomaticallyAfterDays"] = 30 },
                    ["LastRotatedDate"] = Modified,
                    ["VersionIdsToStages"] = new JsonObject { ["a1b2c3d4-5678-90ab-cdef-EXAMPLE00000"] = new JsonArray("AWSCURRENT"), ["a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"] = new JsonArray("AWSPENDING") },
                    ["Tags"] = new JsonArray(new JsonObject { ["Key"] = "team", ["Value"] = "a" }),
                }),
                "secretsmanager.PutSecretValue" => (string?)body["ClientRequestToken"] == "a1b2c3d4-5678-90ab-cdef-EXAMPLEtaken"
                    ? (400, new JsonObject { ["__type"] = "ResourceExistsException", ["Message"] = "A resource with the ID you requested already exists." })
                    : (200, new JsonObject
                    {
                        ["ARN"] = "arn:aws:secretsmanager:us-east-1:000000000000:secret:db-AbCdEf",
                        ["Name"] = "db",
                        ["VersionId"] = body["ClientRequestToken"]?.DeepClone(),
                        ["VersionStages"] = body["VersionStages"]?.DeepClone() ?? new JsonArray("AWSCURRENT"),
                    }),
                "secretsmanager.UpdateSecretVersionStage" => (200, new JsonObject { ["ARN"] = "arn:aws:secretsmanager:us-east-1:000000000000:secret:db-AbCdEf", ["Name"] = "db" }),
                "secretsmanager.GetRandomPassword" => (200, new JsonObject { ["RandomPassword"] = new string('x', (int?)body["PasswordLength"] ?? 32) }),
                _ => (400, new JsonObject { ["__type"] = "UnknownOperationException" }),
            };
            await ProxyDifferential.AnswerJsonAsync(response, status, answer);
        }

        private static JsonObject Parameter(string name, string value) => new()
        {
            ["Name"] = name,
            ["Type"] = "SecureString",
            ["Value"] = value,
            ["Version"] = 3,
            ["LastModifiedDate"] = Modified,
            ["ARN"] = "arn:aws:ssm:us-east-1:000000000000:parameter" + name,
            ["DataType"] = "text",
        };

        private static JsonObject Secret(string name, string field, string value) => new()
        {
            ["ARN"] = "arn:aws:secretsmanager:us-east-1:000000000000:secret:" + name + "-AbCdEf",
            ["Name"] = name,
            ["VersionId"] = "v1",
            [field] = value,
            ["VersionStages"] = new JsonArray("AWSCURRENT"),
            ["CreatedDate"] = Modified,
        };
    }
}
