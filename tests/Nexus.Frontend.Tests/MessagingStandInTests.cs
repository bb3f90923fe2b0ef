// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net;
using System.Security;
using System.Text;
using System.Web;
using Nexus.Functions;
using Nexus.Testing;
using Xunit.Abstractions;

namespace Nexus.Frontend.Tests;

/// <summary>
/// The stand-in's SQS and SNS clients (query protocol) against real boto3: difftests/messagingtest.py's calls give the
/// same records with real boto3 through the node's signing proxy (baseline) and with the stand-in over the channel
/// (nexus), against one scripted endpoint for both services that answers XML as they do, and receives the same
/// requests from both; nexus mode loads no real botocore for them.
/// </summary>
public sealed class MessagingStandInTests(ITestOutputHelper output)
{
    /// <summary>Every SQS action; of SNS, Publish only (PublishBatch is refused in both modes).</summary>
    private static FunctionManifest Manifest => new()
    {
        Name = "messagingtest",
        Handler = "messagingtest.main",
        Services = [new ServiceGrant("sqs", ["*"], "*"), new ServiceGrant("sns", ["Publish"], "*")],
    };

    private static string Script => Path.Combine(PythonProcess.FrontendDir, "difftests", "messagingtest.py");

    [Fact]
    public async Task MessageCallsGiveTheSameResultsWithRealBoto3AndTheStandIn()
    {
        var service = new ScriptedMessaging();
        await using var endpoint = new StandInEndpoint(service.ServeAsync);
        var env = PythonProcess.BaseEnvironment();
        env["AWS_DEFAULT_REGION"] = "us-east-1";
        var (baseline, nexus) = await ProxyDifferential.RunAsync(Script, Manifest, ProxyDifferential.BackendOptions(("sqs", endpoint.Url), ("sns", endpoint.Url)), env, "MESSAGINGTEST_ENDPOINT", nexusEndpoint: null);

        var baselineCases = DifferentialTests.Cases(baseline);
        // Real answers of each kind, or equality proves nothing.
        Assert.Equal("m-1", (string?)baselineCases["send_message"]["result"]?["MessageId"]);
        Assert.Equal("ReceiptHandleIsInvalid", (string?)baselineCases["change_message_visibility_batch_partly_failed"]["result"]?["Failed"]?[0]?["Code"]);
        Assert.Equal("7", (string?)baselineCases["get_queue_attributes"]["result"]?["Attributes"]?["ApproximateNumberOfMessages"]);
        Assert.Equal("b", (string?)baselineCases["send_message_batch_partly_failed"]["result"]?["Failed"]?[0]?["Id"]);
        Assert.Equal("new", (string?)baselineCases["receive_message"]["result"]?["Messages"]?[0]?["MessageAttributes"]?["kind"]?["StringValue"]);
        Assert.Equal("client.exceptions.QueueDoesNotExist", (string?)baselineCases["missing_queue_is_modeled"]["result"]?["caught_as"]);
        Assert.Equal(1, (int?)baselineCases["throttled_is_retried"]["error"]?["response"]?["ResponseMetadata"]?["RetryAttempts"]);
        Assert.Equal("client.exceptions.NotFoundException", (string?)baselineCases["missing_topic_is_modeled"]["result"]?["caught_as"]);
        Assert.Equal("AccessDenied", (string?)baselineCases["publish_batch_outside_the_grants"]["error"]?["response"]?["Error"]?["Code"]);

        DifferentialTests.AssertSameRecords(baselineCases, nexus, output, "the stand-in's SQS or SNS client differs from real boto3");
    }

    /// <summary>
    /// SQS and SNS as far as the test asks them, answering XML as they do. What it received (the form's fields) is kept
    /// until the queue "received" hands it back as its URL, so each run reads its own requests.
    /// </summary>
    private sealed class ScriptedMessaging
    {
        private const string SqsNamespace = "http://queue.amazonaws.com/doc/2012-11-05/";
        private const string SnsNamespace = "http://sns.amazonaws.com/doc/2010-03-31/";

        private readonly List<string> _received = [];

        public async Task ServeAsync(HttpListenerContext context)
        {
            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var form = HttpUtility.ParseQueryString(await reader.ReadToEndAsync());
            var action = form["Action"] ?? "";
            var response = context.Response;
            response.Headers["x-amzn-RequestId"] = "header-request-id";
            if (action == "GetQueueUrl" && form["QueueName"] == "received")
            {
                await ProxyDifferential.AnswerXmlAsync(response, 200, ProxyDifferential.QueryResult("GetQueueUrl", SqsNamespace, $"<QueueUrl>{SecurityElement.Escape(string.Join(" | ", _received))}</QueueUrl>"));
                _received.Clear();
                return;
            }

            _received.Add(string.Join("&", form.AllKeys.Order(StringComparer.Ordinal).Select(k => $"{k}={form[k]}")) + " " + context.Request.ContentType);
            var (status, xml) = (action, form["QueueName"], form["TopicArn"]) switch
            {
                ("SendMessage", _, _) => (200, ProxyDifferential.QueryResult(action, SqsNamespace,
                    "<MD5OfMessageBody>5d41402abc4b2a76b9719d911017c592</MD5OfMessageBody><MD5OfMessageAttributes>3ba9ed28c4b0b32c3fb5e0dfa4d44d4b</MD5OfMessageAttributes><MessageId>m-1</MessageId>")),
                ("SendMessageBatch", _, _) => (200, ProxyDifferential.QueryResult(action, SqsNamespace,
                    "<SendMessageBatchResultEntry><Id>a</Id><MessageId>m-2</MessageId><MD5OfMessageBody>8b04d5e3775d298e78455efc5ca404d5</MD5OfMessageBody></SendMessageBatchResultEntry>"
                    + "<BatchResultErrorEntry><Id>b</Id><SenderFault>true</SenderFault><Code>InvalidParameterValue</Code><Message>Value 1000 for parameter DelaySeconds is invalid.</Message></BatchResultErrorEntry>")),
                ("ReceiveMessage", _, _) when form["QueueUrl"]!.EndsWith("-empty", StringComparison.Ordinal) => (200, ProxyDifferential.QueryResult(action, SqsNamespace, "")),
                ("ReceiveMessage", _, _) => (200, ProxyDifferential.QueryResult(action, SqsNamespace,
                    "<Message><MessageId>m-1</MessageId><ReceiptHandle>handle-1</ReceiptHandle><MD5OfBody>5d41402abc4b2a76b9719d911017c592</MD5OfBody><Body>order 42</Body>"
                    + "<Attribute><Name>SentTimestamp</Name><Value>1700000000123</Value></Attribute><Attribute><Name>ApproximateReceiveCount</Name><Value>1</Value></Attribute>"
                    + "<MD5OfMessageAttributes>3ba9ed28c4b0b32c3fb5e0dfa4d44d4b</MD5OfMessageAttributes>"
                    + "<MessageAttribute><Name>kind</Name><Value><StringValue>new</StringValue><DataType>String</DataType></Value></MessageAttribute>"
                    + "<MessageAttribute><Name>blob</Name><Value><BinaryValue>AAE=</BinaryValue><DataType>Binary</DataType></Value></MessageAttribute></Message>"
                    + "<Message><MessageId>m-2</MessageId><ReceiptHandle>handle-2</ReceiptHandle><MD5OfBody>x</MD5OfBody><Body></Body></Message>")),
                ("DeleteMessage", _, _) => (200, ProxyDifferential.QueryResponse(action, SqsNamespace, "")),
                ("ChangeMessageVisibility", _, _) => (200, ProxyDifferential.QueryResponse(action, SqsNamespace, "")),
                ("ChangeMessageVisibilityBatch", _, _) => (200, ProxyDifferential.QueryResult(action, SqsNamespace,
                    "<ChangeMessageVisibilityBatchResultEntry><Id>a</Id></ChangeMessageVisibilityBatchResultEntry>"
                    + "<BatchResultErrorEntry><Id>b</Id><SenderFault>true</SenderFault><Code>ReceiptHandleIsInvalid</Code><Message>The receipt handle is not valid.</Message></BatchResultErrorEntry>")),
                ("GetQueueAttributes", _, _) => (200, ProxyDifferential.QueryResult(action, SqsNamespace,
                    "<Attribute><Name>ApproximateNumberOfMessages</Name><Value>7</Value></Attribute><Attribute><Name>VisibilityTimeout</Name><Value>30</Value></Attribute>")),
                ("DeleteMessageBatch", _, _) => (200, ProxyDifferential.QueryResult(action, SqsNamespace, "<DeleteMessageBatchResultEntry><Id>x</Id></DeleteMessageBatchResultEntry>")),
                ("GetQueueUrl", "orders", _) => (200, ProxyDifferential.QueryResult(action, SqsNamespace, "<QueueUrl>https://sqs.us-east-1.amazonaws.com/000000000000/orders</QueueUrl>")),
                ("GetQueueUrl", "throttled", _) => (403, ProxyDifferential.QueryError(SqsNamespace, "RequestThrottled", "Request is throttled.")),
                ("GetQueueUrl", _, _) => (400, ProxyDifferential.QueryError(SqsNamespace, "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist for this wsdl version.")),
                ("Publish", _, var topic) when topic!.EndsWith("-missing", StringComparison.Ordinal) => (404, ProxyDifferential.QueryError(SqsNamespace, "NotFound", "Topic does not exist")),
                ("Publish", _, _) => (200, ProxyDifferential.QueryResult(action, SnsNamespace, "<MessageId>p-1</MessageId>")),
                _ => (400, ProxyDifferential.QueryError(SqsNamespace, "InvalidAction", $"The action {action} is not valid for this endpoint.")),
            };
            await ProxyDifferential.AnswerXmlAsync(response, status, xml);
        }
    }
}
