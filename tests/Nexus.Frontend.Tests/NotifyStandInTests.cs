// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Collections.Specialized;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Web;
using Nexus.Functions;
using Nexus.Testing;
using Xunit.Abstractions;

namespace Nexus.Frontend.Tests;

/// <summary>
/// The stand-in's EventBridge (JSON protocol), SES and CloudWatch (query protocol) clients against real boto3:
/// difftests/notifytest.py's calls, timestamps in every form botocore takes among them, give the same records with
/// real boto3 through the node's signing proxy (baseline) and with the stand-in over the channel (nexus), against one
/// scripted endpoint for the three services, which receives the same requests, byte for byte, from both; nexus mode
/// loads no real botocore for them.
/// </summary>
public sealed class NotifyStandInTests(ITestOutputHelper output)
{
    private const string SesNamespace = "http://ses.amazonaws.com/doc/2010-12-01/";
    private const string CloudWatchNamespace = "http://monitoring.amazonaws.com/doc/2010-08-01/";

    /// <summary>Every EventBridge and CloudWatch call; of SES, the two plain sends (SendTemplatedEmail is refused in both modes).</summary>
    private static FunctionManifest Manifest => new()
    {
        Name = "notifytest",
        Handler = "notifytest.main",
        Services =
        [
            new ServiceGrant("events", ["*"], "*"),
            new ServiceGrant("ses", ["SendEmail", "SendRawEmail"], "*"),
            new ServiceGrant("cloudwatch", ["*"], "*"),
        ],
    };

    private static string Script => Path.Combine(PythonProcess.FrontendDir, "difftests", "notifytest.py");

    [Fact]
    public async Task EventMailAndMetricCallsGiveTheSameResultsWithRealBoto3AndTheStandIn()
    {
        var service = new ScriptedNotify();
        await using var endpoint = new StandInEndpoint(service.ServeAsync);
        var env = PythonProcess.BaseEnvironment();
        env["AWS_DEFAULT_REGION"] = "us-east-1";
        var options = ProxyDifferential.BackendOptions(("events", endpoint.Url), ("ses", endpoint.Url), ("cloudwatch", endpoint.Url));
        var (baseline, nexus) = await ProxyDifferential.RunAsync(Script, Manifest, options, env, "NOTIFYTEST_ENDPOINT", nexusEndpoint: null);

        var baselineCases = DifferentialTests.Cases(baseline);
        // Real answers of each kind, or equality proves nothing.
        Assert.Equal("e-4", (string?)baselineCases["put_events"]["result"]?["Entries"]?[3]?["EventId"]);
        Assert.Equal(1, (int?)baselineCases["put_events_partly_failed"]["result"]?["FailedEntryCount"]);
        Assert.Equal("client.exceptions.ResourceNotFoundException", (string?)baselineCases["put_events_bus_missing_is_modeled"]["result"]?["caught_as"]);
        Assert.Equal(1, (int?)baselineCases["put_events_throttled_is_retried"]["error"]?["response"]?["ResponseMetadata"]?["RetryAttempts"]);
        Assert.Contains("Entries[0].Time", (string?)baselineCases["put_events_checked"]["error"]?["message"], StringComparison.Ordinal);
        Assert.Equal("ses-1", (string?)baselineCases["send_email"]["result"]?["MessageId"]);
        Assert.Equal("client.exceptions.MessageRejected", (string?)baselineCases["rejected_message_is_modeled"]["result"]?["caught_as"]);
        Assert.Equal(1, (int?)baselineCases["ses_throttling_is_retried"]["error"]?["response"]?["ResponseMetadata"]?["RetryAttempts"]);
        Assert.Equal("AccessDenied", (string?)baselineCases["send_templated_email_outside_the_grants"]["error"]?["response"]?["Error"]?["Code"]);
        Assert.Equal(200, (int?)baselineCases["put_metric_data"]["result"]?["ResponseMetadata"]?["HTTPStatusCode"]);
        Assert.Equal("client.exceptions.InvalidParameterValueException", (string?)baselineCases["invalid_metric_is_modeled"]["result"]?["caught_as"]);
        var received = baselineCases["endpoint_requests"]["result"]!.AsArray();
        Assert.True(received.Count >= 10, "the endpoint received the suite's requests");
        // The timestamps as botocore writes them: epoch seconds in JSON, ISO 8601 (microseconds when there are some) in a form.
        Assert.Contains("\"Time\": 1796558400", received[0]!["body"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains(received, r => r!["body"]!.GetValue<string>().Contains("Timestamp=2026-12-06T12%3A00%3A00.123456Z", StringComparison.Ordinal));

        DifferentialTests.AssertSameRecords(baselineCases, nexus, output, "the stand-in's EventBridge, SES or CloudWatch client differs from real boto3");
    }

    /// <summary>
    /// EventBridge, SES and CloudWatch as far as the test asks them. What it received (operation, content type, body as
    /// sent) is kept until an event from the source "received" hands it back as its error message, so each run reads
    /// its own requests.
    /// </summary>
    private sealed class ScriptedNotify
    {
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
                var form = HttpUtility.ParseQueryString(text);
                var (status, xml) = form["Action"] == "PutMetricData" ? CloudWatch(form) : Ses(form);
                await ProxyDifferential.AnswerXmlAsync(response, status, xml);
                return;
            }

            var entries = JsonNode.Parse(text)!["Entries"]!.AsArray();
            if ((string?)entries[0]!["Source"] == "received")
            {
                var record = new JsonObject { ["ErrorCode"] = "Received", ["ErrorMessage"] = _received.ToJsonString() };
                await ProxyDifferential.AnswerJsonAsync(response, 200, new JsonObject { ["FailedEntryCount"] = 1, ["Entries"] = new JsonArray(record) });
                _received.Clear();
                return;
            }

            _received.Add(new JsonObject { ["target"] = target, ["content_type"] = context.Request.ContentType, ["body"] = text });
            var (eventsStatus, answer) = Events(target, entries);
            await ProxyDifferential.AnswerJsonAsync(response, eventsStatus, answer);
        }

        private static (int Status, JsonObject Answer) Events(string target, JsonArray entries)
        {
            if (target != "AWSEvents.PutEvents")
            {
                return (400, new JsonObject { ["__type"] = "UnknownOperationException" });
            }

            if ((string?)entries[0]!["EventBusName"] == "gone")
            {
                return (400, new JsonObject { ["__type"] = "ResourceNotFoundException", ["message"] = "Event bus gone does not exist." });
            }

            if ((string?)entries[0]!["Source"] == "app.hot")
            {
                return (400, new JsonObject { ["__type"] = "ThrottlingException", ["message"] = "Rate exceeded" });
            }

            var results = new JsonArray();
            var failed = 0;
            for (var i = 0; i < entries.Count; i++)
            {
                if ((string?)entries[i]!["Source"] == "app.failing")
                {
                    failed++;
                    results.Add(new JsonObject { ["ErrorCode"] = "InternalFailure", ["ErrorMessage"] = "Internal failure" });
                }
                else
                {
                    results.Add(new JsonObject { ["EventId"] = $"e-{i + 1}" });
                }
            }

            return (200, new JsonObject { ["FailedEntryCount"] = failed, ["Entries"] = results });
        }

        private static (int Status, string Xml) Ses(NameValueCollection form) => (form["Action"], form["Source"]) switch
        {
            (_, "spam@example.com") => (400, ProxyDifferential.QueryError(SesNamespace, "MessageRejected", "Email address is not verified.")),
            (_, "hot@example.com") => (400, ProxyDifferential.QueryError(SesNamespace, "Throttling", "Maximum sending rate exceeded.")),
            ("SendEmail", _) => (200, ProxyDifferential.QueryResult("SendEmail", SesNamespace, "<MessageId>ses-1</MessageId>")),
            ("SendRawEmail", _) => (200, ProxyDifferential.QueryResult("SendRawEmail", SesNamespace, "<MessageId>ses-2</MessageId>")),
            var (action, _) => (400, ProxyDifferential.QueryError(SesNamespace, "InvalidAction", $"The action {action} is not valid for this endpoint.")),
        };

        private static (int Status, string Xml) CloudWatch(NameValueCollection form) => form["Namespace"] switch
        {
            "AWS/Reserved" => (400, ProxyDifferential.QueryError(CloudWatchNamespace, "InvalidParameterValue", "The value AWS/ for parameter Namespace is invalid.")),
            _ => (200, ProxyDifferential.QueryResponse("PutMetricData", CloudWatchNamespace, "")),
        };
    }
}
