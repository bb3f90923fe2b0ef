// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Nexus.Functions;
using Nexus.Testing;
using Xunit.Abstractions;

namespace Nexus.Frontend.Tests;

/// <summary>
/// The stand-in's Lambda client against real boto3: difftests/lambdatest.py's Invoke calls give the same records with
/// real boto3 through the node's signing proxy (baseline) and with the stand-in over the channel (nexus), against one
/// scripted Lambda endpoint that answers each function name with one kind of answer (an echo of what it received, a
/// function error, modeled and unmodeled errors in each place botocore reads a code from, throttling, generic 5xx
/// pages, a failure that clears on retry); the endpoint receives the same requests from both. In nexus mode the real
/// botocore is not loaded until a call the stand-in does not serve.
/// </summary>
public sealed class LambdaStandInTests(ITestOutputHelper output)
{
    private const string Trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a87bd80c:1";

    /// <summary>Invoke on the test's functions; "secret" is deliberately not among them.</summary>
    private static FunctionManifest Manifest => new()
    {
        Name = "lambdatest",
        Handler = "lambdatest.main",
        Services = [new ServiceGrant("lambda", ["Invoke", "GetFunctionConfiguration"], "function/dt-*"), new ServiceGrant("lambda", ["ListFunctions"], "*")],
    };

    private static string Script => Path.Combine(PythonProcess.FrontendDir, "difftests", "lambdatest.py");

    [Fact]
    public async Task InvokeGivesTheSameResultsWithRealBoto3AndTheStandIn()
    {
        var lambda = new ScriptedLambda();
        await using var endpoint = new StandInEndpoint(lambda.ServeAsync);
        var (baseline, nexus) = await ProxyDifferential.RunAsync(Script, Manifest, ProxyDifferential.BackendOptions(("lambda", endpoint.Url)), Environment(), "LAMBDATEST_ENDPOINT", "http://127.0.0.1:9");

        var baselineCases = DifferentialTests.Cases(baseline);
        // Real answers of each kind, or equality proves nothing.
        Assert.Equal(200, (int?)baselineCases["invoke_bytes"]["result"]?["StatusCode"]);
        Assert.Equal(1, (int?)baselineCases["invoke_bytes"]["result"]?["Payload"]?["event"]?["n"]);
        Assert.Equal(Trace, (string?)baselineCases["invoke_bytes"]["result"]?["Payload"]?["trace"]);
        Assert.Equal("Unhandled", (string?)baselineCases["function_error"]["result"]?["FunctionError"]);
        Assert.Equal("client.exceptions.ResourceNotFoundException", (string?)baselineCases["missing_function_caught_as_modeled"]["result"]?["caught_as"]);
        Assert.Equal("ConcurrentInvocationLimitExceeded", (string?)baselineCases["throttled_legacy_retries"]["error"]?["response"]?["Reason"]);
        Assert.Equal(1, (int?)baselineCases["throttled_legacy_retries"]["error"]?["response"]?["ResponseMetadata"]?["RetryAttempts"]);
        Assert.Equal(1, (int?)baselineCases["fails_once_then_succeeds"]["result"]?["ResponseMetadata"]?["RetryAttempts"]);
        Assert.Equal("AccessDenied", (string?)baselineCases["outside_the_grants"]["error"]?["response"]?["Error"]?["Code"]);
        Assert.Equal("botocore.exceptions.ParamValidationError", (string?)baselineCases["parameters_checked"]["error"]?["exception"]);
        // The reads the node serves to functions, within the grants; GetFunction refused before it is sent.
        Assert.Equal("dt-echo", (string?)baselineCases["function_configuration"]["result"]?["FunctionName"]);
        Assert.Equal("orders", (string?)baselineCases["function_configuration"]["result"]?["Environment"]?["Variables"]?["TABLE"]);
        Assert.Equal("AccessDenied", (string?)baselineCases["configuration_outside_the_grants"]["error"]?["response"]?["Error"]?["Code"]);
        Assert.Equal("dt-echo", (string?)baselineCases["list_functions"]["result"]?["Functions"]?[0]?["FunctionName"]);
        Assert.Equal("NotImplemented", (string?)baselineCases["get_function_is_not_served"]["error"]?["response"]?["Error"]?["Code"]);
        // A read timeout: the slow callee invoked twice (once more by the retry) before ReadTimeoutError, a third time
        // by the patient client, twice more through the generic path, in both modes (the endpoint's records are
        // compared below).
        Assert.Equal("ReadTimeoutError", (string?)baselineCases["read_timeout_retried_then_raised"]["result"]?["exception"]);
        Assert.Equal("ReadTimeoutError", (string?)baselineCases["read_timeout_on_the_generic_path"]["result"]);
        Assert.Equal(5, baselineCases["endpoint_requests"]["result"]!["Payload"]!.AsArray().Count(r => ((string?)r!["target"])!.Contains("dt-slow", StringComparison.Ordinal)));

        DifferentialTests.AssertSameRecords(baselineCases, nexus, output, "the stand-in's Lambda client differs from real boto3");
    }

    private static Dictionary<string, string> Environment()
    {
        var env = PythonProcess.BaseEnvironment();
        env["AWS_LAMBDA_FUNCTION_NAME"] = "lambdatest";
        env["_X_AMZN_TRACE_ID"] = Trace;
        env["AWS_DEFAULT_REGION"] = "us-east-1";
        return env;
    }

    /// <summary>
    /// A Lambda endpoint whose functions each give one kind of answer. It keeps what it received (method, target,
    /// headers but the signature's and the client's own, body) until "dt-received" hands it back, so each run reads
    /// its own requests.
    /// </summary>
    private sealed class ScriptedLambda
    {
        private const string InvokePrefix = "/2015-03-31/functions/";
        private static readonly HashSet<string> s_unrecorded = new(StringComparer.OrdinalIgnoreCase)
        {
            "authorization", "x-amz-date", "x-amz-content-sha256", "user-agent", "amz-sdk-invocation-id", "amz-sdk-request",
        };

        private readonly JsonArray _received = [];
        private readonly Dictionary<string, int> _attempts = [];

        public async Task ServeAsync(HttpListenerContext context)
        {
            var request = context.Request;
            byte[] body;
            using (var buffer = new MemoryStream())
            {
                await request.InputStream.CopyToAsync(buffer);
                body = buffer.ToArray();
            }

            var rawUrl = request.RawUrl ?? "";
            var path = rawUrl.Split('?')[0];
            var segment = path.StartsWith(InvokePrefix, StringComparison.Ordinal) ? Uri.UnescapeDataString(path[InvokePrefix.Length..].Split('/')[0]) : "";
            var at = segment.IndexOf(":function:", StringComparison.Ordinal);
            var name = (at < 0 ? segment : segment[(at + ":function:".Length)..]).Replace(":$LATEST", "", StringComparison.Ordinal);
            var response = context.Response;
            response.Headers["x-amzn-RequestId"] = Guid.NewGuid().ToString();
            if (name == "dt-received")
            {
                await JsonAsync(response, 200, _received.DeepClone());
                _received.Clear();
                _attempts.Clear();
                return;
            }

            var headers = new JsonObject();
            foreach (var key in request.Headers.AllKeys.Where(k => k is not null && !s_unrecorded.Contains(k)).Order(StringComparer.OrdinalIgnoreCase))
            {
                headers[key!.ToLowerInvariant()] = request.Headers[key];
            }

            _received.Add(new JsonObject { ["method"] = request.HttpMethod, ["target"] = rawUrl, ["headers"] = headers, ["body"] = Encoding.UTF8.GetString(body) });
            if (request.HttpMethod == "GET")
            {
                // The reads: a function's configuration, or the list of the functions.
                var configuration = new JsonObject
                {
                    ["FunctionName"] = name.Length > 0 ? name : "dt-echo",
                    ["FunctionArn"] = "arn:aws:lambda:us-east-1:000000000000:function:" + (name.Length > 0 ? name : "dt-echo"),
                    ["Runtime"] = "python3.11",
                    ["Timeout"] = 30,
                    ["MemorySize"] = 128,
                    ["LastModified"] = "2026-12-06T12:00:00.000+0000",
                    ["Environment"] = new JsonObject { ["Variables"] = new JsonObject { ["TABLE"] = "orders" } },
                };
                await JsonAsync(response, 200, path.EndsWith("/configuration", StringComparison.Ordinal)
                    ? configuration
                    : new JsonObject { ["Functions"] = new JsonArray(configuration), ["NextMarker"] = "dt-echo" });
                return;
            }

            var attempt = _attempts[name] = _attempts.GetValueOrDefault(name) + 1;
            switch (name)
            {
                case "dt-echo" or "dt-flaky" when name == "dt-echo" || attempt > 1:
                    await EchoAsync(request, response, body);
                    break;
                case "dt-slow":
                    // Longer than the caller's read timeout: the caller has gone (baseline: its connection closed, so
                    // the answer may fail to go out) or dropped the call (nexus) by the time it is written.
                    await Task.Delay(TimeSpan.FromSeconds(2));
                    try
                    {
                        await EchoAsync(request, response, body);
                    }
                    catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
                    {
                    }

                    break;
                case "dt-flaky":
                    await ErrorAsync(response, 503, "ServiceException", new JsonObject { ["Type"] = "Service", ["Message"] = "try again" });
                    break;
                case "dt-fails":
                    response.Headers["X-Amz-Executed-Version"] = "$LATEST";
                    response.Headers["X-Amz-Function-Error"] = "Unhandled";
                    await JsonAsync(response, 200, new JsonObject { ["errorMessage"] = "boom", ["errorType"] = "Exception", ["stackTrace"] = new JsonArray() });
                    break;
                case "dt-missing":
                    await ErrorAsync(response, 404, "ResourceNotFoundException", new JsonObject { ["Type"] = "User", ["Message"] = "Function not found: arn:aws:lambda:us-east-1:000000000000:function:dt-missing" });
                    break;
                case "dt-throttled":
                    response.Headers["Retry-After"] = "1";
                    await ErrorAsync(response, 429, "TooManyRequestsException", new JsonObject { ["Reason"] = "ConcurrentInvocationLimitExceeded", ["Type"] = "User", ["message"] = "Rate Exceeded." });
                    break;
                case "dt-broken":
                    await ErrorAsync(response, 500, "ServiceException", new JsonObject { ["Type"] = "Service", ["Message"] = "internal failure" });
                    break;
                case "dt-gateway":
                    await TextAsync(response, 502, "text/html", "<html><body><b>Http/1.1 Bad Gateway</b></body></html>");
                    break;
                case "dt-empty503":
                    await TextAsync(response, 503, "text/plain", "");
                    break;
                case "dt-typecode":
                    await JsonAsync(response, 400, new JsonObject { ["__type"] = "com.amazon.coral.service#InvalidParameterValueException", ["message"] = "bad value", ["Type"] = "User" });
                    break;
                case "dt-code":
                    await JsonAsync(response, 400, new JsonObject { ["code"] = "SomethingUnmodeled", ["Message"] = "unmodeled" });
                    break;
                case "dt-notjson":
                    response.Headers["x-amzn-ErrorType"] = "InvalidRequestContentException:http://internal.amazon.com/coral/com.amazon.coral.validate/";
                    await TextAsync(response, 400, "text/plain", "Could not parse request body into json");
                    break;
                case "dt-toolarge":
                    await ErrorAsync(response, 413, "RequestTooLargeException", new JsonObject { ["Type"] = "User", ["message"] = "Request must be smaller than 6291456 bytes for the InvokeFunction operation" });
                    break;
                default:
                    await ErrorAsync(response, 404, "ResourceNotFoundException", new JsonObject { ["Type"] = "User", ["Message"] = "no scripted function " + name });
                    break;
            }
        }

        private static async Task EchoAsync(HttpListenerRequest request, HttpListenerResponse response, byte[] body)
        {
            var type = request.Headers["X-Amz-Invocation-Type"];
            if (type is "Event" or "DryRun")
            {
                await TextAsync(response, type == "Event" ? 202 : 204, "text/plain", "");
                return;
            }

            response.Headers["X-Amz-Executed-Version"] = "$LATEST";
            if (request.Headers["X-Amz-Log-Type"] == "Tail")
            {
                response.Headers["X-Amz-Log-Result"] = Convert.ToBase64String("START\nthe function's log\nEND\n"u8);
            }

            JsonNode? eventNode;
            try
            {
                eventNode = body.Length == 0 ? null : JsonNode.Parse(body);
            }
            catch (JsonException)
            {
                eventNode = Encoding.UTF8.GetString(body);
            }

            await JsonAsync(response, 200, new JsonObject
            {
                ["event"] = eventNode,
                ["trace"] = request.Headers["X-Amzn-Trace-Id"],
                ["context"] = request.Headers["X-Amz-Client-Context"],
                ["query"] = request.Url?.Query,
            });
        }

        private static Task ErrorAsync(HttpListenerResponse response, int status, string errorType, JsonObject body)
        {
            response.Headers["x-amzn-ErrorType"] = errorType;
            return JsonAsync(response, status, body);
        }

        private static Task JsonAsync(HttpListenerResponse response, int status, JsonNode body) =>
            TextAsync(response, status, "application/json", body.ToJsonString());

        private static async Task TextAsync(HttpListenerResponse response, int status, string contentType, string text)
        {
            response.StatusCode = status;
            response.ContentType = contentType;
            var bytes = Encoding.UTF8.GetBytes(text);
            if (status != 204)
            {
                response.ContentLength64 = bytes.Length;
                await response.OutputStream.WriteAsync(bytes);
            }
        }
    }
}
