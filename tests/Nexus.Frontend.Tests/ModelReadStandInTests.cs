// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net;
using System.Security;
using System.Text;
using System.Text.Json.Nodes;
using System.Web;
using Nexus.Functions;
using Nexus.Testing;
using Xunit.Abstractions;

namespace Nexus.Frontend.Tests;

/// <summary>
/// The stand-in's model-read clients (services without an own client, served from their botocore models) against real
/// boto3: difftests/modelreadtest.py's Rekognition and Cognito user-pool calls (JSON protocol), X-Ray's (REST-JSON),
/// ElastiCache's and IAM's (query), EC2's (its own protocol, and its boto3 resource) and CloudFront's and Route 53's (REST-XML) give the same records with real boto3 through the node's signing proxy (baseline) and with
/// the stand-in over the channel and the backend (nexus), against one scripted endpoint for the four services, which
/// receives the same requests from both; nexus mode loads no real botocore for them.
/// </summary>
public sealed class ModelReadStandInTests(ITestOutputHelper output)
{
    private const string ElastiCacheNamespace = "http://elasticache.amazonaws.com/doc/2015-02-02/";
    private const string AutoScalingNamespace = "http://autoscaling.amazonaws.com/doc/2011-01-01/";
    private const string CloudFormationNamespace = "http://cloudformation.amazonaws.com/doc/2010-05-15/";

    // A JSON template whose keys are not in sorted order (botocore keeps the document's order), and a YAML one.
    private const string JsonTemplate = """{"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}, "AWSTemplateFormatVersion": "2010-09-09"}""";
    private const string YamlTemplate = "Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n";

    // A console's output as EC2 answers it, base64: text with a UTF-8 é, then a byte that is not UTF-8.
    private static readonly string s_consoleOutput = Convert.ToBase64String([.. "boot ok \u00e9\n"u8, 0xff]);

    private static FunctionManifest Manifest => new()
    {
        Name = "modelreadtest",
        Handler = "modelreadtest.main",
        Services =
        [
            new ServiceGrant("rekognition", ["DetectLabels", "DetectText"], "*"),
            new ServiceGrant("cognito-idp", ["AdminGetUser"], "*"),
            // A REST call's action is not read by the node: it needs every action of its service.
            new ServiceGrant("xray", ["*"], "*"),
            new ServiceGrant("elasticache", ["DescribeCacheClusters"], "*"),
            new ServiceGrant("ec2", ["DescribeInstances", "RunInstances", "GetConsoleOutput"], "*"),
            new ServiceGrant("autoscaling", ["CreateLaunchConfiguration"], "*"),
            new ServiceGrant("cloudformation", ["GetTemplate"], "*"),
            new ServiceGrant("cloudfront", ["*"], "*"),
            new ServiceGrant("route53", ["*"], "*"),
            new ServiceGrant("iam", ["GetRolePolicy"], "*"),
        ],
    };

    private static string Script => Path.Combine(PythonProcess.FrontendDir, "difftests", "modelreadtest.py");

    [Fact]
    public async Task CallsOfServicesWithoutAnOwnClientGiveTheSameResultsWithRealBoto3AndTheModelReadClients()
    {
        var service = new ScriptedServices();
        await using var endpoint = new StandInEndpoint(service.ServeAsync);
        var env = PythonProcess.BaseEnvironment();
        env["AWS_DEFAULT_REGION"] = "us-east-1";
        var options = ProxyDifferential.BackendOptions(
            ("rekognition", endpoint.Url), ("cognito-idp", endpoint.Url), ("xray", endpoint.Url), ("elasticache", endpoint.Url), ("ec2", endpoint.Url), ("cloudfront", endpoint.Url),
            ("route53", endpoint.Url), ("iam", endpoint.Url), ("autoscaling", endpoint.Url), ("cloudformation", endpoint.Url));
        var (baseline, nexus) = await ProxyDifferential.RunAsync(Script, Manifest, options, env, "MODELREADTEST_ENDPOINT", nexusEndpoint: null);

        var baselineCases = DifferentialTests.Cases(baseline);
        // Real answers of each kind, or equality proves nothing.
        Assert.Equal("Cat", (string?)baselineCases["detect_labels"]["result"]?["Labels"]?[0]?["Name"]);
        Assert.Equal("HELLO", (string?)baselineCases["detect_text_in_bytes"]["result"]?["TextDetections"]?[0]?["DetectedText"]);
        Assert.Equal("client.exceptions.InvalidS3ObjectException", (string?)baselineCases["missing_image_is_modeled"]["result"]?["caught_as"]);
        Assert.Contains("Unknown parameter in Image.S3Object: \"Tag\"", (string?)baselineCases["image_checked_before_sending"]["error"]?["message"], StringComparison.Ordinal);
        Assert.Equal("CONFIRMED", (string?)baselineCases["admin_get_user"]["result"]?["UserStatus"]);
        Assert.Equal("client.exceptions.UserNotFoundException", (string?)baselineCases["unknown_user_is_modeled"]["result"]?["caught_as"]);
        Assert.Equal(1, (int?)baselineCases["throttled_user_pool_is_retried"]["error"]?["response"]?["ResponseMetadata"]?["RetryAttempts"]);
        Assert.Equal("bad", (string?)baselineCases["put_trace_segments"]["result"]?["UnprocessedTraceSegments"]?[0]?["Id"]);
        Assert.Equal(1, (int?)baselineCases["trace_summaries_in_a_window"]["result"]?["TracesProcessedCount"]);
        Assert.Equal(6379, (int?)baselineCases["describe_cache_clusters"]["result"]?["CacheClusters"]?[0]?["CacheNodes"]?[0]?["Endpoint"]?["Port"]);
        Assert.Equal("client.exceptions.CacheClusterNotFoundFault", (string?)baselineCases["missing_cluster_is_modeled"]["result"]?["caught_as"]);
        Assert.Equal("running", (string?)baselineCases["describe_instances"]["result"]?["Reservations"]?[0]?["Instances"]?[0]?["State"]?["Name"]);
        Assert.Equal("InvalidInstanceID.NotFound", (string?)baselineCases["missing_instance_is_an_error"]["error"]?["response"]?["Error"]?["Code"]);
        Assert.Equal("InProgress", (string?)baselineCases["create_invalidation"]["result"]?["Invalidation"]?["Status"]);
        Assert.EndsWith("/invalidation/I2J0I21PCUYOIK", (string?)baselineCases["create_invalidation"]["result"]?["Location"], StringComparison.Ordinal);
        Assert.Equal("client.exceptions.NoSuchDistribution", (string?)baselineCases["missing_distribution_is_modeled"]["result"]?["caught_as"]);
        // boto3.resource("ec2") (made from resources-1.json in nexus mode): Instance resources from a collection's pages,
        // their attributes from the answer; an instance's attributes loaded by DescribeInstances.
        var collected = baselineCases["instances_of_a_resource_collection"]["result"]!.AsArray();
        Assert.Equal("ec2.instancesCollectionManager(ec2.ServiceResource(), ec2.Instance)", (string?)collected[0]);
        Assert.Equal("ec2.Instance(id='i-0abc')", (string?)collected[1]![0]![0]);
        Assert.Equal("t3.micro", (string?)collected[1]![0]![1]);
        Assert.Equal("running", (string?)collected[1]![0]![2]!["Name"]);
        Assert.Equal("ec2.Instance", (string?)baselineCases["resource_loads_its_attributes"]["result"]?[0]);
        Assert.False((bool?)baselineCases["resource_loads_its_attributes"]["result"]?[4]);
        // botocore's handlers of EC2, Auto Scaling and CloudFormation: user data sent base64-encoded (text as UTF-8,
        // anything else a TypeError before a request), console output decoded, a JSON template body made a dict in its
        // document's order and a YAML one left as text.
        Assert.Equal("i-0new", (string?)baselineCases["run_instances_with_user_data"]["result"]?["Instances"]?[0]?["InstanceId"]);
        Assert.Equal("builtins.TypeError", (string?)baselineCases["user_data_that_is_not_text_or_bytes"]["error"]?["exception"]);
        Assert.Equal("boot ok \u00e9\n\ufffd", (string?)baselineCases["console_output_is_decoded"]["result"]?["Output"]);
        Assert.Equal("not base64!", (string?)baselineCases["console_output_that_is_not_base64_stays"]["result"]?["Output"]);
        var template = baselineCases["json_template_is_a_dict"]["result"]!.AsArray();
        Assert.Equal("OrderedDict", (string?)template[0]);
        Assert.Equal(["Resources", "AWSTemplateFormatVersion"], template[1]!.AsArray().Select(k => (string?)k));
        Assert.Equal(YamlTemplate, (string?)baselineCases["yaml_template_stays_text"]["result"]?["TemplateBody"]);
        // IAM's policy document decoded into a dict; Route 53's id sent as its last part (the path above answered it).
        Assert.Equal("dynamodb:GetItem", (string?)baselineCases["role_policy_is_a_document"]["result"]?["PolicyDocument"]?["Statement"]?[0]?["Action"]);
        Assert.Equal("example.com.", (string?)baselineCases["hosted_zone_by_its_path"]["result"]?["HostedZone"]?["Name"]);
        Assert.Equal(["Rekognition", "CognitoIdentityProvider", "XRay", "ElastiCache", "EC2", "CloudFront"], baselineCases["client_class_names"]["result"]!.AsArray().Select(n => (string?)n));
        var received = baselineCases["endpoint_requests"]["result"]!.AsArray();
        Assert.True(received.Count >= 10, "the endpoint received the suite's requests");
        // User data base64-encoded before it was sent, by both.
        Assert.Contains(received, r => r!["body"]!.GetValue<string>().Contains("&UserData=" + Uri.EscapeDataString(Convert.ToBase64String("#!/bin/sh\necho héllo > /tmp/boot\n"u8.ToArray())), StringComparison.Ordinal));
        Assert.Contains(received, r => r!["body"]!.GetValue<string>().Contains("&UserData=" + Uri.EscapeDataString(Convert.ToBase64String([0x00, 0xff, .. "boot"u8])), StringComparison.Ordinal));
        // CloudFront's XML document, its namespace on the root.
        Assert.Contains(received, r => ((string?)r!["body"])?.StartsWith("<InvalidationBatch xmlns=\"http://cloudfront.amazonaws.com/doc/2020-05-31/\"><Paths><Quantity>2</Quantity><Items><Path>/index.html</Path>", StringComparison.Ordinal) == true);
        // EC2's form: members by their EC2 names, list elements numbered straight after them.
        Assert.Contains(received, r => r!["body"]!.GetValue<string>().Contains("InstanceId.1=i-0abc&Filter.1.Name=tag%3Aapp&Filter.1.Value.1=web&Filter.1.Value.2=api", StringComparison.Ordinal));
        // Timestamps as botocore writes them in a REST-JSON body: epoch seconds, the fraction dropped.
        Assert.Contains(received, r => r!["body"]!.GetValue<string>().Contains("\"StartTime\": 1796558400", StringComparison.Ordinal));

        DifferentialTests.AssertSameRecords(baselineCases, nexus, output, "a model-read client differs from real boto3");
    }

    /// <summary>
    /// Rekognition, Cognito user pools, X-Ray and ElastiCache as far as the test asks them. What it received (target or
    /// path, content type, body as sent) is kept until a DetectLabels of the bucket "received" hands it back as its
    /// error message, so each run reads its own requests.
    /// </summary>
    private sealed class ScriptedServices
    {
        private readonly JsonArray _received = [];

        public async Task ServeAsync(HttpListenerContext context)
        {
            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var text = await reader.ReadToEndAsync();
            var response = context.Response;
            response.Headers["x-amzn-RequestId"] = "header-request-id";
            var target = context.Request.Headers["X-Amz-Target"];
            var path = context.Request.Url!.AbsolutePath;
            if (target is null && path == "/")
            {
                _received.Add(new JsonObject { ["path"] = path, ["content_type"] = context.Request.ContentType, ["body"] = text });
                var form = HttpUtility.ParseQueryString(text);
                var (status, xml) = form["Action"] switch
                {
                    "DescribeInstances" => Ec2(form),
                    "RunInstances" => (200, Ec2Response("RunInstances", "<reservationId>r-2</reservationId><ownerId>123456789012</ownerId><instancesSet><item>"
                        + "<instanceId>i-0new</instanceId><imageId>ami-0abc</imageId><instanceState><code>0</code><name>pending</name></instanceState></item></instancesSet>")),
                    "GetConsoleOutput" => (200, Ec2Response("GetConsoleOutput", $"<instanceId>{form["InstanceId"]}</instanceId><timestamp>2026-12-06T12:00:00.000Z</timestamp>"
                        + $"<output>{(form["InstanceId"] == "i-raw" ? "not base64!" : s_consoleOutput)}</output>")),
                    "CreateLaunchConfiguration" => (200, ProxyDifferential.QueryResponse("CreateLaunchConfiguration", AutoScalingNamespace, "")),
                    "GetTemplate" => (200, ProxyDifferential.QueryResult("GetTemplate", CloudFormationNamespace,
                        $"<TemplateBody>{SecurityElement.Escape(form["StackName"] == "json-stack" ? JsonTemplate : YamlTemplate)}</TemplateBody>")),
                    "GetRolePolicy" => Iam(form),
                    _ => ElastiCache(form),
                };
                await ProxyDifferential.AnswerXmlAsync(response, status, xml);
                return;
            }

            if (path.StartsWith("/2013-04-01/", StringComparison.Ordinal))
            {
                _received.Add(new JsonObject { ["method"] = context.Request.HttpMethod, ["path"] = path, ["body"] = text });
                await ProxyDifferential.AnswerXmlAsync(response, 200, path == "/2013-04-01/hostedzone/Z1EXAMPLE"
                    ? "<?xml version=\"1.0\"?><GetHostedZoneResponse xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><HostedZone>"
                        + "<Id>/hostedzone/Z1EXAMPLE</Id><Name>example.com.</Name><CallerReference>zone-1</CallerReference>"
                        + "<Config><PrivateZone>false</PrivateZone></Config><ResourceRecordSetCount>4</ResourceRecordSetCount></HostedZone>"
                        + "<DelegationSet><NameServers><NameServer>ns-1.awsdns-01.org</NameServer></NameServers></DelegationSet></GetHostedZoneResponse>"
                    : "<?xml version=\"1.0\"?><ErrorResponse><Error><Type>Sender</Type><Code>NoSuchHostedZone</Code>"
                        + $"<Message>No hosted zone found at {path}</Message></Error><RequestId>route53-error</RequestId></ErrorResponse>");
                return;
            }

            if (path.StartsWith("/2020-05-31/", StringComparison.Ordinal))
            {
                _received.Add(new JsonObject { ["method"] = context.Request.HttpMethod, ["path"] = path, ["body"] = text });
                var (cloudFrontStatus, cloudFrontXml) = CloudFront(context.Request.HttpMethod, path);
                if (cloudFrontStatus == 201)
                {
                    response.Headers["Location"] = "https://cloudfront.amazonaws.com/2020-05-31/distribution/E2QWRUHEXAMPLE/invalidation/I2J0I21PCUYOIK";
                }

                await ProxyDifferential.AnswerXmlAsync(response, cloudFrontStatus, cloudFrontXml);
                return;
            }

            var body = JsonNode.Parse(text)!;
            if ((string?)body["Image"]?["S3Object"]?["Bucket"] == "received")
            {
                var record = _received.ToJsonString();
                _received.Clear();
                await ProxyDifferential.AnswerJsonAsync(response, 400, new JsonObject { ["__type"] = "InvalidParameterException", ["Message"] = record });
                return;
            }

            _received.Add(new JsonObject { ["target"] = target, ["path"] = path, ["content_type"] = context.Request.ContentType, ["body"] = text });
            var (jsonStatus, answer) = target is null ? XRay(path) : Json(target, body);
            await ProxyDifferential.AnswerJsonAsync(response, jsonStatus, answer);
        }

        private static (int Status, JsonObject Answer) Json(string target, JsonNode body) => (target, (string?)body["Image"]?["S3Object"]?["Bucket"], (string?)body["Username"]) switch
        {
            ("RekognitionService.DetectLabels", "missing", _) => (400, new JsonObject { ["__type"] = "InvalidS3ObjectException", ["Message"] = "Unable to get object metadata from S3." }),
            ("RekognitionService.DetectLabels", _, _) => (200, JsonNode.Parse(
                """{"Labels": [{"Name": "Cat", "Confidence": 98.25, "Instances": [{"BoundingBox": {"Width": 0.5, "Height": 0.25, "Left": 0.1, "Top": 0.2}, "Confidence": 97.5}], "Parents": [{"Name": "Animal"}]}], "LabelModelVersion": "3.0"}""")!.AsObject()),
            ("RekognitionService.DetectText", _, _) => (200, JsonNode.Parse(
                """{"TextDetections": [{"DetectedText": "HELLO", "Type": "LINE", "Id": 0, "Confidence": 99.5, "Geometry": {"Polygon": [{"X": 0.1, "Y": 0.2}]}}], "TextModelVersion": "3.0"}""")!.AsObject()),
            ("AWSCognitoIdentityProviderService.AdminGetUser", _, "nobody") => (400, new JsonObject { ["__type"] = "UserNotFoundException", ["message"] = "User does not exist." }),
            ("AWSCognitoIdentityProviderService.AdminGetUser", _, "busy") => (429, new JsonObject { ["__type"] = "TooManyRequestsException", ["message"] = "Rate exceeded" }),
            ("AWSCognitoIdentityProviderService.AdminGetUser", _, _) => (200, JsonNode.Parse(
                """{"Username": "ada", "UserAttributes": [{"Name": "email", "Value": "ada@example.com"}], "UserCreateDate": 1796558400.123, "UserLastModifiedDate": 1796558460, "Enabled": true, "UserStatus": "CONFIRMED"}""")!.AsObject()),
            _ => (400, new JsonObject { ["__type"] = "UnknownOperationException" }),
        };

        private static (int Status, JsonObject Answer) XRay(string path) => path switch
        {
            "/TraceSegments" => (200, JsonNode.Parse("""{"UnprocessedTraceSegments": [{"Id": "bad", "ErrorCode": "InvalidId", "Message": "bad id"}]}""")!.AsObject()),
            "/TraceSummaries" => (200, JsonNode.Parse(
                """{"TraceSummaries": [{"Id": "1-581cf771-a006649127e371903a2de979", "Duration": 0.25, "HasError": false, "StartTime": 1796558400.5}], "ApproximateTime": 1796562000, "TracesProcessedCount": 1}""")!.AsObject()),
            _ => (404, new JsonObject { ["message"] = $"no route {path}" }),
        };

        private static (int Status, string Xml) CloudFront(string method, string path) => (method, path) switch
        {
            ("POST", "/2020-05-31/distribution/E2QWRUHEXAMPLE/invalidation") => (201,
                "<?xml version=\"1.0\"?><Invalidation xmlns=\"http://cloudfront.amazonaws.com/doc/2020-05-31/\"><Id>I2J0I21PCUYOIK</Id>"
                + "<Status>InProgress</Status><CreateTime>2026-12-06T12:00:00.000Z</CreateTime><InvalidationBatch><Paths><Quantity>2</Quantity>"
                + "<Items><Path>/index.html</Path><Path>/assets/*</Path></Items></Paths><CallerReference>deploy-42</CallerReference>"
                + "</InvalidationBatch></Invalidation>"),
            _ => (404, "<?xml version=\"1.0\"?><ErrorResponse xmlns=\"http://cloudfront.amazonaws.com/doc/2020-05-31/\"><Error><Type>Sender</Type>"
                + "<Code>NoSuchDistribution</Code><Message>The specified distribution does not exist.</Message></Error>"
                + "<RequestId>cloudfront-error-request</RequestId></ErrorResponse>"),
        };

        private static (int Status, string Xml) Iam(System.Collections.Specialized.NameValueCollection form) => (200, ProxyDifferential.QueryResult("GetRolePolicy", "https://iam.amazonaws.com/doc/2010-05-08/",
            $"<RoleName>{form["RoleName"]}</RoleName><PolicyName>{form["PolicyName"]}</PolicyName><PolicyDocument>"
            + "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22dynamodb%3AGetItem%22%2C%22Resource%22%3A%22*%22%7D%5D%7D"
            + "</PolicyDocument>"));

        private static string Ec2Response(string action, string inner) =>
            $"<?xml version=\"1.0\"?><{action}Response xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>ec2-request</requestId>{inner}</{action}Response>";

        private static (int Status, string Xml) Ec2(System.Collections.Specialized.NameValueCollection form) => form["InstanceId.1"] switch
        {
            "i-gone" => (400, "<?xml version=\"1.0\"?><Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code>"
                + "<Message>The instance ID 'i-gone' does not exist</Message></Error></Errors><RequestID>ec2-error-request</RequestID></Response>"),
            _ => (200, "<?xml version=\"1.0\"?><DescribeInstancesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"
                + "<requestId>ec2-request</requestId><reservationSet><item><reservationId>r-1</reservationId><ownerId>123456789012</ownerId>"
                + "<instancesSet><item><instanceId>i-0abc</instanceId><instanceType>t3.micro</instanceType>"
                + "<launchTime>2026-12-06T12:00:00.000Z</launchTime><instanceState><code>16</code><name>running</name></instanceState>"
                + "<tagSet><item><key>app</key><value>web</value></item></tagSet><ebsOptimized>false</ebsOptimized></item></instancesSet>"
                + "</item></reservationSet></DescribeInstancesResponse>"),
        };

        private static (int Status, string Xml) ElastiCache(System.Collections.Specialized.NameValueCollection form) => (form["Action"], form["CacheClusterId"]) switch
        {
            ("DescribeCacheClusters", "gone") => (404, ProxyDifferential.QueryError(ElastiCacheNamespace, "CacheClusterNotFound", "CacheCluster not found: gone")),
            ("DescribeCacheClusters", _) => (200, ProxyDifferential.QueryResult("DescribeCacheClusters", ElastiCacheNamespace,
                "<CacheClusters><CacheCluster><CacheClusterId>sessions</CacheClusterId><CacheNodeType>cache.t3.micro</CacheNodeType>"
                + "<Engine>redis</Engine><CacheClusterStatus>available</CacheClusterStatus><NumCacheNodes>1</NumCacheNodes>"
                + "<CacheClusterCreateTime>2026-12-06T12:00:00.123Z</CacheClusterCreateTime><CacheNodes><CacheNode><CacheNodeId>0001</CacheNodeId>"
                + "<Endpoint><Address>sessions.cache.amazonaws.com</Address><Port>6379</Port></Endpoint></CacheNode></CacheNodes>"
                + "<TransitEncryptionEnabled>true</TransitEncryptionEnabled></CacheCluster></CacheClusters>")),
            var (action, _) => (400, ProxyDifferential.QueryError(ElastiCacheNamespace, "InvalidAction", $"The action {action} is not valid for this endpoint.")),
        };
    }
}
