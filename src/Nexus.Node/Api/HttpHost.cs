// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Nexus.Node.Api;

/// <summary>A small Kestrel host: the node's servers are built on it (port 0 works and reports the bound port).</summary>
public sealed class HttpHost : IAsyncDisposable
{
    private static long s_incidents;

    private readonly WebApplication _app;

    private HttpHost(WebApplication app, IReadOnlyList<Uri> addresses)
    {
        _app = app;
        Addresses = addresses;
    }

    public IReadOnlyList<Uri> Addresses { get; }

    public static async Task<HttpHost> StartAsync(IEnumerable<string> urls, Action<WebApplication> map, long? maxRequestBodyBytes, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = maxRequestBodyBytes;

            // Runtime API long polls and log follows stay open as long as they need.
            k.Limits.KeepAliveTimeout = TimeSpan.FromMinutes(30);
        });
        builder.WebHost.UseUrls([.. urls]);
        var app = builder.Build();

        // Logging providers are off (no per-request logging); an unexpected failure is still reported, once.
        app.Use(async (context, next) =>
        {
            try
            {
                await next(context);
            }
            catch (Exception e) when (e is not OperationCanceledException && !context.Response.HasStarted)
            {
                // The Runtime API's caller is a sandbox: exception text (host paths, addresses) stays in the node's log.
                var incident = Interlocked.Increment(ref s_incidents);
                Console.Error.WriteLine($"nexus: internal error (incident {incident}) on {context.Request.Method} {context.Request.Path}: {e}");
                var message = $"internal error (incident {incident}); the node's log has the details";
                context.Response.StatusCode = 500;
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync(new System.Text.Json.Nodes.JsonObject { ["Type"] = "Service", ["Message"] = message, ["error"] = message }.ToJsonString());
            }
        });
        map(app);
        await app.StartAsync(cancellationToken);
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .Select(a => new Uri(a.Replace("[::]", "127.0.0.1", StringComparison.Ordinal)))
            .ToList();
        return new HttpHost(app, bound);
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
    }
}
