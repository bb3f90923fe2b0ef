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
/// The stand-in's Kinesis, Firehose and Step Functions clients against real boto3: difftests/streamstest.py's calls give
/// the same records with real boto3 through the node's signing proxy (baseline) and with the stand-in over the channel
/// (nexus), against one scripted endpoint for the three services, which receives the same requests from both; nexus
/// mode loads no real botocore for them.
/// </summary>
public sealed class StreamsStandInTests(ITestOutputHelper output)
{
    /// <summary>Every Kinesis and Firehose action; of Step Functions, those the suite makes but SendTaskFailure (refused in both modes).</summary>
    private static FunctionManifest Manifest => new()
    {
        Name = "streamstest",
        Handler = "streamstest.main",
        Services =
        [
            new ServiceGrant("kinesis", ["*"], "*"),
            new ServiceGrant("firehose", ["*"], "*"),
            new ServiceGrant("stepfunctions", ["StartExecution", "SendTaskSuccess", "DescribeExecution"], "*"),
        ],
    };

    private static string Script => Path.Combine(PythonProcess.FrontendDir, "difftests", "streamstest.py");

    [Fact]
    public async Task RecordAndWorkflowCallsGiveTheSameResultsWithRealBoto3AndTheStandIn()
    {
        var service = new ScriptedStreams();
        await using var endpoint = new StandInEndpoint(service.ServeAsync);
        var env = PythonProcess.BaseEnvironment();
        env["AWS_DEFAULT_REGION"] = "us-east-1";
        var options = ProxyDifferential.BackendOptions(("kinesis", endpoint.Url), ("firehose", endpoint.Url), ("stepfunctions", endpoint.Url));
        var (baseline, nexus) = await ProxyDifferential.RunAsync(Script, Manifest, options, env, "STREAMSTEST_ENDPOINT", nexusEndpoint: null);

        var baselineCases = DifferentialTests.Cases(baseline);
        // Real answers of each kind, or equality proves nothing.
        Assert.Equal("shardId-000000000000", (string?)baselineCases["kinesis_put_record"]["result"]?["ShardId"]);
        Assert.Equal(1, (int?)baselineCases["kinesis_put_records_partly_failed"]["result"]?["FailedRecordCount"]);
        Assert.Equal("client.exceptions.ResourceNotFoundException", (string?)baselineCases["kinesis_missing_stream_is_modeled"]["result"]?["caught_as"]);
        Assert.Equal(1, (int?)baselineCases["kinesis_throughput_exceeded_is_retried"]["error"]?["response"]?["ResponseMetadata"]?["RetryAttempts"]);
        Assert.Equal("aware", (string?)baselineCases["start_execution"]["result"]?["startDate"]?["<datetime>"]);
        Assert.Equal("SUCCEEDED", (string?)baselineCases["describe_execution"]["result"]?["status"]);
        Assert.Equal("client.exceptions.ExecutionAlreadyExists", (string?)baselineCases["start_execution_already_exists"]["result"]?["caught_as"]);
        Assert.Equal("AccessDenied", (string?)baselineCases["send_task_failure_outside_the_grants"]["error"]?["response"]?["Error"]?["Code"]);

        DifferentialTests.AssertSameRecords(baselineCases, nexus, output, "the stand-in's Kinesis, Firehose or Step Functions client differs from real boto3");
    }

    /// <summary>
    /// Kinesis, Firehose and Step Functions as far as the test asks them. What it received is kept until the execution
    /// named "received" hands it back as its ARN, so each run reads its own requests.
    /// </summary>
    private sealed class ScriptedStreams
    {
        private readonly JsonArray _received = [];

        public async Task ServeAsync(HttpListenerContext context)
        {
            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var body = JsonNode.Parse(await reader.ReadToEndAsync())!.AsObject();
            var target = context.Request.Headers["X-Amz-Target"] ?? "";
            var response = context.Response;
            response.Headers["x-amzn-RequestId"] = Guid.NewGuid().ToString();
            if ((string?)body["name"] == "received")
            {
                await ProxyDifferential.AnswerJsonAsync(response, 200, new JsonObject { ["executionArn"] = _received.ToJsonString(), ["startDate"] = 1700000000.5 });
                _received.Clear();
                return;
            }

            _received.Add(new JsonObject { ["target"] = target, ["content_type"] = context.Request.ContentType, ["body"] = body.DeepClone() });
            var (status, answer) = target switch
            {
                "Kinesis_20131202.PutRecord" => (string?)body["StreamName"] switch
                {
                    "orders" => (200, new JsonObject { ["ShardId"] = "shardId-000000000000", ["SequenceNumber"] = "4959", ["EncryptionType"] = "NONE" }),
                    "hot" => (400, new JsonObject { ["__type"] = "ProvisionedThroughputExceededException", ["message"] = "Rate exceeded for shard" }),
                    _ => (400, new JsonObject { ["__type"] = "ResourceNotFoundException", ["message"] = "Stream missing under account 000000000000 not found." }),
                },
                "Kinesis_20131202.PutRecords" => (200, new JsonObject
                {
                    ["FailedRecordCount"] = 1,
                    ["Records"] = new JsonArray(
                        new JsonObject { ["ShardId"] = "shardId-000000000000", ["SequenceNumber"] = "4960" },
                        new JsonObject { ["ErrorCode"] = "ProvisionedThroughputExceededException", ["ErrorMessage"] = "Rate exceeded" }),
                    ["EncryptionType"] = "NONE",
                }),
                "Firehose_20150804.PutRecord" => (200, new JsonObject { ["RecordId"] = "r-1", ["Encrypted"] = false }),
                "Firehose_20150804.PutRecordBatch" => (200, new JsonObject
                {
                    ["FailedPutCount"] = 0,
                    ["Encrypted"] = false,
                    ["RequestResponses"] = new JsonArray(new JsonObject { ["RecordId"] = "r-2" }, new JsonObject { ["RecordId"] = "r-3" }),
                }),
                "AWSStepFunctions.StartExecution" when (string?)body["name"] == "taken" =>
                    (400, new JsonObject { ["__type"] = "ExecutionAlreadyExists", ["message"] = "Execution Already Exists: 'taken'" }),
                "AWSStepFunctions.StartExecution" => (200, new JsonObject { ["executionArn"] = "arn:aws:states:us-east-1:000000000000:execution:orders:run-1", ["startDate"] = 1700000000.5 }),
                "AWSStepFunctions.DescribeExecution" => (200, new JsonObject
                {
                    ["executionArn"] = body["executionArn"]?.DeepClone(),
                    ["stateMachineArn"] = "arn:aws:states:us-east-1:000000000000:stateMachine:orders",
                    ["name"] = "run-1",
                    ["status"] = "SUCCEEDED",
                    ["startDate"] = 1700000000.5,
                    ["stopDate"] = 1700000002.25,
                    ["input"] = "{\"order\": 42}",
                    ["output"] = "{\"done\": true}",
                    ["outputDetails"] = new JsonObject { ["included"] = true },
                }),
                "AWSStepFunctions.SendTaskSuccess" => (200, new JsonObject()),
                _ => (400, new JsonObject { ["__type"] = "UnknownOperationException" }),
            };
            await ProxyDifferential.AnswerJsonAsync(response, status, answer);
        }
    }
}
