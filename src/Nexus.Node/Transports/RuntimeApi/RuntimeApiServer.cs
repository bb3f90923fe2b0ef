// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Nexus.Node.Api;

namespace Nexus.Node.Transports.RuntimeApi;

/// <summary>
/// The Lambda Runtime API (2018-06-01) that baseline runtimes call over their veth. The caller is identified by its
/// TCP source address; an address that maps to no instance gets 403.
/// </summary>
public sealed class RuntimeApiServer : IAsyncDisposable
{
    private const string Prefix = "/2018-06-01/runtime";

    private readonly HttpHost _host;

    private RuntimeApiServer(HttpHost host) => _host = host;

    public IReadOnlyList<Uri> Addresses => _host.Addresses;

    /// <summary>How long an unknown caller's request waits for its instance to be registered before 403.</summary>
    public static TimeSpan RegistrationGrace { get; set; } = TimeSpan.FromSeconds(2);

    public static async Task<RuntimeApiServer> StartAsync(IEnumerable<string> urls, RuntimeApiRegistry registry, CancellationToken cancellationToken)
    {
        var host = await HttpHost.StartAsync(urls, app => Map(app, registry), LambdaJson.MaxResponseBytes + 1024, cancellationToken);
        return new RuntimeApiServer(host);
    }

    public ValueTask DisposeAsync() => _host.DisposeAsync();

    private static void Map(WebApplication app, RuntimeApiRegistry registry)
    {
        app.MapGet(Prefix + "/invocation/next", async context =>
        {
            if (await CallerAsync(context, registry) is not { } transport)
            {
                return;
            }

            Invocation invocation;
            try
            {
                invocation = await transport.NextAsync(context.RequestAborted);
            }
            catch (Exception e) when (e is OperationCanceledException or System.Threading.Channels.ChannelClosedException)
            {
                context.Response.StatusCode = StatusCodes.Status410Gone;
                return;
            }

            var headers = context.Response.Headers;
            headers["Lambda-Runtime-Aws-Request-Id"] = invocation.RequestId;
            headers["Lambda-Runtime-Deadline-Ms"] = invocation.Deadline.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
            headers["Lambda-Runtime-Invoked-Function-Arn"] = invocation.FunctionArn;
            if (invocation.TraceId is { } trace)
            {
                headers["Lambda-Runtime-Trace-Id"] = trace;
            }

            if (invocation.ClientContext is { } clientContext)
            {
                headers["Lambda-Runtime-Client-Context"] = clientContext;
            }

            context.Response.ContentType = "application/json";
            context.Response.ContentLength = invocation.Payload.Length;
            await context.Response.Body.WriteAsync(invocation.Payload, context.RequestAborted);
        });

        app.MapPost(Prefix + "/invocation/{id}/response", async context =>
        {
            if (await CallerAsync(context, registry) is not { } transport || await ReadResultAsync(context, transport) is not { } read)
            {
                return;
            }

            var id = (string)context.Request.RouteValues["id"]!;
            var result = read.Body is null
                ? InvocationResult.Error("Function.ResponseSizeTooLarge", $"Response payload size exceeded maximum allowed payload size ({LambdaJson.MaxResponseBytes} bytes).")
                : new InvocationResult(read.Body, null);
            await AcceptAsync(context, transport, id, result, read.Body is null);
        });

        app.MapPost(Prefix + "/invocation/{id}/error", async context =>
        {
            if (await CallerAsync(context, registry) is not { } transport || await ReadResultAsync(context, transport) is not { } read)
            {
                return;
            }

            var id = (string)context.Request.RouteValues["id"]!;
            await AcceptAsync(context, transport, id, ErrorResult(context, read.Body), tooLarge: false);
        });

        app.MapPost(Prefix + "/init/error", async context =>
        {
            if (await CallerAsync(context, registry) is not { } transport || await ReadResultAsync(context, transport) is not { } read)
            {
                return;
            }

            transport.ReportInitError(ErrorResult(context, read.Body));
            await WriteStatusAsync(context, StatusCodes.Status202Accepted, """{"status":"OK"}""");
        });
    }

    /// <summary>
    /// The body of a result, error or init error of the calling instance (null inside: past Lambda's limit), read one at
    /// a time: each is buffered (up to 6 MiB), and a runtime has one invocation to answer. Without this a sandbox could
    /// hold any number of them open, trickling bytes, each buffer the node's memory. Null when another is being read
    /// (answered 409). The right ends with the read, before the result is handed on, whose next invocation's result may
    /// follow at once.
    /// </summary>
    private static async Task<ReadResult?> ReadResultAsync(HttpContext context, RuntimeApiTransport transport)
    {
        if (!transport.TryBeginResult())
        {
            await WriteStatusAsync(context, StatusCodes.Status409Conflict, """{"errorMessage":"a result or init error of this instance is being read already","errorType":"ResultInProgress"}""");
            return null;
        }

        try
        {
            return new ReadResult(await ReadBodyAsync(context));
        }
        finally
        {
            transport.EndResult();
        }
    }

    private static async Task<RuntimeApiTransport?> CallerAsync(HttpContext context, RuntimeApiRegistry registry)
    {
        var address = context.Connection.RemoteIpAddress;
        var transport = address is null ? null : await registry.FindAsync(address, RegistrationGrace, context.RequestAborted);
        if (transport is null)
        {
            await WriteStatusAsync(context, StatusCodes.Status403Forbidden, """{"errorMessage":"this address belongs to no Nexus instance","errorType":"Forbidden"}""");
        }

        return transport;
    }

    private static InvocationResult ErrorResult(HttpContext context, byte[]? body)
    {
        var type = context.Request.Headers["Lambda-Runtime-Function-Error-Type"].ToString();
        if (body is null || !LambdaJson.IsValidJson(body, out _))
        {
            return InvocationResult.Error(type.Length > 0 ? type : "Runtime.Unknown", "the runtime reported an error with an unreadable body");
        }

        if (type.Length == 0)
        {
            type = ErrorTypeOf(body) ?? "Runtime.Unknown";
        }

        return new InvocationResult(body, type);
    }

    private static string? ErrorTypeOf(byte[] body)
    {
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(body);
            return doc.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object
                   && doc.RootElement.TryGetProperty("errorType", out var t)
                   && t.ValueKind == System.Text.Json.JsonValueKind.String
                ? t.GetString()
                : null;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private static async Task AcceptAsync(HttpContext context, RuntimeApiTransport transport, string id, InvocationResult result, bool tooLarge)
    {
        if (!transport.Complete(id, result))
        {
            await WriteStatusAsync(context, StatusCodes.Status400BadRequest, """{"errorMessage":"no such pending invocation on this instance","errorType":"InvalidRequestID"}""");
            return;
        }

        await WriteStatusAsync(
            context,
            tooLarge ? StatusCodes.Status413PayloadTooLarge : StatusCodes.Status202Accepted,
            tooLarge ? """{"errorMessage":"response too large","errorType":"RequestEntityTooLarge"}""" : """{"status":"OK"}""");
    }

    // Null when the body exceeds Lambda's limit on what a runtime posts.
    private static async Task<byte[]?> ReadBodyAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16384];
        int n;
        try
        {
            while ((n = await context.Request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
            {
                if (buffer.Length + n > LambdaJson.MaxResponseBytes)
                {
                    return null;
                }

                buffer.Write(chunk, 0, n);
            }
        }
        catch (BadHttpRequestException)
        {
            return null;
        }

        return buffer.ToArray();
    }

    private static async Task WriteStatusAsync(HttpContext context, int status, string json)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(json, context.RequestAborted);
    }

    private sealed record ReadResult(byte[]? Body);
}
