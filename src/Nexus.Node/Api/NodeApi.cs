// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Nexus.Functions;
using Nexus.Node.Metrics;
using Nexus.Node.Pool;
using Nexus.Node.Registry;
using Nexus.Node.Transports;

namespace Nexus.Node.Api;

/// <summary>
/// The node's front door (default http://127.0.0.1:9700): the Lambda Invoke API and function reads as AWS serves
/// them under /2015-03-31, the Prometheus /metrics, and the CLI's management API under /nexus/v1 (loopback only).
/// </summary>
public static class NodeApi
{
    public const string ManagementPrefix = "/nexus/v1";

    private const string LambdaPrefix = "/2015-03-31/functions";

    public static Task<HttpHost> StartAsync(IEnumerable<string> urls, INodeOperations node, CancellationToken cancellationToken) =>
        HttpHost.StartAsync(urls, app => Map(app, node), FunctionRegistry.MaxPackageBytes + 1024, cancellationToken);

    public static void Map(WebApplication app, INodeOperations node)
    {
        app.MapPost(LambdaPrefix + "/{name}/invocations", context => InvokeAsync(context, node));
        app.MapGet(LambdaPrefix, context => ListFunctionsAsync(context, node));
        app.MapGet(LambdaPrefix + "/{name}", context => GetFunctionAsync(context, node, configurationOnly: false));
        app.MapGet(LambdaPrefix + "/{name}/configuration", context => GetFunctionAsync(context, node, configurationOnly: true));
        app.MapGet("/metrics", async context =>
        {
            context.Response.ContentType = PrometheusExporter.ContentType;
            await context.Response.WriteAsync(node.ScrapeMetrics(), context.RequestAborted);
        });
        ManagementApi.Map(app, node);
    }

    private static async Task InvokeAsync(HttpContext context, INodeOperations node)
    {
        var entered = Stopwatch.GetTimestamp();
        var request = context.Request;
        var name = FunctionName((string)request.RouteValues["name"]!, request.Query["Qualifier"].ToString(), out var badQualifier);
        if (request.ContentLength > LambdaJson.MaxPayloadBytes)
        {
            await ApiErrorAsync(context, 413, "RequestTooLargeException", $"Request must be smaller than {LambdaJson.MaxPayloadBytes} bytes for the InvokeFunction operation");
            return;
        }

        var body = await ReadBoundedAsync(request.Body, request.ContentLength, LambdaJson.MaxPayloadBytes, context.RequestAborted);
        if (body is null)
        {
            await ApiErrorAsync(context, 413, "RequestTooLargeException", $"Request must be smaller than {LambdaJson.MaxPayloadBytes} bytes for the InvokeFunction operation");
            return;
        }

        if (request.Headers.Authorization.Count > 0 && node.VerifySignature(request, Convert.ToHexStringLower(SHA256.HashData(body))) is { } signatureError)
        {
            await ApiErrorAsync(context, 403, "InvalidSignatureException", signatureError);
            return;
        }

        if (badQualifier is not null || !node.TryGetFunction(name, out var function))
        {
            await ApiErrorAsync(context, 404, "ResourceNotFoundException", "Function not found: " + LambdaJson.FunctionArn(name) + (badQualifier is null ? "" : ":" + badQualifier));
            return;
        }

        // Lambda hands an empty payload to the handler as {}.
        if (body.Length == 0)
        {
            body = "{}"u8.ToArray();
        }
        else if (!LambdaJson.IsValidJson(body, out var problem))
        {
            await ApiErrorAsync(context, 400, "InvalidRequestContentException", "Could not parse request body into json: " + problem);
            return;
        }

        var invocationType = request.Headers["X-Amz-Invocation-Type"].ToString();
        var logType = request.Headers["X-Amz-Log-Type"].ToString();
        if (logType.Length > 0 && logType is not ("None" or "Tail"))
        {
            await ApiErrorAsync(context, 400, "InvalidParameterValueException", $"X-Amz-Log-Type must be None or Tail, got '{logType}'");
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
                await node.EnqueueEventAsync(function, body, requestId, context.RequestAborted);
                context.Response.StatusCode = 202;
                return;
            default:
                await ApiErrorAsync(context, 400, "InvalidParameterValueException", $"X-Amz-Invocation-Type must be RequestResponse, Event or DryRun, got '{invocationType}'");
                return;
        }

        InvocationOutcome outcome;
        try
        {
            // The invocation runs to its end even if the caller goes away, as Lambda's does.
            outcome = await node.InvokeAsync(function, body, requestId, CancellationToken.None);
        }
        catch (ThrottledException e)
        {
            headers["Retry-After"] = "1";
            await ApiErrorAsync(context, 429, "TooManyRequestsException", e.Message, reason: "ConcurrentInvocationLimitExceeded");
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

    private static async Task ListFunctionsAsync(HttpContext context, INodeOperations node)
    {
        var functions = new JsonArray([.. node.Functions.Select(f => (JsonNode)Configuration(f))]);
        await JsonAsync(context, 200, new JsonObject { ["Functions"] = functions });
    }

    private static async Task GetFunctionAsync(HttpContext context, INodeOperations node, bool configurationOnly)
    {
        var name = FunctionName((string)context.Request.RouteValues["name"]!, context.Request.Query["Qualifier"].ToString(), out var badQualifier);
        if (badQualifier is not null || !node.TryGetFunction(name, out var function))
        {
            await ApiErrorAsync(context, 404, "ResourceNotFoundException", "Function not found: " + LambdaJson.FunctionArn(name));
            return;
        }

        var configuration = Configuration(function);
        await JsonAsync(context, 200, configurationOnly
            ? configuration
            : new JsonObject
            {
                ["Configuration"] = configuration,
                ["Code"] = new JsonObject { ["RepositoryType"] = "Nexus", ["Location"] = function.CodeDirectory },
            });
    }

    /// <summary>A function's configuration in Lambda's FunctionConfiguration shape.</summary>
    public static JsonObject Configuration(DeployedFunction function)
    {
        var manifest = function.Manifest;
        var variables = new JsonObject();
        foreach (var (k, v) in manifest.Environment)
        {
            variables[k] = v;
        }

        return new JsonObject
        {
            ["FunctionName"] = manifest.Name,
            ["FunctionArn"] = function.Arn,
            ["Runtime"] = "python3.11",
            ["Role"] = $"arn:aws:iam::{LambdaJson.AccountId}:role/nexus-{manifest.Name}",
            ["Handler"] = manifest.Handler,
            ["CodeSize"] = function.CodeSize,
            ["Description"] = $"io: {(manifest.Io == IoMode.Baseline ? "baseline" : "nexus")}",
            ["Timeout"] = (int)manifest.Timeout.TotalSeconds,
            ["MemorySize"] = manifest.MemoryMb,
            ["LastModified"] = function.LastModified.ToString("yyyy-MM-dd'T'HH:mm:ss.fff+0000", CultureInfo.InvariantCulture),
            ["CodeSha256"] = function.CodeSha256,
            ["Version"] = "$LATEST",
            ["RevisionId"] = function.Revision,
            ["Environment"] = new JsonObject { ["Variables"] = variables },
            ["PackageType"] = "Zip",
            ["State"] = "Active",
            ["Architectures"] = new JsonArray("x86_64"),
        };
    }

    // Accepts a name, a partial ARN (NAME:QUALIFIER) or a full ARN, as Lambda does. Only $LATEST exists here.
    private static string FunctionName(string raw, string queryQualifier, out string? badQualifier)
    {
        var name = Uri.UnescapeDataString(raw);
        const string arnPrefix = "arn:aws:lambda:";
        if (name.StartsWith(arnPrefix, StringComparison.Ordinal))
        {
            var at = name.IndexOf(":function:", StringComparison.Ordinal);
            name = at < 0 ? name : name[(at + ":function:".Length)..];
        }

        badQualifier = null;
        var colon = name.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0)
        {
            var qualifier = name[(colon + 1)..];
            name = name[..colon];
            badQualifier = qualifier == "$LATEST" ? null : qualifier;
        }

        if (queryQualifier.Length > 0 && queryQualifier != "$LATEST")
        {
            badQualifier = queryQualifier;
        }

        return name;
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
        var body = new JsonObject { ["Type"] = type, ["Message"] = message };
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
