// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Nexus.Backend;
using Nexus.Backend.Services;
using Nexus.Channel.Services;
using Nexus.Functions;
using Nexus.Node.Api;
using Nexus.Store;

namespace Nexus.Node.Transports.RuntimeApi;

/// <summary>What the signing proxy needs from the node: the function keys and who calls.</summary>
public sealed record ServiceProxyOptions
{
    /// <summary>Where the proxy listens: the sandboxes' service address (port 0 works).</summary>
    public required IReadOnlyList<string> Urls { get; init; }

    /// <summary>The backend whose service endpoints, node key and connections forwarded calls use.</summary>
    public required NexusBackend Backend { get; init; }

    /// <summary>The function keys baseline sandboxes sign with (and nothing else: not the node's keys).</summary>
    public required StoreCredentials FunctionKeys { get; init; }

    /// <summary>The deployed manifest of the function a key of <see cref="FunctionKeys"/> belongs to; null: none.</summary>
    public required Func<string, FunctionManifest?> ManifestOfKey { get; init; }

    /// <summary>The function whose baseline instance has this source address; null: no instance.</summary>
    public required Func<IPAddress, CancellationToken, Task<string?>> FunctionAt { get; init; }

    /// <summary>How far a request's X-Amz-Date may be from the node's clock (AWS's services allow 5 minutes).</summary>
    public TimeSpan MaxClockSkew { get; init; } = TimeSpan.FromMinutes(5);

    public TimeProvider? Time { get; init; }
}

/// <summary>
/// The node's signing proxy: how baseline functions reach the services of node.json's <c>services</c> within their
/// grants. A baseline sandbox's real boto3 sends its call here (NEXUS_&lt;SERVICE&gt;_ENDPOINT) signed with its
/// function's key; the proxy checks that the signature verifies with that key (SigV4, any region, the service named by
/// its credential scope) and that the key is the calling instance's function's (source address, as the Runtime API
/// identifies callers), then does what the generic path does for a nexus-mode call (<see cref="ServiceCalls"/>: the
/// action and resources read from the request, the function's grants, the node's key), dropping the function's
/// signature, and streams the service's answer back. Each call holds a permit of the backend's request budgets (global,
/// per function) from before its body is read until its answer is sent, save a Lambda Invoke while it waits for its
/// callee (<see cref="ServiceCalls.SendAsync"/>). Refusals are AWS-shaped
/// (<see cref="ServiceProxyErrors"/>).
/// </summary>
public sealed class ServiceProxy : IAsyncDisposable
{
    private readonly HttpHost _host;

    private ServiceProxy(HttpHost host) => _host = host;

    public IReadOnlyList<Uri> Addresses => _host.Addresses;

    public static async Task<ServiceProxy> StartAsync(ServiceProxyOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var verifier = new SigV4Verifier(options.FunctionKeys, region: null, service: null, options.MaxClockSkew, options.Time);
        var host = await HttpHost.StartAsync(options.Urls, app => app.Run(context => ServeAsync(context, options, verifier)), ServiceCalls.MaxRequestBytes, cancellationToken);
        return new ServiceProxy(host);
    }

    public ValueTask DisposeAsync() => _host.DisposeAsync();

    private static async Task ServeAsync(HttpContext context, ServiceProxyOptions options, SigV4Verifier verifier)
    {
        var json = ServiceProxyErrors.IsJson(context.Request);
        var caller = context.Connection.RemoteIpAddress is { } address ? await options.FunctionAt(address, context.RequestAborted) : null;
        if (caller is null)
        {
            await ServiceProxyErrors.WriteAsync(context, ChannelRequestException.Denied("this address belongs to no Nexus baseline instance"), json);
            return;
        }

        // The backend's budgets, as for the channel's calls: a flooding function waits for its own permits, and at most
        // the global budget of bodies is held at once.
        // Measured here, in the flow that serves the call: its backend CPU time is charged to the function.
        using var permit = (await ServiceCalls.EnterAsync(options.Backend, caller, context.RequestAborted)).Measured();
        HttpResponseMessage response;
        try
        {
            response = await ForwardAsync(context, options, verifier, caller, json, permit);
        }
        catch (ChannelRequestException e)
        {
            await ServiceProxyErrors.WriteAsync(context, e, json);
            return;
        }

        using (response)
        {
            context.Response.StatusCode = (int)response.StatusCode;
            foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
            {
                if (!ServiceCalls.IsHopByHop(name))
                {
                    context.Response.Headers[name] = values.ToArray();
                }
            }

            await using var body = await response.Content.ReadAsStreamAsync(context.RequestAborted);
            await body.CopyToAsync(context.Response.Body, context.RequestAborted);
        }
    }

    /// <summary>Every check of a call from an instance of <paramref name="caller"/>, in order; then the call, signed with the node's key.</summary>
    private static async Task<HttpResponseMessage> ForwardAsync(HttpContext context, ServiceProxyOptions options, SigV4Verifier verifier, string caller, bool json, RequestPermit permit)
    {
        var request = context.Request;
        var body = await ReadBodyAsync(request);
        var signature = verifier.Verify(request, Convert.ToHexStringLower(SHA256.HashData(body)));
        if (!signature.Succeeded)
        {
            throw ServiceProxyErrors.OfSignature(signature.Error!, json);
        }

        // A key is good only from an instance of its own function: a key taken from another sandbox (or given to the
        // wrong one) gets nothing here.
        var manifest = options.ManifestOfKey(signature.Credential.AccessKeyId);
        if (manifest is null || manifest.Name != caller)
        {
            throw ChannelRequestException.Denied($"the request is signed with a key that is not function {caller}'s");
        }

        // Scope: date/region/service/aws4_request; the service is SigV4's name for it (the endpoint's signing name).
        var signingName = signature.Scope.Split('/')[2];
        var headers = request.Headers.Select(h => new KeyValuePair<string, string>(h.Key, h.Value.ToString()));
        // A REST-protocol call names no action: it is sent as the operation "RestRequest", which only a grant of every
        // action covers (ServiceTarget.Resolve), whatever it is.
        var action = signingName == ServiceTarget.LambdaService
            ? ServiceTarget.LambdaActionOf(request.Method, SigV4Verifier.RawTarget(request).Split('?')[0])
            : ServiceTarget.ActionOf(request.Headers["X-Amz-Target"].FirstOrDefault(), request.ContentType, body) ?? "RestRequest";
        var service = options.Backend.Options.Services
            .FirstOrDefault(s => s.Value.SigningNameOf(s.Key) == signingName).Key ?? signingName;
        var call = ServiceRequest.Create(service, action, request.Method, SigV4Verifier.RawTarget(request), headers);
        var endpoint = ServiceCalls.EndpointOf(options.Backend.Options, call.Service, call.Operation);
        ServiceCalls.CheckGrants(manifest, call, body);
        return await ServiceCalls.SendAsync(options.Backend, call, body, endpoint, permit, context.RequestAborted);
    }

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request)
    {
        if (request.ContentLength > ServiceCalls.MaxRequestBytes)
        {
            throw ChannelRequestException.Invalid($"the request body is {request.ContentLength} bytes; the node's signing proxy takes at most {ServiceCalls.MaxRequestBytes}");
        }

        using var buffer = new MemoryStream();
        try
        {
            await request.Body.CopyToAsync(buffer, request.HttpContext.RequestAborted);
        }
        catch (BadHttpRequestException e)
        {
            throw ChannelRequestException.Invalid($"the request body could not be read: {e.Message}");
        }

        return buffer.ToArray();
    }
}
