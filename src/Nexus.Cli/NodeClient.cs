// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Nexus.Node;

namespace Nexus.Cli;

/// <summary>The CLI's HTTP client of a node's API (management under /nexus/v1, invoke under /2015-03-31).</summary>
public sealed class NodeClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly string? _managementToken;
    private readonly string _nodeLog;

    /// <summary>
    /// A client of the API at <paramref name="apiUrl"/>; <paramref name="managementToken"/> (<see cref="KeyPair.ManagementToken"/>)
    /// goes with every request (null: none, and the node refuses all but health and signed Lambda API calls).
    /// <paramref name="nodeLog"/> is where an error sends the reader when the node breaks off a request.
    /// </summary>
    private NodeClient(string apiUrl, string nodeLog, TimeSpan? timeout, string? managementToken)
    {
        BaseAddress = new Uri(apiUrl.TrimEnd('/') + "/");
        _http = new HttpClient { BaseAddress = BaseAddress, Timeout = timeout ?? Timeout.InfiniteTimeSpan };
        _managementToken = managementToken;
        _nodeLog = nodeLog;
    }

    public Uri BaseAddress { get; }

    /// <summary>A client of the node <paramref name="options"/> describe, with its management token if this user can read the node's key.</summary>
    public static NodeClient For(NodeOptions options, TimeSpan? timeout = null) =>
        new(options.ApiUrl, Path.Combine(options.Home, "node.log"), timeout, ReadManagementToken(options.CredentialsPath));

    private static string? ReadManagementToken(string credentialsPath)
    {
        try
        {
            return File.Exists(credentialsPath) ? KeyPair.LoadOrCreateAdmin(credentialsPath).ManagementToken() : null;
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException or InvalidDataException)
        {
            // Not root (or no node yet): management requests go without, and the node's refusal says what to do.
            return null;
        }
    }

    public void Dispose() => _http.Dispose();

    public async Task<bool> IsHealthyAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _http.GetAsync("nexus/v1/health", cancellationToken);
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    /// <summary>Sends a request; turns an unreachable node into a clear <see cref="CliException"/>.</summary>
    public async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        if (_managementToken is not null && request.RequestUri is { IsAbsoluteUri: false })
        {
            request.Headers.TryAddWithoutValidation(KeyPair.ManagementTokenHeader, _managementToken);
        }

        try
        {
            return await _http.SendAsync(request, completion, cancellationToken);
        }
        catch (HttpRequestException e) when (e.InnerException is SocketException || e.HttpRequestError == HttpRequestError.ConnectionError)
        {
            throw new CliException(ExitCodes.NodeNotRunning, $"the node is not running (nothing answers at {BaseAddress}); start it with: nexus up");
        }
        catch (HttpRequestException e) when (e.InnerException is IOException)
        {
            // A node that refuses a request before reading its body closes the connection under the upload; one killed or
            // stopped while it runs the request (an invoke) closes it before the answer.
            throw new CliException(ExitCodes.Failed, $"the node at {BaseAddress} closed the connection during {request.Method} {request.RequestUri} ({e.InnerException.Message}); the node's log ({_nodeLog}) may say why");
        }
    }

    public async Task<JsonNode> GetJsonAsync(string path, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Get, path), cancellationToken);
        return await ReadJsonAsync(response, cancellationToken);
    }

    public async Task<JsonNode> SendJsonAsync(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        using var response = await SendAsync(request, cancellationToken);
        return await ReadJsonAsync(response, cancellationToken);
    }

    /// <summary>The body as JSON; a non-success status becomes a <see cref="CliException"/> with the node's message.</summary>
    public static async Task<JsonNode> ReadJsonAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            var message = TryParse(text)?["error"]?.GetValue<string>() ?? TryParse(text)?["Message"]?.GetValue<string>() ?? text;
            var code = (int)response.StatusCode switch
            {
                404 => ExitCodes.NotFound,
                400 => ExitCodes.Usage,
                _ => ExitCodes.Failed,
            };
            throw new CliException(code, message);
        }

        return TryParse(text) ?? throw new CliException(ExitCodes.Failed, $"the node answered something that is not JSON: {text}");
    }

    public static MediaTypeHeaderValue Zip { get; } = new("application/zip");

    /// <summary>
    /// How the CLI prints JSON for scripts: indented, and with only what JSON itself requires escaped (the default encoder
    /// also escapes characters unsafe in HTML, writing a timestamp's '+' as \u002B).
    /// </summary>
    public static System.Text.Json.JsonSerializerOptions Indented { get; } = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static JsonNode? TryParse(string text)
    {
        try
        {
            return JsonNode.Parse(text);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }
}
