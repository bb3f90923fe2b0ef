// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Nexus.Backend;
using Nexus.Backend.Services;
using Nexus.Functions;
using Nexus.Node.Api;
using Nexus.Node.Transports.RuntimeApi;
using Nexus.Store;

namespace Nexus.Node.Tests;

/// <summary>
/// The node's signing proxy (baseline functions' way to the node config's services) attacked as a hostile baseline
/// sandbox would: every request signs as AWS SDKs do (SigV4), and a stand-in DynamoDB endpoint records what reaches it
/// and accepts only the node's key. No sandbox or node is started: the proxy listens on 127.0.0.1, port 0.
/// </summary>
public sealed class ServiceProxyTests : IAsyncLifetime
{
    private const string NodeKey = "NEXUSNODEKEY00000001";
    private const string NodeSecret = "node-secret-for-the-proxy-tests-000000000";
    private static readonly (string Id, string Secret) s_keyA = ("NXFAAAAAAAAAAAAAAAAA", "secret-of-function-a-0000000000000000000");
    private static readonly (string Id, string Secret) s_keyB = ("NXFBBBBBBBBBBBBBBBBB", "secret-of-function-b-0000000000000000000");

    private readonly List<(string Authorization, string Target, string Body)> _received = [];
    private readonly TaskCompletionSource _invokesWaiting = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _invokesMayAnswer = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _invokes;
    private readonly HttpClient _http = new();
    private int _atOnce;
    private int _mostAtOnce;
    private HttpHost _service = null!;
    private NexusBackend _backend = null!;
    private ServiceProxy _proxy = null!;

    /// <summary>The function the proxy sees calling (by source address); null: an address of no instance.</summary>
    private string? _caller = "fn-a";

    private static FunctionManifest ManifestA => new()
    {
        Name = "fn-a",
        Handler = "h.main",
        Io = IoMode.Baseline,
        Services =
        [
            new ServiceGrant("dynamodb", ["GetItem", "PutItem"], "table/orders"),
            new ServiceGrant("dynamodb", ["GetItem"], "table/slow"),
            new ServiceGrant("sqs", ["ListQueues"], "*"),
            new ServiceGrant("sesv2", ["*"], "*"),
            new ServiceGrant("lambda", ["Invoke"], "function/fn-a"),
        ],
    };

    /// <summary>Function B may do everything on every table: its key must still be worthless in A's sandbox.</summary>
    private static FunctionManifest ManifestB => new()
    {
        Name = "fn-b",
        Handler = "h.main",
        Io = IoMode.Baseline,
        Services = [new ServiceGrant("dynamodb", ["*"], "*")],
    };

    public async Task InitializeAsync()
    {
        var nodeKeys = new StoreCredentials();
        nodeKeys.Add(new StoreCredential(NodeKey, NodeSecret));
        var nodeSignature = new SigV4Verifier(nodeKeys, "us-east-1", null, TimeSpan.FromMinutes(5));
        _service = await HttpHost.StartAsync(["http://127.0.0.1:0"], app => app.Run(async context =>
        {
            // The stand-in Lambda: an invoke is answered once the test lets its callees finish.
            if (context.Request.Path.StartsWithSegments("/2015-03-31/functions", StringComparison.Ordinal))
            {
                if (Interlocked.Increment(ref _invokes) == 2)
                {
                    _invokesWaiting.SetResult();
                }

                await _invokesMayAnswer.Task;
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync("""{"from":"callee"}""");
                return;
            }

            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer);
            var body = buffer.ToArray();
            lock (_received)
            {
                _received.Add((context.Request.Headers.Authorization.ToString(), context.Request.Headers["X-Amz-Target"].ToString(), Encoding.UTF8.GetString(body)));
                _mostAtOnce = Math.Max(_mostAtOnce, ++_atOnce);
            }

            if (Encoding.UTF8.GetString(body).Contains("\"slow\"", StringComparison.Ordinal))
            {
                await Task.Delay(200);
            }

            lock (_received)
            {
                _atOnce--;
            }

            // As a real service would: only a request signed with a key it knows (the node's) is served.
            var verified = nodeSignature.Verify(context.Request, Convert.ToHexStringLower(SHA256.HashData(body)));
            context.Response.StatusCode = verified.Succeeded ? 200 : 403;
            context.Response.ContentType = "application/x-amz-json-1.0";
            context.Response.Headers["x-amzn-RequestId"] = "SERVICE-REQUEST-ID";
            await context.Response.WriteAsync(verified.Succeeded ? """{"Item":{"pk":{"S":"served"}}}""" : $$"""{"__type":"UnrecognizedClientException","message":"{{verified.Error!.Code}}"}""");
        }), null, CancellationToken.None);

        var services = new Dictionary<string, ServiceEndpoint>
        {
            ["dynamodb"] = new() { Url = _service.Addresses[0].ToString().TrimEnd('/') },
            ["sqs"] = new() { Url = _service.Addresses[0].ToString().TrimEnd('/') },
            ["sesv2"] = new() { Url = _service.Addresses[0].ToString().TrimEnd('/'), SigningName = "ses" },
            ["lambda"] = new() { Url = _service.Addresses[0].ToString().TrimEnd('/') },
        };
        _backend = new NexusBackend(new NexusBackendOptions
        {
            ServiceUrl = "http://127.0.0.1:9",
            AccessKey = NodeKey,
            SecretKey = NodeSecret,
            Services = services,
            MaxInFlightPerInstance = 2,
            MaxInFlightPerFunction = 2,
        });
        var functionKeys = new StoreCredentials();
        functionKeys.Add(new StoreCredential(s_keyA.Id, s_keyA.Secret));
        functionKeys.Add(new StoreCredential(s_keyB.Id, s_keyB.Secret));
        _proxy = await ServiceProxy.StartAsync(
            new ServiceProxyOptions
            {
                Urls = ["http://127.0.0.1:0"],
                Backend = _backend,
                FunctionKeys = functionKeys,
                ManifestOfKey = key => key == s_keyA.Id ? ManifestA : key == s_keyB.Id ? ManifestB : null,
                FunctionAt = (_, _) => Task.FromResult(_caller),
            },
            CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        _invokesMayAnswer.TrySetResult();
        _http.Dispose();
        await _proxy.DisposeAsync();
        await _backend.DisposeAsync();
        await _service.DisposeAsync();
    }

    [Fact]
    public async Task AGrantedCallIsSentSignedWithTheNodesKeyAndItsAnswerComesBack()
    {
        var (status, _, body) = await SendAsync(GetItem("orders"), s_keyA);

        Assert.Equal(200, status);
        Assert.Contains("served", body, StringComparison.Ordinal);
        var received = Assert.Single(_received);

        // The service saw the node's signature (it verified it), never the function's key.
        Assert.StartsWith($"AWS4-HMAC-SHA256 Credential={NodeKey}/", received.Authorization, StringComparison.Ordinal);
        Assert.DoesNotContain(s_keyA.Id, received.Authorization, StringComparison.Ordinal);
        Assert.Equal("DynamoDB_20120810.GetItem", received.Target);
        Assert.Equal(GetItem("orders").Body, received.Body);
    }

    /// <summary>With <c>ServiceCalls.CheckGrants</c> removed from the proxy once, both calls reached the service and this failed.</summary>
    [Fact]
    public async Task ACallOutsideTheFunctionsGrantsIsRefusedAndNeverSent()
    {
        var (status, headers, body) = await SendAsync(GetItem("secrets"), s_keyA);
        AssertJsonError(status, headers, body, 403, "AccessDenied", "function fn-a may not perform dynamodb:GetItem on resource table/secrets");

        (status, headers, body) = await SendAsync(Call("DeleteItem", """{"TableName":"orders","Key":{"pk":{"S":"a"}}}"""), s_keyA);
        AssertJsonError(status, headers, body, 403, "AccessDenied", "dynamodb:DeleteItem on resource table/orders");
        Assert.Empty(_received);
    }

    /// <summary>
    /// A REST-protocol call (SES v2's SendEmail: a POST to its own path, no X-Amz-Target) names no action the node reads,
    /// so it is sent only for a function granted everything on its service; it arrives on its path, signed by the node.
    /// </summary>
    [Fact]
    public async Task ARestCallIsSentOnlyUnderAGrantOfEverythingOnItsService()
    {
        var sendEmail = new Request("ses", "application/json", null, """{"Content":{}}""", "/v2/email/outbound-emails");
        var (status, _, body) = await SendAsync(sendEmail, s_keyA);
        Assert.True(status == 200, body);
        Assert.StartsWith($"AWS4-HMAC-SHA256 Credential={NodeKey}/", Assert.Single(_received).Authorization, StringComparison.Ordinal);

        _caller = "fn-b";
        (status, var headers, body) = await SendAsync(sendEmail, s_keyB);
        AssertJsonError(status, headers, body, 403, "AccessDenied", "only a grant of actions [\"*\"] on resource \"*\" of sesv2 covers it");
        Assert.Single(_received);
    }

    [Fact]
    public async Task ARequestSignedWithAWrongSecretIsRefused()
    {
        var (status, headers, body) = await SendAsync(GetItem("orders"), (s_keyA.Id, "not-the-secret-of-function-a-00000000000"));
        AssertJsonError(status, headers, body, 400, "InvalidSignatureException", "signature");
        Assert.Empty(_received);
    }

    /// <summary>With the key-owner check removed once, function B's key served A's sandbox (B's grants) and this failed.</summary>
    [Fact]
    public async Task ARequestSignedWithAnotherFunctionsKeyIsRefused()
    {
        // B's key verifies and B may read every table, but the request comes from A's instance.
        var (status, headers, body) = await SendAsync(GetItem("secrets"), s_keyB);
        AssertJsonError(status, headers, body, 403, "AccessDenied", "not function fn-a's");
        Assert.Empty(_received);
    }

    [Fact]
    public async Task TheNodesOwnKeyAndUnknownKeysAreNotAccepted()
    {
        var (status, headers, body) = await SendAsync(GetItem("orders"), (NodeKey, NodeSecret));
        AssertJsonError(status, headers, body, 400, "UnrecognizedClientException", NodeKey);
        (status, headers, body) = await SendAsync(GetItem("orders"), ("NXFUNKNOWNKEY0000000", "whatever-secret"));
        AssertJsonError(status, headers, body, 400, "UnrecognizedClientException", "NXFUNKNOWNKEY0000000");
        Assert.Empty(_received);
    }

    [Fact]
    public async Task UnsignedExpiredAndAlteredRequestsAreRefused()
    {
        var (status, headers, body) = await SendAsync(GetItem("orders"), key: null);
        AssertJsonError(status, headers, body, 400, "MissingAuthenticationTokenException", "anonymous");

        (status, headers, body) = await SendAsync(GetItem("orders"), s_keyA, signedAt: DateTime.UtcNow.AddMinutes(-6));
        AssertJsonError(status, headers, body, 400, "InvalidSignatureException", "too large");

        // Signed for one body, sent with another: the signature covers the body's hash.
        (status, headers, body) = await SendAsync(GetItem("orders"), s_keyA, sentBody: GetItem("secrets").Body);
        AssertJsonError(status, headers, body, 400, "InvalidSignatureException", "signature");
        Assert.Empty(_received);
    }

    [Fact]
    public async Task ACallFromAnAddressOfNoInstanceIsRefused()
    {
        _caller = null;
        var (status, headers, body) = await SendAsync(GetItem("orders"), s_keyA);
        AssertJsonError(status, headers, body, 403, "AccessDenied", "no Nexus baseline instance");
        Assert.Empty(_received);
    }

    [Fact]
    public async Task QueryProtocolCallsAreCheckedAndRefusedInTheirOwnShape()
    {
        var listQueues = new Request("sqs", "application/x-www-form-urlencoded; charset=utf-8", null, "Action=ListQueues&Version=2012-11-05");
        var (status, _, _) = await SendAsync(listQueues, s_keyA);
        Assert.Equal(200, status);

        var deleteQueue = new Request("sqs", "application/x-www-form-urlencoded; charset=utf-8", null, "Action=DeleteQueue&QueueUrl=q&Version=2012-11-05");
        (status, var headers, var body) = await SendAsync(deleteQueue, s_keyA);
        Assert.Equal(403, status);
        var error = XElement.Parse(body).Element("Error")!;
        Assert.Equal("AccessDenied", error.Element("Code")!.Value);
        Assert.Contains("sqs:DeleteQueue on resource *", error.Element("Message")!.Value, StringComparison.Ordinal);
        Assert.True(headers.ContainsKey("x-amzn-RequestId"));
        Assert.Single(_received);
    }

    /// <summary>
    /// A function flooding the proxy gets the backend's per-function budget (here 2 calls at once), as its nexus-mode
    /// calls would: 12 slow calls at once all succeed, never more than 2 at the service at a time. With the proxy's
    /// permit (<c>ServiceCalls.EnterAsync</c>) removed once, all 12 reached the service together and this failed.
    /// </summary>
    [Fact]
    public async Task AFunctionsCallsShareTheBackendsBudget()
    {
        var calls = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => SendAsync(GetItem("slow"), s_keyA)));
        Assert.All(calls, c => Assert.Equal(200, c.Status));
        Assert.Equal(12, _received.Count);
        Assert.Equal(2, _mostAtOnce);
    }

    /// <summary>
    /// A function invoking itself synchronously (recursion, fan-out) fills its budget (2 calls at once here) with invokes
    /// waiting for their callees, and the callees' own calls must still be served: a waiting invoke gives its permit
    /// back (<c>RequestPermit.ReleasedWhileAsync</c> in <c>ServiceCalls.SendAsync</c>). With the invoke sent holding its
    /// permit once, the callee's GetItem waited for the invokes, which waited for it, and this failed.
    /// </summary>
    [Fact]
    public async Task InvokesWaitingForTheirCalleesDoNotHoldTheFunctionsBudget()
    {
        var invoke = new Request("lambda", "application/json", null, """{"n":1}""", "/2015-03-31/functions/fn-a/invocations");
        var invokes = Enumerable.Range(0, 2).Select(_ => SendAsync(invoke, s_keyA)).ToArray();
        await _invokesWaiting.Task.WaitAsync(TimeSpan.FromSeconds(30));

        var (status, _, body) = await SendAsync(GetItem("orders"), s_keyA).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(status == 200, body);
        _invokesMayAnswer.SetResult();
        Assert.All(await Task.WhenAll(invokes), i => Assert.Equal((200, """{"from":"callee"}"""), (i.Status, i.Body)));
    }

    /// <summary>
    /// A call's backend CPU time (here mostly hashing a 4 MiB body to verify its signature and to sign it again) is
    /// charged to its function, as a channel call's is, so the fairness gate weighs baseline functions too. Until
    /// 2026-12-06 the proxy started the meter inside an async helper, whose changes to the flow's context are undone when
    /// it returns, and charged nothing; with the meter started there again, once, this failed.
    /// </summary>
    [Fact]
    public async Task ACallsBackendCpuTimeIsChargedToItsFunction()
    {
        var (status, _, body) = await SendAsync(Call("GetItem", "{\"TableName\":\"orders\",\"Key\":{\"pk\":{\"S\":\"" + new string('a', 4 << 20) + "\"}}}"), s_keyA);
        Assert.True(status == 200, body);
        var charged = _backend.Workers.UsedSeconds("fn-a");
        Assert.True(charged >= 0.005, $"the call was charged {charged * 1000:0.000} ms of backend CPU");
    }

    [Fact]
    public async Task AServiceTheNodeDoesNotConfigureIsNotImplemented()
    {
        var call = new Request("sns", "application/x-www-form-urlencoded; charset=utf-8", null, "Action=ListTopics&Version=2010-03-31");
        var (status, _, body) = await SendAsync(call, s_keyA);
        Assert.Equal(501, status);
        Assert.Contains("the node has no endpoint for sns", body, StringComparison.Ordinal);
        Assert.Empty(_received);
    }

    private static Request GetItem(string table) => Call("GetItem", "{\"TableName\":\"" + table + "\",\"Key\":{\"pk\":{\"S\":\"a\"}}}");

    private static Request Call(string action, string body) => new("dynamodb", "application/x-amz-json-1.0", "DynamoDB_20120810." + action, body);

    private static void AssertJsonError(int status, Dictionary<string, string> headers, string body, int expectedStatus, string code, string messagePart)
    {
        Assert.True(expectedStatus == status, $"expected {expectedStatus}, got {status}: {body}");
        using var document = JsonDocument.Parse(body);
        Assert.Equal(code, document.RootElement.GetProperty("__type").GetString());
        Assert.Contains(messagePart, document.RootElement.GetProperty("message").GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.True(headers.ContainsKey("x-amzn-RequestId"), "a refusal carries a request id, as the service's answers do");
    }

    /// <summary>
    /// Sends <paramref name="call"/> to the proxy signed as botocore signs a JSON or query call (SigV4: host, x-amz-date,
    /// content-type, x-amz-target; the body's SHA-256) with <paramref name="key"/>; null: unsigned.
    /// </summary>
    private async Task<(int Status, Dictionary<string, string> Headers, string Body)> SendAsync(Request call, (string Id, string Secret)? key, DateTime? signedAt = null, string? sentBody = null)
    {
        var now = signedAt ?? DateTime.UtcNow;
        var amzDate = now.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var host = _proxy.Addresses[0].Authority;
        var signed = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["content-type"] = call.ContentType, ["host"] = host, ["x-amz-date"] = amzDate };
        if (call.Target is not null)
        {
            signed["x-amz-target"] = call.Target;
        }

        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(_proxy.Addresses[0], call.Path)) { Content = new StringContent(sentBody ?? call.Body, Encoding.UTF8) };
        message.Content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(call.ContentType);
        message.Headers.TryAddWithoutValidation("X-Amz-Date", amzDate);
        if (call.Target is not null)
        {
            message.Headers.TryAddWithoutValidation("X-Amz-Target", call.Target);
        }

        if (key is { } k)
        {
            var signedHeaders = string.Join(';', signed.Keys);
            var canonical = $"POST\n{call.Path}\n\n{string.Concat(signed.Select(h => h.Key + ":" + h.Value + "\n"))}\n{signedHeaders}\n{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(call.Body)))}";
            var scope = $"{amzDate[..8]}/us-east-1/{call.Service}/aws4_request";
            var signature = SigV4.Sign(SigV4.DeriveSigningKey(k.Secret, amzDate[..8], "us-east-1", call.Service), SigV4.StringToSign(amzDate, scope, canonical));
            message.Headers.TryAddWithoutValidation("Authorization", $"AWS4-HMAC-SHA256 Credential={k.Id}/{scope}, SignedHeaders={signedHeaders}, Signature={signature}");
        }

        using var response = await _http.SendAsync(message);
        var headers = response.Headers.Concat(response.Content.Headers).ToDictionary(h => h.Key, h => string.Join(",", h.Value), StringComparer.OrdinalIgnoreCase);
        return ((int)response.StatusCode, headers, await response.Content.ReadAsStringAsync());
    }

    private sealed record Request(string Service, string ContentType, string? Target, string Body, string Path = "/");
}
