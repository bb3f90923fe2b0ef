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
/// The stand-in's REST-JSON clients (SES v2, API Gateway's management API, IoT data) against real boto3:
/// difftests/resttest.py's calls give the same records with real boto3 through the node's signing proxy (baseline)
/// and with the stand-in over the channel (nexus), against one scripted endpoint answering by path as those services
/// do, which receives the same requests (method, path and query, headers, body) from both; nexus mode loads no real
/// botocore for them.
/// </summary>
public sealed class RestStandInTests(ITestOutputHelper output)
{
    /// <summary>The node cannot read a REST call's action, so only every action on every resource covers one.</summary>
    private static FunctionManifest Manifest => new()
    {
        Name = "resttest",
        Handler = "resttest.main",
        Services =
        [
            new ServiceGrant("sesv2", ["*"], "*"),
            new ServiceGrant("apigatewaymanagementapi", ["*"], "*"),
            new ServiceGrant("iot-data", ["*"], "*"),
        ],
    };

    private static string Script => Path.Combine(PythonProcess.FrontendDir, "difftests", "resttest.py");

    [Fact]
    public async Task RestCallsGiveTheSameResultsWithRealBoto3AndTheStandIn()
    {
        var service = new ScriptedRest();
        await using var endpoint = new StandInEndpoint(service.ServeAsync);
        var env = PythonProcess.BaseEnvironment();
        env["AWS_DEFAULT_REGION"] = "us-east-1";
        var options = ProxyDifferential.BackendOptions(("sesv2", endpoint.Url), ("apigatewaymanagementapi", endpoint.Url), ("iot-data", endpoint.Url));
        var (baseline, nexus) = await ProxyDifferential.RunAsync(Script, Manifest, options, env, "RESTTEST_ENDPOINT", nexusEndpoint: null);

        var baselineCases = DifferentialTests.Cases(baseline);
        // Real answers of each kind, or equality proves nothing.
        Assert.Equal("sesv2-1", (string?)baselineCases["sesv2_send_email"]["result"]?["MessageId"]);
        Assert.Equal("FAILED", (string?)baselineCases["sesv2_send_bulk_email"]["result"]?["BulkEmailEntryResults"]?[1]?["Status"]);
        Assert.Equal("client.exceptions.MessageRejected", (string?)baselineCases["sesv2_rejected_is_modeled"]["result"]?["caught_as"]);
        Assert.Equal(1, (int?)baselineCases["sesv2_throttled_is_retried"]["error"]?["response"]?["ResponseMetadata"]?["RetryAttempts"]);
        Assert.Equal("client.exceptions.GoneException", (string?)baselineCases["post_to_a_gone_connection_is_modeled"]["result"]?["caught_as"]);
        Assert.Equal("198.51.100.7", (string?)baselineCases["get_connection"]["result"]?["Identity"]?["SourceIp"]);
        Assert.Equal(204, (int?)baselineCases["delete_connection"]["result"]?["ResponseMetadata"]?["HTTPStatusCode"]);
        Assert.Equal("StreamingBody", (string?)baselineCases["iot_get_thing_shadow"]["result"]?["payload_type"]);
        Assert.Equal("client.exceptions.ResourceNotFoundException", (string?)baselineCases["iot_missing_thing_is_modeled"]["result"]?["caught_as"]);
        var received = baselineCases["endpoint_requests"]["result"]!.AsArray();
        // The stage's path is kept, labels and the query string are encoded as botocore encodes them.
        Assert.Contains(received, r => (string?)r!["target"] == "/prod/@connections/conn-1%3D");
        Assert.Contains(received, r => ((string?)r!["target"])!.StartsWith("/topics/devices%2F42%2Fcommands?qos=1&retain=true", StringComparison.Ordinal));

        DifferentialTests.AssertSameRecords(baselineCases, nexus, output, "the stand-in's REST-JSON clients differ from real boto3");
    }

    /// <summary>
    /// SES v2, API Gateway's management API and IoT data as far as the test asks them. What it received (method, path
    /// and query, headers but the signature's and the client's own, body) is kept until a send from
    /// "received@example.com" hands it back as its message id, so each run reads its own requests.
    /// </summary>
    private sealed class ScriptedRest
    {
        private static readonly HashSet<string> s_unrecorded = new(StringComparer.OrdinalIgnoreCase)
        {
            "authorization", "x-amz-date", "x-amz-content-sha256", "user-agent", "amz-sdk-invocation-id", "amz-sdk-request",
        };

        private readonly JsonArray _received = [];

        public async Task ServeAsync(HttpListenerContext context)
        {
            var request = context.Request;
            using var reader = new StreamReader(request.InputStream, Encoding.Latin1);
            var body = await reader.ReadToEndAsync();
            var target = request.RawUrl ?? "";
            var path = target.Split('?')[0];
            var response = context.Response;
            response.Headers["x-amzn-RequestId"] = "header-request-id";
            if (body.Contains("received@example.com", StringComparison.Ordinal))
            {
                await AnswerAsync(response, 200, new JsonObject { ["MessageId"] = _received.ToJsonString() });
                _received.Clear();
                return;
            }

            var headers = new JsonObject();
            foreach (var key in request.Headers.AllKeys.Where(k => k is not null && !s_unrecorded.Contains(k)).Order(StringComparer.OrdinalIgnoreCase))
            {
                headers[key!.ToLowerInvariant()] = request.Headers[key];
            }

            _received.Add(new JsonObject { ["method"] = request.HttpMethod, ["target"] = target, ["headers"] = headers, ["body"] = body });
            var (status, errorType, answer) = (request.HttpMethod, path) switch
            {
                ("POST", "/v2/email/outbound-emails") when body.Contains("spam@", StringComparison.Ordinal) =>
                    (400, "MessageRejected", new JsonObject { ["message"] = "Email address is not verified." }),
                ("POST", "/v2/email/outbound-emails") when body.Contains("hot@", StringComparison.Ordinal) =>
                    (429, "TooManyRequestsException", new JsonObject { ["message"] = "Maximum sending rate exceeded." }),
                ("POST", "/v2/email/outbound-emails") => (200, null, new JsonObject { ["MessageId"] = "sesv2-1" }),
                ("POST", "/v2/email/outbound-bulk-emails") => (200, null, new JsonObject
                {
                    ["BulkEmailEntryResults"] = new JsonArray(
                        new JsonObject { ["Status"] = "SUCCESS", ["MessageId"] = "bulk-1" },
                        new JsonObject { ["Status"] = "FAILED", ["Error"] = "Address blacklisted." }),
                }),
                ("POST", "/prod/@connections/gone") => (410, "GoneException", new JsonObject()),
                ("POST", var p) when p.StartsWith("/prod/@connections/", StringComparison.Ordinal) => (200, null, null),
                ("GET", var p) when p.StartsWith("/prod/@connections/", StringComparison.Ordinal) => (200, null, new JsonObject
                {
                    ["connectedAt"] = "2026-12-06T12:00:00.000Z",
                    ["identity"] = new JsonObject { ["sourceIp"] = "198.51.100.7", ["userAgent"] = "browser" },
                    ["lastActiveAt"] = "2026-12-06T12:05:30.250Z",
                }),
                ("DELETE", _) => (204, null, null),
                ("POST", var p) when p.StartsWith("/topics/", StringComparison.Ordinal) => (200, null, null),
                ("GET", "/things/missing/shadow") => (404, "ResourceNotFoundException", new JsonObject { ["message"] = "No shadow exists with name: 'missing'" }),
                ("GET", _) => (200, null, new JsonObject { ["state"] = new JsonObject { ["reported"] = new JsonObject { ["on"] = false } }, ["version"] = 7 }),
                ("POST", var p) when p.StartsWith("/things/", StringComparison.Ordinal) => (200, null, new JsonObject { ["state"] = JsonNode.Parse(body)!["state"]!.DeepClone(), ["version"] = 8 }),
                _ => (404, "UnknownOperationException", new JsonObject { ["message"] = $"no scripted answer for {request.HttpMethod} {path}" }),
            };
            if (errorType is not null)
            {
                response.Headers["x-amzn-ErrorType"] = errorType + ":http://internal.amazon.com/coral/com.amazonaws.example/";
            }

            await AnswerAsync(response, status, answer);
        }

        private static async Task AnswerAsync(HttpListenerResponse response, int status, JsonNode? body)
        {
            response.StatusCode = status;
            if (body is null)
            {
                response.ContentLength64 = 0;
                return;
            }

            response.ContentType = "application/json";
            var bytes = Encoding.UTF8.GetBytes(body.ToJsonString());
            response.ContentLength64 = bytes.Length;
            await response.OutputStream.WriteAsync(bytes);
        }
    }
}
