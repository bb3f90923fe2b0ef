// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Nexus.Store;

/// <summary>
/// The embedded S3-compatible store: Kestrel with one terminal request delegate over <see cref="ObjectStore"/>.
/// Start with <see cref="StartAsync"/>; dispose to stop.
/// </summary>
public sealed class S3StoreServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ObjectStore _store;

    private S3StoreServer(WebApplication app, ObjectStore store, IReadOnlyList<Uri> addresses)
    {
        _app = app;
        _store = store;
        BoundAddresses = addresses;
    }

    /// <inheritdoc cref="ObjectStore.ObjectChanged"/>
    public event Action<string, string>? ObjectChanged
    {
        add => _store.ObjectChanged += value;
        remove => _store.ObjectChanged -= value;
    }

    /// <summary>The addresses actually listened on (port 0 resolved).</summary>
    public IReadOnlyList<Uri> BoundAddresses { get; }

    public static async Task<S3StoreServer> StartAsync(StoreOptions options, StoreCredentials credentials, ILoggerFactory? loggerFactory = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(credentials);
        if (options.Urls.Count == 0)
        {
            throw new ArgumentException("StoreOptions.Urls must name at least one address to listen on.", nameof(options));
        }

        loggerFactory ??= NullLoggerFactory.Instance;
        var store = new ObjectStore(options, loggerFactory.CreateLogger("Nexus.Store"));
        store.Open();
        var handler = new S3Handler(store, credentials, options, loggerFactory.CreateLogger("Nexus.Store"));

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "Nexus.Store" });
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new ForwardingLoggerProvider(loggerFactory));
        builder.Logging.SetMinimumLevel(LogLevel.Information);

        // Kestrel's per-request logs are Debug/Information; the store logs nothing per request by default.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = null;
        });
        builder.WebHost.UseUrls([.. options.Urls]);
        var app = builder.Build();
        app.Run(handler.HandleAsync);
        await app.StartAsync(ct);

        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses
            ?? throw new InvalidOperationException("Kestrel did not report its addresses.");
        return new S3StoreServer(app, store, [.. addresses.Select(a => new Uri(a))]);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>Routes ASP.NET Core's logs into the caller's factory.</summary>
    private sealed class ForwardingLoggerProvider(ILoggerFactory factory) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => factory.CreateLogger(categoryName);

        public void Dispose()
        {
        }
    }
}
