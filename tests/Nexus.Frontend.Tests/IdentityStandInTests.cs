// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Web;
using Nexus.Functions;
using Nexus.Testing;
using Xunit.Abstractions;

namespace Nexus.Frontend.Tests;

/// <summary>
/// The stand-in's KMS (JSON protocol) and STS (query protocol) clients against real boto3: difftests/identitytest.py's
/// calls give the same records with real boto3 through the node's signing proxy (baseline) and with the stand-in over
/// the channel (nexus), against one scripted endpoint for both services, which receives the same requests, byte for
/// byte, from both; nexus mode loads no real botocore for them.
/// </summary>
public sealed class IdentityStandInTests(ITestOutputHelper output)
{
    private const string StsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/";

    /// <summary>KMS's calls but ReEncrypt (refused in both modes); every STS call.</summary>
    private static FunctionManifest Manifest => new()
    {
        Name = "identitytest",
        Handler = "identitytest.main",
        Services =
        [
            new ServiceGrant("kms", ["Decrypt", "Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "GenerateRandom", "Sign", "Verify"], "*"),
            new ServiceGrant("sts", ["*"], "*"),
        ],
    };

    private static string Script => Path.Combine(PythonProcess.FrontendDir, "difftests", "identitytest.py");

    [Fact]
    public async Task KeyAndIdentityCallsGiveTheSameResultsWithRealBoto3AndTheStandIn()
    {
        var service = new ScriptedIdentity();
        await using var endpoint = new StandInEndpoint(service.ServeAsync);
        var env = PythonProcess.BaseEnvironment();
        env["AWS_DEFAULT_REGION"] = "us-east-1";
        var options = ProxyDifferential.BackendOptions(("kms", endpoint.Url), ("sts", endpoint.Url));
        var (baseline, nexus) = await ProxyDifferential.RunAsync(Script, Manifest, options, env, "IDENTITYTEST_ENDPOINT", nexusEndpoint: null);

        var baselineCases = DifferentialTests.Cases(baseline);
        // Real answers of each kind, or equality proves nothing.
        Assert.Equal("plain", (string?)baselineCases["decrypt_environment_variable"]["result"]?["Plaintext"]?["head"]);
        Assert.Equal(true, (bool?)baselineCases["sign_and_verify"]["result"]?[1]?["SignatureValid"]);
        Assert.Equal("client.exceptions.InvalidCiphertextException", (string?)baselineCases["invalid_ciphertext_is_modeled"]["result"]?["caught_as"]);
        Assert.Equal(1, (int?)baselineCases["kms_throttling_is_retried"]["error"]?["response"]?["ResponseMetadata"]?["RetryAttempts"]);
        Assert.Equal("AccessDenied", (string?)baselineCases["re_encrypt_outside_the_grants"]["error"]?["response"]?["Error"]?["Code"]);
        Assert.Equal("000000000000", (string?)baselineCases["get_caller_identity"]["result"]?["Account"]);
        Assert.Equal("aware", (string?)baselineCases["assume_role"]["result"]?["Credentials"]?["Expiration"]?["<datetime>"]);
        Assert.Equal("client.exceptions.MalformedPolicyDocumentException", (string?)baselineCases["malformed_policy_is_modeled"]["result"]?["caught_as"]);
        Assert.Equal(1, (int?)baselineCases["idp_unreachable_is_retried"]["error"]?["response"]?["ResponseMetadata"]?["RetryAttempts"]);
        Assert.Equal(1, (int?)baselineCases["idp_unreachable_is_retried_in_standard_mode"]["error"]?["response"]?["ResponseMetadata"]?["RetryAttempts"]);
        Assert.True(baselineCases["endpoint_requests"]["result"]?.AsArray().Count >= 15, "the endpoint received the suite's requests");

        DifferentialTests.AssertSameRecords(baselineCases, nexus, output, "the stand-in's KMS or STS client differs from real boto3");
    }

    /// <summary>
    /// KMS and STS as far as the test asks them. What it received (operation, content type, body as sent) is kept until
    /// a GenerateRandom from the key store "received" hands it back as its bytes, so each run reads its own requests.
    /// </summary>
    private sealed class ScriptedIdentity
    {
        private const string Key = "arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab";

        private readonly JsonArray _received = [];

        public async Task ServeAsync(HttpListenerContext context)
        {
            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var text = await reader.ReadToEndAsync();
            var response = context.Response;
            response.Headers["x-amzn-RequestId"] = "header-request-id";
            var target = context.Request.Headers["X-Amz-Target"];
            if (target is null)
            {
                _received.Add(new JsonObject { ["content_type"] = context.Request.ContentType, ["body"] = text });
                var (status, xml) = Sts(HttpUtility.ParseQueryString(text));
                await ProxyDifferential.AnswerXmlAsync(response, status, xml);
                return;
            }

            var body = JsonNode.Parse(text)!.AsObject();
            if ((string?)body["CustomKeyStoreId"] == "received")
            {
                await ProxyDifferential.AnswerJsonAsync(response, 200, new JsonObject { ["Plaintext"] = Base64(_received.ToJsonString()) });
                _received.Clear();
                return;
            }

            _received.Add(new JsonObject { ["target"] = target, ["content_type"] = context.Request.ContentType, ["body"] = text });
            var (kmsStatus, answer) = Kms(target, body);
            await ProxyDifferential.AnswerJsonAsync(response, kmsStatus, answer);
        }

        private static (int Status, JsonObject Answer) Kms(string target, JsonObject body) => target switch
        {
            "TrentService.Decrypt" when (string?)body["CiphertextBlob"] == Base64("garbage") =>
                (400, Error("InvalidCiphertextException", null)),
            "TrentService.Decrypt" => (200, new JsonObject { ["KeyId"] = Key, ["Plaintext"] = Base64("plain"), ["EncryptionAlgorithm"] = "SYMMETRIC_DEFAULT" }),
            "TrentService.Encrypt" => (string?)body["KeyId"] switch
            {
                "alias/disabled" => (400, Error("DisabledException", $"{Key} is disabled.")),
                "alias/broken" => (500, Error("KMSInternalException", "Internal failure")),
                _ => (200, new JsonObject { ["CiphertextBlob"] = Base64("\u0001cipher"), ["KeyId"] = Key, ["EncryptionAlgorithm"] = "SYMMETRIC_DEFAULT" }),
            },
            "TrentService.GenerateDataKey" => (200, new JsonObject { ["CiphertextBlob"] = Base64("wrapped"), ["Plaintext"] = Base64("0123456789abcdef0123456789abcdef"), ["KeyId"] = Key }),
            "TrentService.GenerateDataKeyWithoutPlaintext" => (200, new JsonObject { ["CiphertextBlob"] = Base64("wrapped"), ["KeyId"] = Key }),
            "TrentService.GenerateRandom" when (int?)body["NumberOfBytes"] == 1024 => (400, Error("ThrottlingException", "Rate exceeded")),
            "TrentService.GenerateRandom" => (200, new JsonObject { ["Plaintext"] = Base64(new string('r', (int?)body["NumberOfBytes"] ?? 0)) }),
            "TrentService.Sign" => (200, new JsonObject { ["KeyId"] = Key, ["Signature"] = Base64("\u0030signature"), ["SigningAlgorithm"] = "ECDSA_SHA_256" }),
            "TrentService.Verify" => (200, new JsonObject { ["KeyId"] = Key, ["SignatureValid"] = true, ["SigningAlgorithm"] = "ECDSA_SHA_256" }),
            _ => (400, Error("UnknownOperationException", null)),
        };

        private static (int Status, string Xml) Sts(System.Collections.Specialized.NameValueCollection form) => (form["Action"], form["RoleSessionName"], form["RoleArn"]) switch
        {
            ("GetCallerIdentity", _, _) => (200, ProxyDifferential.QueryResult("GetCallerIdentity", StsNamespace,
                "<UserId>AIDANODE</UserId><Account>000000000000</Account><Arn>arn:aws:iam::000000000000:user/node</Arn>")),
            ("AssumeRole", "bad-policy", _) => (400, ProxyDifferential.QueryError(StsNamespace, "MalformedPolicyDocument", "The policy is not in the valid JSON format.")),
            ("AssumeRole", "idp-down", _) => (400, ProxyDifferential.QueryError(StsNamespace, "IDPCommunicationError", "The identity provider could not be reached.")),
            ("AssumeRole", _, var role) when role!.EndsWith("/forbidden", StringComparison.Ordinal) =>
                (403, ProxyDifferential.QueryError(StsNamespace, "AccessDenied", $"User is not authorized to perform: sts:AssumeRole on resource: {role}")),
            ("AssumeRole", var session, var role) => (200, ProxyDifferential.QueryResult("AssumeRole", StsNamespace,
                "<Credentials><AccessKeyId>ASIAROLE</AccessKeyId><SecretAccessKey>role-secret</SecretAccessKey><SessionToken>token</SessionToken>"
                + "<Expiration>2026-12-06T13:00:00Z</Expiration></Credentials>"
                + $"<AssumedRoleUser><AssumedRoleId>AROA:{session}</AssumedRoleId><Arn>{role}/{session}</Arn></AssumedRoleUser><PackedPolicySize>6</PackedPolicySize>")),
            var (action, _, _) => (400, ProxyDifferential.QueryError(StsNamespace, "InvalidAction", $"Could not find operation {action} for version 2011-06-15")),
        };

        private static JsonObject Error(string type, string? message) =>
            message is null ? new JsonObject { ["__type"] = type } : new JsonObject { ["__type"] = type, ["message"] = message };

        private static string Base64(string text) => Convert.ToBase64String(Encoding.Latin1.GetBytes(text));
    }
}
