// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Nexus.Node.Metrics;
using Nexus.Node.Pool;
using Nexus.Node.Registry;
using Nexus.Node.Transports;

namespace Nexus.Node.Api;

/// <summary>
/// The node's front door (default http://127.0.0.1:9700): the Lambda Invoke API and function reads as AWS serves
/// them under /2015-03-31, the Prometheus /metrics, and the CLI's management API under /nexus/v1 (loopback only).
/// </summary>
public static partial class NodeApi
{
    public const string ManagementPrefix = "/nexus/v1";

    private const string LambdaPrefix = "/2015-03-31/functions";

    // The deprecated InvokeAsync API (boto3's invoke_async): an Event invocation answered {"Status": 202}.
    private const string InvokeAsyncPrefix = "/2014-11-13/functions";

    public static Task<HttpHost> StartAsync(IEnumerable<string> urls, INodeOperations node, CancellationToken cancellationToken) =>
        HttpHost.StartAsync(urls, app => Map(app, node), Math.Max(FunctionRegistry.MaxPackageBytes, MaxCodeRequestBytes) + 1024, cancellationToken);

    public static void Map(WebApplication app, INodeOperations node)
    {
        app.MapPost(LambdaPrefix + "/{name}/invocations", context => InvokeAsync(context, node));
        app.MapPost(InvokeAsyncPrefix + "/{name}/invoke-async", context => InvokeAsyncApiAsync(context, node));
        MapFunctionReads(app, node);
        MapFunctionManagement(app, node);
        app.MapGet("/metrics", async context =>
        {
            context.Response.ContentType = PrometheusExporter.ContentType;
            await context.Response.WriteAsync(node.ScrapeMetrics(), context.RequestAborted);
        });
        ManagementApi.Map(app, node);
        app.MapFallback(UnknownRouteAsync);
    }

    private static async Task InvokeAsync(HttpContext context, INodeOperations node)
    {
        var entered = Stopwatch.GetTimestamp();
        var request = context.Request;
        if (await ReadInvocationAsync(context, node) is not var (function, body))
        {
            return;
        }

        var invocationType = request.Headers["X-Amz-Invocation-Type"].ToString();
        var logType = request.Headers["X-Amz-Log-Type"].ToString();
        if (logType.Length > 0 && logType is not ("None" or "Tail"))
        {
            await ApiErrorAsync(context, 400, "InvalidParameterValueException", $"X-Amz-Log-Type must be None or Tail, got '{logType}'");
            return;
        }

        string? clientContext = null;
        if (request.Headers["X-Amz-Client-Context"].ToString() is { Length: > 0 } encoded
            && (clientContext = LambdaJson.DecodeClientContext(encoded, out var contextProblem)) is null)
        {
            await ApiErrorAsync(context, 400, "InvalidRequestContentException", contextProblem!);
            return;
        }

        if (await TraceAsync(context, function) is not { } trace)
        {
            return;
        }

        var requestId = Guid.NewGuid().ToString();
        var headers = context.Response.Headers;
        headers["x-amzn-RequestId"] = requestId;
        switch (invocationType)
        {
            case "" or "RequestResponse":
                break;
            case "DryRun":
                context.Response.StatusCode = 204;
                return;
            case "Event":
                if (!await EventFitsAsync(context, body))
                {
                    return;
                }

                if (await QueueEventAsync(context, node, function, body, new InvocationRequest(requestId, trace)))
                {
                    context.Response.StatusCode = 202;
                }

                return;
            default:
                await ApiErrorAsync(context, 400, "InvalidParameterValueException", $"X-Amz-Invocation-Type must be RequestResponse, Event or DryRun, got '{invocationType}'");
                return;
        }

        InvocationOutcome outcome;
        try
        {
            // The invocation runs to its end even if the caller goes away, as Lambda's does.
            outcome = await node.InvokeAsync(function, body, new InvocationRequest(requestId, trace, clientContext), CancellationToken.None);
        }
        catch (ThrottledException e)
        {
            // Lambda's words for a concurrency throttle, whichever limit: the Reason says which (the exception's
            // message, naming the node's limits, is for the node's own callers).
            headers["Retry-After"] = "1";
            await ApiErrorAsync(context, 429, "TooManyRequestsException", "Rate Exceeded.", reason: e.Reason);
            return;
        }
        catch (SandboxStartException e)
        {
            await ApiErrorAsync(context, 500, "ServiceException", e.Message, type: "Service");
            return;
        }
        catch (ObjectDisposedException)
        {
            await ApiErrorAsync(context, 503, "ServiceException", "the node is shutting down", type: "Service");
            return;
        }
        catch (InvalidOperationException e)
        {
            await ApiErrorAsync(context, 404, "ResourceNotFoundException", e.Message);
            return;
        }

        outcome.Timeline.ApiEntered = entered;
        headers["X-Amz-Executed-Version"] = "$LATEST";
        if (outcome.Result.IsError)
        {
            headers["X-Amz-Function-Error"] = "Unhandled";
        }

        if (logType == "Tail")
        {
            headers["X-Amz-Log-Result"] = Convert.ToBase64String(outcome.LogTail);
        }

        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = outcome.Result.Payload.Length;
        await context.Response.Body.WriteAsync(outcome.Result.Payload);
        outcome.Timeline.ApiResponded = Stopwatch.GetTimestamp();
    }

    /// <summary>The deprecated InvokeAsync: the body is the event, queued as an Event invocation.</summary>
    private static async Task InvokeAsyncApiAsync(HttpContext context, INodeOperations node)
    {
        if (await ReadInvocationAsync(context, node) is not var (function, body))
        {
            return;
        }

        if (await TraceAsync(context, function) is not { } trace)
        {
            return;
        }

        if (!await EventFitsAsync(context, body))
        {
            return;
        }

        var requestId = Guid.NewGuid().ToString();
        context.Response.Headers["x-amzn-RequestId"] = requestId;
        if (await QueueEventAsync(context, node, function, body, new InvocationRequest(requestId, trace)))
        {
            await JsonAsync(context, 202, new JsonObject { ["Status"] = 202 });
        }
    }

    /// <summary>
    /// Whether the request may use the Lambda API, answered when not: a SigV4 signature (service lambda) that verifies
    /// over <paramref name="payloadSha256Hex"/> with a key the node knows (as Lambda: an unknown key is
    /// UnrecognizedClientException, a bad signature InvalidSignatureException), or the node's management token (the CLI
    /// run as root sends it). Neither: 403 MissingAuthenticationTokenException, as Lambda answers an unsigned request;
    /// any local user can connect to loopback, and before this could invoke every function and read its configuration.
    /// A <paramref name="managementAction"/> (one that changes what runs) takes the admin key only: another key the node
    /// knows (a function's) is 403 AccessDeniedException.
    /// </summary>
    private static async Task<bool> AuthenticatedAsync(HttpContext context, INodeOperations node, string payloadSha256Hex, string? managementAction = null)
    {
        var request = context.Request;
        if (request.Headers.Authorization.Count == 0)
        {
            if (node.IsManagementToken(request.Headers[KeyPair.ManagementTokenHeader].ToString()))
            {
                return true;
            }

            await ApiErrorAsync(context, 403, "MissingAuthenticationTokenException", "Missing Authentication Token");
            return false;
        }

        switch (node.VerifySignature(request, payloadSha256Hex, adminOnly: managementAction is not null))
        {
            case null:
                return true;
            case { Code: INodeOperations.NotAdminKey } refusal:
                await ApiErrorAsync(context, 403, "AccessDeniedException", $"{refusal.Message}: it is not authorized to perform lambda:{managementAction}, which takes the node's admin key or its management token");
                return false;
            case { Code: "InvalidAccessKeyId" }:
                await ApiErrorAsync(context, 403, "UnrecognizedClientException", "The security token included in the request is invalid.");
                return false;
            case { } refusal:
                await ApiErrorAsync(context, 403, "InvalidSignatureException", refusal.Message);
                return false;
        }
    }

    // An Event's payload is held to Lambda's asynchronous limit (it is spooled until it runs); false once refused.
    /// <summary>
    /// Spools an Event invocation; false when it was refused, answered: a full event queue is 429 (the caller may retry
    /// later), a spool that could not be written (a full disk) 500; neither is acknowledged, so nothing is lost.
    /// </summary>
    private static async Task<bool> QueueEventAsync(HttpContext context, INodeOperations node, DeployedFunction function, byte[] body, InvocationRequest request)
    {
        try
        {
            await node.EnqueueEventAsync(function, body, request, context.RequestAborted);
            return true;
        }
        catch (EventQueueFullException e)
        {
            context.Response.Headers["Retry-After"] = "10";
            await ApiErrorAsync(context, 429, "TooManyRequestsException", e.Message);
        }
        catch (IOException e)
        {
            await ApiErrorAsync(context, 500, "ServiceException", $"the node could not spool the event invocation: {e.Message}", type: "Service");
        }

        return false;
    }

    /// <summary>
    /// The error code Lambda answers a payload past its limit with (its service framework's, sync and Event alike), not
    /// the RequestTooLargeException of its API reference, which callers never see: code that falls back to S3 on a
    /// too-large payload tests for this one.
    /// </summary>
    internal const string TooLargeError = "RequestEntityTooLargeException";

    private static async Task<bool> EventFitsAsync(HttpContext context, byte[] body)
    {
        if (body.Length <= LambdaJson.MaxEventPayloadBytes)
        {
            return true;
        }

        await ApiErrorAsync(context, 413, TooLargeError, $"{body.Length} byte payload is too large for the Event invocation type (limit {LambdaJson.MaxEventPayloadBytes} bytes)");
        return false;
    }

    /// <summary>
    /// The trace header <paramref name="function"/>'s invocation runs with: the caller's X-Amzn-Trace-Id when it is
    /// well-formed, else a new root, with the function's lineage count one higher. Null once a chain that ran it
    /// <see cref="InvocationLineage.MaxHops"/> times already is refused (RecursiveInvocationException, as Lambda stops
    /// a recursive loop).
    /// </summary>
    private static async Task<string?> TraceAsync(HttpContext context, DeployedFunction function)
    {
        var given = LambdaTrace.Accept(context.Request.Headers["X-Amzn-Trace-Id"].ToString()) ?? LambdaTrace.NewHeader(DateTimeOffset.UtcNow);
        var (trace, hops) = InvocationLineage.Continue(given, function.Arn);
        if (hops <= InvocationLineage.MaxHops)
        {
            return trace;
        }

        await ApiErrorAsync(context, 400, "RecursiveInvocationException",
            $"function {function.Manifest.Name} has already run {hops - 1} times in this chain of invocations (the Lineage of its trace header); the node stops a chain at {InvocationLineage.MaxHops} runs of one function, as Lambda stops a recursive loop");
        return null;
    }

    /// <summary>
    /// An invocation's function and event: the body read within Lambda's limit and checked against the request's
    /// signature (when signed), the function found, the event well-formed JSON (empty: {}). Null once the refusal is
    /// answered.
    /// </summary>
    private static async Task<(DeployedFunction Function, byte[] Body)?> ReadInvocationAsync(HttpContext context, INodeOperations node)
    {
        var request = context.Request;
        var tooLarge = $"Request must be smaller than {LambdaJson.MaxPayloadBytes} bytes for the InvokeFunction operation";
        if (request.ContentLength > LambdaJson.MaxPayloadBytes
            || await ReadBoundedAsync(request.Body, request.ContentLength, LambdaJson.MaxPayloadBytes, context.RequestAborted) is not { } body)
        {
            await ApiErrorAsync(context, 413, TooLargeError, tooLarge);
            return null;
        }

        if (!await AuthenticatedAsync(context, node, Convert.ToHexStringLower(SHA256.HashData(body))))
        {
            return null;
        }

        if (await FunctionNameAsync(context, "name", node) is not { } name || !node.TryGetFunction(name, out var function))
        {
            return null;
        }

        // Lambda hands an empty payload to the handler as {}.
        if (body.Length == 0)
        {
            return (function, "{}"u8.ToArray());
        }

        if (!LambdaJson.IsValidJson(body, out var problem))
        {
            await ApiErrorAsync(context, 400, "InvalidRequestContentException", "Could not parse request body into json: " + problem);
            return null;
        }

        return (function, body);
    }

    /// <summary>
    /// Reads a request body of at most <paramref name="limit"/> bytes (null when larger). A declared Content-Length is
    /// read straight into an array of that size: one host copy of the payload; a chunked body goes through a pooled chunk.
    /// </summary>
    internal static async Task<byte[]?> ReadBoundedAsync(Stream body, long? declaredLength, long limit, CancellationToken cancellationToken)
    {
        try
        {
            if (declaredLength is { } length)
            {
                if (length > limit)
                {
                    return null;
                }

                var exact = new byte[length];
                await body.ReadExactlyAsync(exact, cancellationToken);
                return exact;
            }

            using var buffer = new MemoryStream();
            var chunk = ArrayPool<byte>.Shared.Rent(65536);
            try
            {
                int n;
                while ((n = await body.ReadAsync(chunk, cancellationToken)) > 0)
                {
                    if (buffer.Length + n > limit)
                    {
                        return null;
                    }

                    buffer.Write(chunk, 0, n);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(chunk);
            }

            return buffer.ToArray();
        }
        catch (BadHttpRequestException e) when (e.StatusCode == 413)
        {
            return null;
        }
    }

    internal static async Task ApiErrorAsync(HttpContext context, int status, string errorType, string message, string type = "User", string? reason = null)
    {
        context.Response.StatusCode = status;
        context.Response.Headers["x-amzn-ErrorType"] = errorType;

        // Lambda's model names TooManyRequestsException's member "message" (most others "Message"); boto3 puts the
        // modelled member in the error's response as it is spelled, so a caller reading e.response["message"] finds it.
        var body = new JsonObject { ["Type"] = type, [errorType == "TooManyRequestsException" ? "message" : "Message"] = message };
        if (reason is not null)
        {
            body["Reason"] = reason;
        }

        await JsonAsync(context, status, body);
    }

    internal static async Task JsonAsync(HttpContext context, int status, JsonNode body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString(), Encoding.UTF8, context.RequestAborted);
    }

    internal static bool IsLoopback(HttpContext context) =>
        context.Connection.RemoteIpAddress is { } address && IPAddress.IsLoopback(address);
}
