// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Nexus.Backend.WriteBack;
using Nexus.Functions;
using Nexus.Node.Pool;
using Nexus.Node.Registry;

namespace Nexus.Node.Api;

/// <summary>
/// The CLI's API under /nexus/v1, answered only to loopback callers that show the node's management token (all but
/// health; <see cref="KeyPair.ManagementToken"/>): deploy (a zipped function folder as the
/// body), list, get, remove, logs (tail and follow), status, health and shutdown. Errors are {"error": "..."}.
/// </summary>
public static class ManagementApi
{
    public static void Map(WebApplication app, INodeOperations node)
    {
        var api = app.MapGroup(NodeApi.ManagementPrefix);
        api.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            if (!NodeApi.IsLoopback(http))
            {
                return Results.Json(new ErrorBody("the management API answers loopback callers only"), statusCode: 403);
            }

            // Any local user can connect to loopback: deploying (code, with any bucket grant) and the rest take the
            // token only a reader of the node's admin key can make. Health says nothing but "ok".
            if (http.Request.Path != NodeApi.ManagementPrefix + "/health" && !node.IsManagementToken(http.Request.Headers[KeyPair.ManagementTokenHeader].ToString()))
            {
                return Results.Json(new ErrorBody($"the management API needs the node's token ({KeyPair.ManagementTokenHeader}), which the nexus CLI makes from the node's admin key: run it as root (the key is root's only)"), statusCode: 401);
            }

            return await next(context);
        });

        api.MapGet("/health", () => Results.Text("ok"));
        api.MapGet("/status", () => Results.Text(StatusJson(node.Status()).ToJsonString(), "application/json"));
        api.MapPost("/shutdown", () =>
        {
            node.RequestShutdown();
            return Results.Accepted();
        });
        api.MapGet("/functions", () =>
        {
            var nodeStatus = node.Status();
            var status = nodeStatus.Instances.ToDictionary(s => s.Function);
            var list = new JsonArray([.. node.Functions.Select(f => (JsonNode)Describe(f, status.GetValueOrDefault(f.Name), nodeStatus.Driver))]);
            return Results.Text(new JsonObject { ["functions"] = list }.ToJsonString(), "application/json");
        });
        api.MapGet("/functions/{name}", (string name) =>
            node.TryGetFunction(name, out var f)
                ? Results.Text(Describe(f, node.Status().Instances.FirstOrDefault(s => s.Function == name), node.Status().Driver).ToJsonString(), "application/json")
                : NotFound(name));
        api.MapDelete("/functions/{name}", async (string name, CancellationToken ct) =>
            await node.RemoveAsync(name, ct) ? Results.Text(new JsonObject { ["removed"] = name }.ToJsonString(), "application/json") : NotFound(name));
        api.MapPost("/functions", async (HttpContext context) =>
        {
            try
            {
                // Kestrel bodies are read asynchronously; the registry unpacks from memory.
                var package = await NodeApi.ReadBoundedAsync(context.Request.Body, context.Request.ContentLength, FunctionRegistry.MaxPackageBytes, context.RequestAborted)
                    ?? throw new InvalidDataException($"the package is larger than the limit of {FunctionRegistry.MaxPackageBytes} bytes");
                using var stream = new MemoryStream(package, writable: false);
                var function = await node.DeployAsync(stream, null, null, context.RequestAborted);
                return Results.Text(Describe(function, null, node.Status().Driver).ToJsonString(), "application/json");
            }
            catch (ManifestException e)
            {
                return Results.Json(new ErrorBody(e.Message), statusCode: 400);
            }
            catch (InvalidDataException e)
            {
                return Results.Json(new ErrorBody("bad function package: " + e.Message), statusCode: 400);
            }
        });
        api.MapGet("/functions/{name}/logs", LogsAsync);
        MapDeadLetters(api, node);

        async Task LogsAsync(HttpContext context, string name)
        {
            // A removed function's log stays (as a deleted Lambda function's log group does) and is still served.
            if (!node.TryGetFunction(name, out _) && !(ManifestParser.IsFunctionName(name) && File.Exists(node.Logs.PathOf(name))))
            {
                context.Response.StatusCode = 404;
                await context.Response.WriteAsJsonAsync(new ErrorBody($"no function named '{name}', and no log of one"), context.RequestAborted);
                return;
            }

            var tailText = context.Request.Query["tail"];
            var tail = 100;
            if (tailText.Count > 0 && !int.TryParse(tailText.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out tail))
            {
                context.Response.StatusCode = 400;
                await context.Response.WriteAsJsonAsync(new ErrorBody($"query parameter tail must be a non-negative integer, got '{tailText}'"), context.RequestAborted);
                return;
            }

            var followText = context.Request.Query["follow"];
            if (followText.Count > 0 && followText.ToString() is not ("1" or "true" or "0" or "false"))
            {
                context.Response.StatusCode = 400;
                await context.Response.WriteAsJsonAsync(new ErrorBody($"query parameter follow must be true, false, 1 or 0, got '{followText}'"), context.RequestAborted);
                return;
            }

            var follow = followText.ToString() is "1" or "true";
            context.Response.ContentType = "text/plain; charset=utf-8";

            // Subscribe before reading the tail so no line falls between the two.
            var stream = follow ? node.Logs.FollowAsync(name, context.RequestAborted).GetAsyncEnumerator(context.RequestAborted) : null;
            try
            {
                foreach (var line in node.Logs.Tail(name, tail))
                {
                    await context.Response.WriteAsync(line + "\n", context.RequestAborted);
                }

                await context.Response.Body.FlushAsync(context.RequestAborted);
                if (stream is null)
                {
                    return;
                }

                var pending = stream.MoveNextAsync();
                while (await pending)
                {
                    await context.Response.WriteAsync(stream.Current + "\n", context.RequestAborted);
                    pending = stream.MoveNextAsync();
                    if (!pending.IsCompleted)
                    {
                        await context.Response.Body.FlushAsync(context.RequestAborted);
                    }
                }
            }
            catch (OperationCanceledException)
            {
                // The follower went away.
            }
            finally
            {
                if (stream is not null)
                {
                    await stream.DisposeAsync();
                }
            }
        }
    }

    /// <summary>A function as the API lists it; <paramref name="defaultSandbox"/> is the node's driver for functions without <c>sandbox:</c>.</summary>
    public static JsonObject Describe(DeployedFunction function, FunctionPoolStatus? status, string defaultSandbox)
    {
        var m = function.Manifest;
        var storage = new JsonArray([.. m.Storage.Select(g => (JsonNode)new JsonObject
        {
            ["bucket"] = g.Bucket,
            ["prefix"] = g.Prefix,
            ["access"] = g.Access.ToString().ToLowerInvariant(),
        })]);
        return new JsonObject
        {
            ["name"] = m.Name,
            ["handler"] = m.Handler,
            ["io"] = m.Io == IoMode.Baseline ? "baseline" : "nexus",
            ["sandbox"] = m.Sandbox ?? defaultSandbox,
            ["memory"] = m.MemoryMb,
            ["cpus"] = m.Cpus,
            ["timeout"] = (int)m.Timeout.TotalSeconds,
            ["storage"] = storage,
            ["revision"] = function.Revision,
            ["codeSha256"] = function.CodeSha256,
            ["codeSize"] = function.CodeSize,
            ["lastModified"] = function.LastModified.ToString("O", CultureInfo.InvariantCulture),
            ["arn"] = function.Arn,
            ["instances"] = new JsonObject
            {
                ["starting"] = status?.Starting ?? 0,
                ["idle"] = status?.Idle ?? 0,
                ["busy"] = status?.Busy ?? 0,
                ["waiting"] = status?.Waiting ?? 0,
            },
        };
    }

    public static JsonObject StatusJson(NodeStatus status)
    {
        var endpoints = new JsonObject();
        foreach (var (k, v) in status.Endpoints)
        {
            endpoints[k] = v;
        }

        return new JsonObject
        {
            ["version"] = status.Version,
            ["startedAt"] = status.StartedAt.ToString("O", CultureInfo.InvariantCulture),
            ["driver"] = status.Driver,
            ["image"] = status.Image,
            ["endpoints"] = endpoints,
            ["functions"] = status.Functions,
            ["pendingEvents"] = status.PendingEvents,
            ["waitingInvocations"] = status.WaitingInvocations,
            ["instances"] = new JsonArray([.. status.Instances.Select(i => (JsonNode)new JsonObject
            {
                ["function"] = i.Function,
                ["starting"] = i.Starting,
                ["idle"] = i.Idle,
                ["busy"] = i.Busy,
                ["waiting"] = i.Waiting,
            })]),
            ["writeBack"] = status.WriteBack is not { } wb ? null : new JsonObject
            {
                ["pending"] = wb.Pending,
                ["pendingBytes"] = wb.PendingBytes,
                ["failing"] = wb.Failing,
                ["uploaded"] = wb.Uploaded,
                ["retries"] = wb.Retries,
                ["superseded"] = wb.Superseded,
                ["syncFallbacks"] = wb.SyncFallbacks,
                ["oldestPendingSeconds"] = Math.Round(wb.OldestPending.TotalSeconds, 1),
                ["deadLetters"] = wb.DeadLetters,
                ["deadLetterBytes"] = wb.DeadLetterBytes,
            },
            ["templates"] = new JsonArray([.. (status.Templates ?? []).Select(t => (JsonNode)new JsonObject
            {
                ["function"] = t.Function,
                ["revision"] = t.Revision,
                ["current"] = t.Current,
                ["liveInstances"] = t.LiveInstances,
                ["pssBytes"] = t.PssBytes,
            })]),
        };
    }

    /// <summary>
    /// The write-back spool's dead letters (docs/writeback.md, "Missing buckets"): listed, re-driven (uploaded once more)
    /// or discarded, all of them or those of <c>?bucket=</c>.
    /// </summary>
    private static void MapDeadLetters(RouteGroupBuilder api, INodeOperations node)
    {
        api.MapGet("/writeback/dead-letters", () => WithSpool(node, spool => new JsonObject
        {
            ["deadLetters"] = new JsonArray([.. spool.DeadLetters.Select(r => (JsonNode)new JsonObject
            {
                ["bucket"] = r.Bucket,
                ["key"] = r.Key,
                ["size"] = r.Length,
                ["etag"] = r.ETag,
                ["acknowledgedAt"] = r.AcknowledgedAt.ToString("O", CultureInfo.InvariantCulture),
            })]),
        }));
        api.MapPost("/writeback/dead-letters/redrive", (string? bucket) => WithSpool(node, spool => new JsonObject { ["redriven"] = spool.Redrive(bucket) }));
        api.MapPost("/writeback/dead-letters/discard", (string? bucket) => WithSpool(node, spool => new JsonObject { ["discarded"] = spool.Discard(bucket) }));
    }

    private static IResult WithSpool(INodeOperations node, Func<WriteBackQueue, JsonObject> answer) =>
        node.WriteBack is { } spool
            ? Results.Text(answer(spool).ToJsonString(), "application/json")
            : Results.Json(new ErrorBody("this node has no write-back spool"), statusCode: 404);

    private static IResult NotFound(string name) => Results.Json(new ErrorBody($"no function named '{name}'"), statusCode: 404);

    private sealed record ErrorBody(string Error);
}
