// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Nexus.Cli.Tests;

/// <summary>A stand-in node API on loopback that answers GETs of fixed paths with fixed JSON (no root, no sandboxes).</summary>
public sealed class FakeNodeApi : IDisposable
{
    private readonly HttpListener _listener;
    private readonly Dictionary<string, string> _answers;
    private readonly Dictionary<string, int> _statuses;
    private readonly HashSet<string> _brokenOff;
    private readonly Task _serving;

    /// <summary>
    /// Answers each path of <paramref name="answers"/> with its body, with status 200 or the path's in
    /// <paramref name="statuses"/>; other paths 404. A path in <paramref name="brokenOff"/> gets its body, then the connection
    /// reset short of the length announced, as from a node killed mid-answer.
    /// </summary>
    public FakeNodeApi(Dictionary<string, string> answers, Dictionary<string, int>? statuses = null, HashSet<string>? brokenOff = null)
    {
        _answers = answers;
        _statuses = statuses ?? [];
        _brokenOff = brokenOff ?? [];

        // HttpListener cannot listen on port 0: a free port is found and let go first, and another test may take it
        // before the listener binds it; then a fresh one is tried.
        for (var attempt = 1; ; attempt++)
        {
            using (var probe = new TcpListener(IPAddress.Loopback, 0))
            {
                probe.Start();
                Url = $"http://127.0.0.1:{((IPEndPoint)probe.LocalEndpoint).Port}";
            }

            _listener = new HttpListener();
            _listener.Prefixes.Add(Url + "/");
            try
            {
                _listener.Start();
                break;
            }
            catch (HttpListenerException) when (attempt < 5)
            {
                _listener.Close();
            }
        }

        _serving = Task.Run(ServeAsync);
    }

    public string Url { get; }

    public void Dispose()
    {
        _listener.Close();
        try
        {
            _serving.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // The listener's pending accept fails when it is closed.
        }
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
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

            var found = _answers.TryGetValue(context.Request.Url!.AbsolutePath, out var body);
            context.Response.StatusCode = found ? _statuses.GetValueOrDefault(context.Request.Url!.AbsolutePath, 200) : 404;
            context.Response.ContentType = "application/json";
            var bytes = Encoding.UTF8.GetBytes(found ? body! : """{"error":"not found"}""");
            if (_brokenOff.Contains(context.Request.Url!.AbsolutePath))
            {
                context.Response.ContentLength64 = bytes.Length + 1;
                await context.Response.OutputStream.WriteAsync(bytes);
                await context.Response.OutputStream.FlushAsync();
                context.Response.Abort();
                continue;
            }

            await context.Response.OutputStream.WriteAsync(bytes);
            context.Response.Close();
        }
    }
}
