// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net;

namespace Nexus.Testing;

/// <summary>
/// A stand-in HTTP service on a loopback port (a service endpoint of node.json in backend tests): each request is
/// handed to <c>serve</c>, one at a time, which answers it and closes the response.
/// </summary>
public sealed class StandInEndpoint : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _serving;

    public StandInEndpoint(Func<HttpListenerContext, Task> serve)
    {
        ArgumentNullException.ThrowIfNull(serve);
        using (var port = new ReservedPort())
        {
            Url = $"http://127.0.0.1:{port.Port}";
            _listener.Prefixes.Add(Url + "/");
            port.Release();
            _listener.Start();
        }

        _serving = ServeAsync(serve);
    }

    /// <summary>The endpoint's URL, without a trailing '/'.</summary>
    public string Url { get; }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        await _serving;
        _listener.Close();
    }

    private async Task ServeAsync(Func<HttpListenerContext, Task> serve)
    {
        while (true)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                return;
            }

            await serve(context);
            context.Response.Close();
        }
    }
}
