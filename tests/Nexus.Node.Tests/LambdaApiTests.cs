// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Nexus.Node.Transports;

namespace Nexus.Node.Tests;

/// <summary>
/// The Lambda API as its SDKs call it: an Invoke's ClientContext and trace header reach the invocation (a malformed
/// client context is refused before it does), the function reads Lambda answers for a function with only $LATEST,
/// ListFunctions pages, the deprecated InvokeAsync queues an event, and the rest of the Lambda API gets an error that
/// says it is not served (not an empty 404).
/// </summary>
public sealed class LambdaApiTests : IAsyncLifetime
{
    private RecordingApi _api = null!;

    private HttpClient Http => _api.Http;

    private RecordingNode Recorder => _api.Node;

    public async Task InitializeAsync() => _api = await RecordingApi.StartAsync("alpha", "beta", "gamma");

    public async Task DisposeAsync() => await _api.DisposeAsync();

    [Fact]
    public async Task A_client_context_reaches_the_invocation_as_compact_ascii_json()
    {
        var sent = "{ \"custom\": {\"tenant\": \"t-\u00e9\"},\n  \"env\": {\"locale\": \"en\"} }";
        using var response = await InvokeAsync("alpha", ("X-Amz-Client-Context", Base64(sent)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        // One line of ASCII (the Runtime API hands it on in a header), the same JSON.
        var handed = Recorder.Requests.Single().ClientContext!;
        Assert.Equal("""{"custom":{"tenant":"t-\u00E9"},"env":{"locale":"en"}}""", handed);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(sent), JsonNode.Parse(handed)));

        // A name given twice is not refused (the runtime's json.loads keeps the last, as it would on Lambda).
        (await InvokeAsync("alpha", ("X-Amz-Client-Context", Base64("""{"custom":{"a":1}, "custom":{"a":2}}""")))).Dispose();
        Assert.Equal("""{"custom":{"a":1},"custom":{"a":2}}""", Recorder.Requests.Last().ClientContext);
    }

    [Theory]
    [InlineData("not base64!", "valid Base64-encoded JSON object")]
    [InlineData("WzEsMl0=", "valid Base64-encoded JSON object")] // [1,2]: JSON, but not an object
    [InlineData("eyJhIjox", "valid Base64-encoded JSON object")] // {"a":1 : truncated
    public async Task A_malformed_client_context_is_refused_before_any_invocation(string header, string message)
    {
        using var response = await InvokeAsync("alpha", ("X-Amz-Client-Context", header));
        await RecordingNode.AssertApiErrorAsync(response, 400, "InvalidRequestContentException", message);
        Assert.Empty(Recorder.Requests);
    }

    [Fact]
    public async Task A_client_context_past_Lambdas_limit_is_refused()
    {
        var sent = Base64($$$"""{"custom":{"x":"{{{new string('a', 2700)}}}"}}""");
        Assert.True(sent.Length > LambdaJson.MaxClientContextLength);
        using var response = await InvokeAsync("alpha", ("X-Amz-Client-Context", sent));
        await RecordingNode.AssertApiErrorAsync(response, 400, "InvalidRequestContentException", "at most 3583 characters");
        Assert.Empty(Recorder.Requests);
    }

    [Fact]
    public async Task A_well_formed_trace_header_is_passed_on_and_any_other_is_replaced_by_a_new_root()
    {
        const string trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
        (await InvokeAsync("alpha", ("X-Amzn-Trace-Id", trace))).Dispose();
        (await InvokeAsync("alpha", ("X-Amzn-Trace-Id", "Root=1-5759e988-short;Sampled=1"))).Dispose();
        (await InvokeAsync("alpha")).Dispose();
        var lineage = ";Lineage=" + AlphaHash + ":1";
        var traces = Recorder.Requests.Select(r => r.TraceId!).ToList();
        Assert.Equal(trace + lineage, traces[0]);
        Assert.All(traces.Skip(1), t => Assert.Matches("^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0" + lineage + "$", t));
    }

    /// <summary>With the count check removed once, the 17th run was queued and this failed.</summary>
    [Fact]
    public async Task A_chain_that_ran_a_function_16_times_is_refused_its_17th_run()
    {
        const string root = "Root=1-5759e988-bd862e3fe1be46a994272793";
        using (var sixteenth = await InvokeAsync("alpha", ("X-Amzn-Trace-Id", $"{root};Lineage=0badf00d:3%7C{AlphaHash}:15")))
        {
            Assert.Equal(HttpStatusCode.OK, sixteenth.StatusCode);
        }

        Assert.Equal($"{root};Lineage={AlphaHash}:16|0badf00d:3", Recorder.Requests.Single().TraceId);
        foreach (var type in new[] { "RequestResponse", "Event" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/2015-03-31/functions/alpha/invocations") { Content = new StringContent("{}") };
            request.Headers.Add("X-Amz-Invocation-Type", type);
            request.Headers.Add("X-Amzn-Trace-Id", $"{root};Lineage={AlphaHash}:16");
            using var refused = await Http.SendAsync(request);
            await RecordingNode.AssertApiErrorAsync(refused, 400, "RecursiveInvocationException", "has already run 16 times in this chain");
        }

        // Another function's count is its own.
        (await InvokeAsync("beta", ("X-Amzn-Trace-Id", $"{root};Lineage={AlphaHash}:16"))).Dispose();
        Assert.Equal(2, Recorder.Requests.Count);
        Assert.Empty(Recorder.Events);
    }

    [Theory]
    [InlineData("arn:aws:lambda:us-east-1:000000000000:function:beta")]
    [InlineData("000000000000:function:beta")]
    [InlineData("beta:$LATEST")]
    public async Task A_function_is_found_by_its_name_partial_arn_or_arn(string functionName)
    {
        using var response = await InvokeAsync(Uri.EscapeDataString(functionName));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var configuration = await Http.GetAsync($"/2015-03-31/functions/{Uri.EscapeDataString(functionName)}/configuration");
        Assert.Equal("beta", (string?)JsonNode.Parse(await configuration.Content.ReadAsStringAsync())?["FunctionName"]);
    }

    [Fact]
    public async Task Function_reads_answer_as_for_a_function_with_only_LATEST()
    {
        Assert.Equal("$LATEST", (string?)(await GetJsonAsync("/2015-03-31/functions/alpha/versions"))["Versions"]![0]!["Version"]);

        // What boto3's function_active_v2 and function_updated_v2 waiters read.
        var configuration = await GetJsonAsync("/2015-03-31/functions/alpha/configuration");
        Assert.Equal(("Active", "Successful"), ((string?)configuration["State"], (string?)configuration["LastUpdateStatus"]));
        Assert.Equal("""{"LogFormat":"Text","LogGroup":"/aws/lambda/alpha"}""", configuration["LoggingConfig"]!.ToJsonString());
        Recorder.Registry.Deploy(new MemoryStream(FunctionPackages.Zip(
            ("function.yaml", "name: structured\nhandler: handler.handler\nlogging:\n  format: JSON\n  systemLogLevel: WARN\n"), ("handler.py", "def handler(e, c):\n    return e\n"))));
        Assert.Equal(
            """{"LogFormat":"JSON","ApplicationLogLevel":"INFO","SystemLogLevel":"WARN","LogGroup":"/aws/lambda/structured"}""",
            (await GetJsonAsync("/2015-03-31/functions/structured/configuration"))["LoggingConfig"]!.ToJsonString());
        Assert.Equal("""{"Aliases":[]}""", (await GetJsonAsync("/2015-03-31/functions/alpha/aliases")).ToJsonString());
        Assert.Equal("{}", (await GetJsonAsync("/2019-09-30/functions/alpha/concurrency")).ToJsonString());
        Assert.Equal("""{"Tags":{}}""", (await GetJsonAsync("/2017-03-31/tags/" + Uri.EscapeDataString(LambdaJson.FunctionArn("alpha")))).ToJsonString());
        using (var policy = await Http.GetAsync("/2015-03-31/functions/alpha/policy"))
        {
            await RecordingNode.AssertApiErrorAsync(policy, 404, "ResourceNotFoundException", "The resource you requested does not exist.");
        }

        foreach (var path in new[] { "/2015-03-31/functions/nope/versions", "/2015-03-31/functions/nope/aliases", "/2015-03-31/functions/nope/policy", "/2019-09-30/functions/nope/concurrency", "/2017-03-31/tags/" + Uri.EscapeDataString(LambdaJson.FunctionArn("nope")) })
        {
            using var missing = await Http.GetAsync(path);
            await RecordingNode.AssertApiErrorAsync(missing, 404, "ResourceNotFoundException", "Function not found: " + LambdaJson.FunctionArn("nope"));
        }
    }

    /// <summary>
    /// GetFunction's Code.Location is a URL that downloads the function's code as a zip for 10 minutes with nothing but
    /// the URL (Lambda's is a presigned one); altered in any part, or past its expiry, it is 403 saying which; once the
    /// function runs another revision, 404. Before, it was the code's folder on the node's disk.
    /// </summary>
    [Fact]
    public async Task GetFunctions_code_location_downloads_the_code_as_a_zip_until_it_expires()
    {
        var location = (string)(await GetJsonAsync("/2015-03-31/functions/alpha"))["Code"]!["Location"]!;
        Assert.StartsWith(Http.BaseAddress!.GetLeftPart(UriPartial.Authority) + "/nexus/code/alpha/", location, StringComparison.Ordinal);
        using var anyone = new HttpClient();
        using (var download = await anyone.GetAsync(location))
        {
            Assert.Equal(HttpStatusCode.OK, download.StatusCode);
            Assert.Equal("application/zip", download.Content.Headers.ContentType?.MediaType);
            using var zip = new System.IO.Compression.ZipArchive(await download.Content.ReadAsStreamAsync());
            var entries = zip.Entries.ToDictionary(e => e.FullName, e => new StreamReader(e.Open()).ReadToEnd());
            Assert.Equal(["function.yaml", "handler.py"], entries.Keys.Order(StringComparer.Ordinal));
            Assert.Equal("def handler(e, c):\n    return e\n", entries["handler.py"]);
        }

        var signature = location[(location.IndexOf("&Signature=", StringComparison.Ordinal) + 11)..];
        var altered = new[]
        {
            location.Replace("/alpha/", "/beta/", StringComparison.Ordinal),
            location[..^1] + (location[^1] == '0' ? '1' : '0'),
            location.Replace("Expires=", "Expires=9", StringComparison.Ordinal),
            location[..location.IndexOf('?', StringComparison.Ordinal)] + "?Signature=" + signature,
        };
        foreach (var url in altered)
        {
            using var refused = await anyone.GetAsync(url);
            await RecordingNode.AssertApiErrorAsync(refused, 403, "AccessDeniedException", url.Contains("Expires", StringComparison.Ordinal) ? "signature does not match" : "needs its Expires and Signature");
        }

        Recorder.Clock.Now += TimeSpan.FromMinutes(10);
        using (var expired = await anyone.GetAsync(location))
        {
            await RecordingNode.AssertApiErrorAsync(expired, 403, "AccessDeniedException", "expired at");
        }

        Recorder.Clock.Now -= TimeSpan.FromMinutes(10);
        Recorder.Registry.Deploy(new MemoryStream(FunctionPackages.Zip(("function.yaml", "name: alpha\nhandler: handler.handler\n"), ("handler.py", "def handler(e, c):\n    return 2\n"))));
        using var redeployed = await anyone.GetAsync(location);
        await RecordingNode.AssertApiErrorAsync(redeployed, 404, "ResourceNotFoundException", "no longer runs revision");
    }

    /// <summary>
    /// What deployment tools read after GetFunction, answered as Lambda answers for a function with none of it set
    /// (Terraform's aws_lambda_function data source reads the code signing config: the 501 these got before failed it);
    /// the event invoke config is the manifest's eventRetries. With the routes removed, each was 501.
    /// </summary>
    [Fact]
    public async Task The_configuration_reads_tools_make_after_GetFunction_answer_as_for_a_function_with_none_set()
    {
        Assert.Equal("""{"CodeSigningConfigArn":"","FunctionName":"alpha"}""", (await GetJsonAsync("/2020-06-30/functions/alpha/code-signing-config")).ToJsonString());
        Assert.Equal("""{"FunctionUrlConfigs":[]}""", (await GetJsonAsync("/2021-10-31/functions/alpha/urls")).ToJsonString());
        Assert.Equal("""{"ProvisionedConcurrencyConfigs":[]}""", (await GetJsonAsync("/2019-09-30/functions/alpha/provisioned-concurrency?List=ALL")).ToJsonString());
        Assert.Equal($$"""{"UpdateRuntimeOn":"Auto","FunctionArn":"{{LambdaJson.FunctionArn("alpha")}}"}""", (await GetJsonAsync("/2021-07-20/functions/alpha/runtime-management-config")).ToJsonString());
        Assert.Equal("""{"RecursiveLoop":"Terminate"}""", (await GetJsonAsync("/2024-08-31/functions/alpha/recursion-config")).ToJsonString());
        Assert.Equal("""{"EventSourceMappings":[]}""", (await GetJsonAsync("/2015-03-31/event-source-mappings/?FunctionName=alpha")).ToJsonString());
        Assert.Equal("""{"Layers":[]}""", (await GetJsonAsync("/2018-10-31/layers")).ToJsonString());

        Recorder.Registry.Deploy(new MemoryStream(FunctionPackages.Zip(
            ("function.yaml", "name: once\nhandler: handler.handler\neventRetries: 0\n"), ("handler.py", "def handler(e, c):\n    return e\n"))));
        var invokeConfig = await GetJsonAsync("/2019-09-25/functions/once/event-invoke-config");
        Assert.Equal((0, LambdaJson.FunctionArn("once") + ":$LATEST"), ((int)invokeConfig["MaximumRetryAttempts"]!, (string?)invokeConfig["FunctionArn"]));
        Assert.Equal(2, (int)(await GetJsonAsync("/2019-09-25/functions/alpha/event-invoke-config"))["MaximumRetryAttempts"]!);

        using (var url = await Http.GetAsync("/2021-10-31/functions/alpha/url"))
        {
            await RecordingNode.AssertApiErrorAsync(url, 404, "ResourceNotFoundException", "The resource you requested does not exist.");
        }

        using (var provisioned = await Http.GetAsync("/2019-09-30/functions/alpha/provisioned-concurrency?Qualifier=live"))
        {
            await RecordingNode.AssertApiErrorAsync(provisioned, 404, "ResourceNotFoundException", "Function not found: " + LambdaJson.FunctionArn("alpha") + ":live");
        }

        using (var provisioned = await Http.GetAsync("/2019-09-30/functions/alpha/provisioned-concurrency"))
        {
            await RecordingNode.AssertApiErrorAsync(provisioned, 404, "ProvisionedConcurrencyConfigNotFoundException", "No Provisioned Concurrency Config found");
        }

        using var missing = await Http.GetAsync("/2020-06-30/functions/nope/code-signing-config");
        await RecordingNode.AssertApiErrorAsync(missing, 404, "ResourceNotFoundException", "Function not found: " + LambdaJson.FunctionArn("nope"));
    }

    /// <summary>
    /// A name's qualifier and a Qualifier parameter that differ are refused as Lambda refuses them; before, the
    /// parameter was dropped and <c>alpha:$LATEST</c> with Qualifier=1 ran $LATEST for a caller that asked for version 1.
    /// </summary>
    [Theory]
    [InlineData("alpha:$LATEST", "1")]
    [InlineData("arn:aws:lambda:us-east-1:000000000000:function:alpha:$LATEST", "live")]
    public async Task A_qualifier_parameter_that_differs_from_the_names_is_refused(string name, string qualifier)
    {
        var query = "?Qualifier=" + Uri.EscapeDataString(qualifier);
        using (var response = await Http.PostAsync($"/2015-03-31/functions/{Uri.EscapeDataString(name)}/invocations{query}", new StringContent("{}")))
        {
            await RecordingNode.AssertApiErrorAsync(response, 400, "InvalidParameterValueException", "The derived qualifier from the function name does not match the specified qualifier.");
        }

        using (var configuration = await Http.GetAsync($"/2015-03-31/functions/{Uri.EscapeDataString(name)}/configuration{query}"))
        {
            await RecordingNode.AssertApiErrorAsync(configuration, 400, "InvalidParameterValueException", "does not match the specified qualifier");
        }

        Assert.Empty(Recorder.Requests);
        using var same = await Http.PostAsync($"/2015-03-31/functions/{Uri.EscapeDataString(name)}/invocations?Qualifier=%24LATEST", new StringContent("{}"));
        Assert.Equal(HttpStatusCode.OK, same.StatusCode);
    }

    [Fact]
    public async Task ListFunctions_pages_by_MaxItems_and_Marker()
    {
        var first = await GetJsonAsync("/2015-03-31/functions?MaxItems=2");
        Assert.Equal(["alpha", "beta"], first["Functions"]!.AsArray().Select(f => (string?)f!["FunctionName"]));
        var marker = (string)first["NextMarker"]!;
        var second = await GetJsonAsync("/2015-03-31/functions?MaxItems=2&Marker=" + Uri.EscapeDataString(marker));
        Assert.Equal(["gamma"], second["Functions"]!.AsArray().Select(f => (string?)f!["FunctionName"]));
        Assert.Null(second["NextMarker"]);
        Assert.Equal(3, (await GetJsonAsync("/2015-03-31/functions"))["Functions"]!.AsArray().Count);
        // botocore's path ends with a '/' (what a function's list_functions sends through the backend).
        Assert.Equal(["alpha", "beta"], (await GetJsonAsync("/2015-03-31/functions/?MaxItems=2"))["Functions"]!.AsArray().Select(f => (string?)f!["FunctionName"]));

        foreach (var bad in new[] { "0", "abc", "10001", "-1" })
        {
            using var refused = await Http.GetAsync("/2015-03-31/functions?MaxItems=" + bad);
            await RecordingNode.AssertApiErrorAsync(refused, 400, "InvalidParameterValueException", $"MaxItems must be a whole number from 1 to 10000, got '{bad}'");
        }
    }

    [Fact]
    public async Task The_deprecated_InvokeAsync_queues_an_event()
    {
        using var response = await Http.PostAsync("/2014-11-13/functions/gamma/invoke-async/", new StringContent("""{"n":1}"""));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("""{"Status":202}""", await response.Content.ReadAsStringAsync());
        var queued = Assert.Single(Recorder.Events);
        Assert.Equal(("gamma", """{"n":1}"""), (queued.Function, queued.Payload));

        using var missing = await Http.PostAsync("/2014-11-13/functions/nope/invoke-async/", new StringContent("{}"));
        await RecordingNode.AssertApiErrorAsync(missing, 404, "ResourceNotFoundException", "Function not found");
        using var notJson = await Http.PostAsync("/2014-11-13/functions/gamma/invoke-async/", new StringContent("{"));
        await RecordingNode.AssertApiErrorAsync(notJson, 400, "InvalidRequestContentException", "Could not parse request body into json");
        Assert.Single(Recorder.Events);
    }

    [Theory]
    [InlineData("POST", "/2015-03-31/functions/alpha/aliases", 501, "NotImplementedException", "does not implement POST /2015-03-31/functions/alpha/aliases of the Lambda API")]
    [InlineData("PUT", "/2019-09-30/functions/alpha/concurrency", 501, "NotImplementedException", "`nexus deploy <folder>`")]
    [InlineData("GET", "/2016-08-19/account-settings/", 501, "NotImplementedException", "does not implement GET /2016-08-19/account-settings/")]
    [InlineData("GET", "/nothing/here", 404, "ResourceNotFoundException", "the node has no endpoint GET /nothing/here")]
    public async Task The_rest_of_the_Lambda_API_is_refused_saying_what_is_served(string method, string path, int status, string type, string message)
    {
        using var response = await Http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        await RecordingNode.AssertApiErrorAsync(response, status, type, message);
        Assert.Empty(Recorder.Requests);
    }

    /// <summary>
    /// A name that is not one is 400 ValidationException (Lambda's pattern), and an ARN of another region or account is
    /// not this node's function (404): an operator's review found 'bad name!' answered 404 and an ARN of
    /// eu-west-1:999999999999 run as the local function.
    /// </summary>
    [Theory]
    [InlineData("bad%20name!", 400, "ValidationException", "Value 'bad name!' at 'functionName' failed to satisfy constraint")]
    [InlineData("arn:aws:lambda:eu-west-1:999999999999:function:alpha", 404, "ResourceNotFoundException", "Function not found: arn:aws:lambda:eu-west-1:999999999999:function:alpha")]
    [InlineData("arn:aws:lambda:us-east-1:999999999999:function:alpha", 404, "ResourceNotFoundException", "Function not found: arn:aws:lambda:us-east-1:999999999999:function:alpha")]
    [InlineData("alpha:v2", 404, "ResourceNotFoundException", "Function not found: arn:aws:lambda:us-east-1:000000000000:function:alpha:v2")]
    public async Task A_name_that_is_not_one_or_names_another_account_is_refused(string name, int status, string type, string message)
    {
        using (var response = await InvokeAsync(name))
        {
            await RecordingNode.AssertApiErrorAsync(response, status, type, message);
        }

        using (var configuration = await Http.GetAsync($"/2015-03-31/functions/{name}/configuration"))
        {
            await RecordingNode.AssertApiErrorAsync(configuration, status, type, message);
        }

        Assert.Empty(Recorder.Requests);
        using var local = await InvokeAsync("arn:aws:lambda:us-east-1:000000000000:function:alpha");
        Assert.True(local.IsSuccessStatusCode);
    }

    /// <summary>
    /// Neither signed nor carrying the node's token: 403 MissingAuthenticationTokenException, as Lambda answers, for
    /// invokes and reads alike (a function's configuration holds its environment). Any local user can connect to
    /// loopback: before, an operator's review invoked functions and read their environment as user nobody. With the
    /// check removed, each request here was served.
    /// </summary>
    [Fact]
    public async Task A_caller_with_neither_a_signature_nor_the_token_is_refused()
    {
        using var anonymous = new HttpClient { BaseAddress = _api.Base };
        var requests = new[]
        {
            new HttpRequestMessage(HttpMethod.Post, "/2015-03-31/functions/alpha/invocations") { Content = new StringContent("{}") },
            new HttpRequestMessage(HttpMethod.Post, "/2014-11-13/functions/alpha/invoke-async/") { Content = new StringContent("{}") },
            new HttpRequestMessage(HttpMethod.Get, "/2015-03-31/functions/alpha/configuration"),
            new HttpRequestMessage(HttpMethod.Get, "/2015-03-31/functions/alpha"),
            new HttpRequestMessage(HttpMethod.Get, "/2015-03-31/functions"),
        };
        foreach (var request in requests)
        {
            using (request)
            using (var response = await anonymous.SendAsync(request))
            {
                await RecordingNode.AssertApiErrorAsync(response, 403, "MissingAuthenticationTokenException", "Missing Authentication Token");
            }
        }

        Assert.Empty(Recorder.Requests);
        Assert.Empty(Recorder.Events);
        using var served = await Http.GetAsync("/2015-03-31/functions/alpha/configuration");
        Assert.True(served.IsSuccessStatusCode);
    }

    /// <summary>
    /// An Event's payload is held to Lambda's 1 MB asynchronous limit (6 MiB events were spooled before), refused with
    /// the code and message Lambda answers (RequestTooLargeException before: code testing for Lambda's code missed it).
    /// </summary>
    [Fact]
    public async Task An_event_past_the_asynchronous_limit_is_refused_before_it_is_spooled()
    {
        var big = "{\"pad\":\"" + new string('x', LambdaJson.MaxEventPayloadBytes) + "\"}";
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/2015-03-31/functions/alpha/invocations") { Content = new StringContent(big) })
        {
            request.Headers.TryAddWithoutValidation("X-Amz-Invocation-Type", "Event");
            using var response = await Http.SendAsync(request);
            await RecordingNode.AssertApiErrorAsync(response, 413, "RequestEntityTooLargeException", $"{big.Length} byte payload is too large for the Event invocation type (limit 1048576 bytes)");
        }

        using (var deprecated = await Http.PostAsync("/2014-11-13/functions/alpha/invoke-async/", new StringContent(big)))
        {
            await RecordingNode.AssertApiErrorAsync(deprecated, 413, "RequestEntityTooLargeException", "payload is too large for the Event invocation type (limit 1048576 bytes)");
        }

        Assert.Empty(Recorder.Events);
        var fits = "{\"pad\":\"" + new string('x', LambdaJson.MaxEventPayloadBytes - 20) + "\"}";
        using var accepted = new HttpRequestMessage(HttpMethod.Post, "/2015-03-31/functions/alpha/invocations") { Content = new StringContent(fits) };
        accepted.Headers.TryAddWithoutValidation("X-Amz-Invocation-Type", "Event");
        Assert.Equal(202, (int)(await Http.SendAsync(accepted)).StatusCode);
        Assert.Single(Recorder.Events);
    }

    /// <summary>
    /// A synchronous Invoke the pool throttles is Lambda's 429: TooManyRequestsException, "Rate Exceeded." in the
    /// modelled lower-case "message" (boto3 hands it on as e.response["message"]), Type User and the Reason naming which
    /// limit; the node's own account of its limits is not the caller's.
    /// </summary>
    [Fact]
    public async Task A_throttled_invoke_is_Lambdas_429_with_the_reason_of_its_limit()
    {
        foreach (var (payload, reason) in new[] { ("throttle-function", "ReservedFunctionConcurrentInvocationLimitExceeded"), ("throttle-node", "ConcurrentInvocationLimitExceeded") })
        {
            using var response = await Http.PostAsync("/2015-03-31/functions/alpha/invocations", new StringContent($$"""{"x":"{{payload}}"}"""));
            var text = await response.Content.ReadAsStringAsync();
            Assert.Equal(429, (int)response.StatusCode);
            Assert.Equal("TooManyRequestsException", response.Headers.GetValues("x-amzn-ErrorType").Single());
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse($$"""{"Type":"User","message":"Rate Exceeded.","Reason":"{{reason}}"}"""), JsonNode.Parse(text)), text);
            Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
        }
    }

    /// <summary>
    /// An event the node cannot spool is refused, never acknowledged: its queue at the limit is 429 (retry later), a
    /// spool that cannot be written (a full disk) 500 with why; both through the Invoke API and the deprecated InvokeAsync.
    /// </summary>
    [Fact]
    public async Task An_event_the_node_cannot_spool_is_refused_with_why_not_acknowledged()
    {
        foreach (var (path, invocationType) in new[] { ("/2015-03-31/functions/alpha/invocations", "Event"), ("/2014-11-13/functions/alpha/invoke-async/", null) })
        {
            using (var full = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent("""{"x":"queue-full"}""") })
            {
                if (invocationType is not null)
                {
                    full.Headers.TryAddWithoutValidation("X-Amz-Invocation-Type", invocationType);
                }

                using var response = await Http.SendAsync(full);
                Assert.Equal("10", response.Headers.RetryAfter?.Delta?.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
                await RecordingNode.AssertApiErrorAsync(response, 429, "TooManyRequestsException", "event queue is full");
            }

            using var disk = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent("""{"x":"disk-full"}""") };
            if (invocationType is not null)
            {
                disk.Headers.TryAddWithoutValidation("X-Amz-Invocation-Type", invocationType);
            }

            await RecordingNode.AssertApiErrorAsync(await Http.SendAsync(disk), 500, "ServiceException", "could not spool the event invocation: No space left on device");
        }

        Assert.Empty(Recorder.Events);
    }

    /// <summary>Function alpha's entry in a Lineage field, as the node writes it.</summary>
    private static string AlphaHash =>
        InvocationLineage.Continue("Root=1-5759e988-bd862e3fe1be46a994272793", LambdaJson.FunctionArn("alpha")).Header.Split("Lineage=")[1].Split(':')[0];

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private async Task<HttpResponseMessage> InvokeAsync(string function, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/2015-03-31/functions/{function}/invocations") { Content = new StringContent("{}") };
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return await Http.SendAsync(request);
    }

    private async Task<JsonNode> GetJsonAsync(string path)
    {
        using var response = await Http.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!;
    }
}
