// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Channel.Services;
using Nexus.Functions;

namespace Nexus.Backend.Services;

/// <summary>
/// The steps of a call to a service other than S3 that both of its ways in share: the channel's ServiceRequest
/// (nexus mode, <see cref="ServiceRequests"/>) and the node's signing proxy (baseline mode, whose sandboxes sign with
/// their function's key): the endpoint the node configures, the function's grants, and the call signed with the node's
/// key. Refusals are <see cref="ChannelRequestException"/>s, thrown before anything is sent.
/// </summary>
public static class ServiceCalls
{
    /// <summary>Largest request body: DynamoDB's largest request (BatchWriteItem) is 16 MB.</summary>
    public const int MaxRequestBytes = 16 << 20;

    private static readonly HashSet<string> s_hopHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection",
    };

    /// <summary>Whether a response header belongs to one HTTP hop (the service's connection), so it is not passed on.</summary>
    public static bool IsHopByHop(string name) => s_hopHeaders.Contains(name);

    /// <summary>
    /// The endpoint the node configures for <paramref name="service"/>; none: NotImplemented, whose message the
    /// frontend recognizes by its beginning ("the node has no endpoint for ", botocore/client.py names_no_endpoint) to
    /// raise what botocore raises where a service cannot be reached, as a baseline sandbox's real botocore does.
    /// </summary>
    public static ServiceEndpoint EndpointOf(NexusBackendOptions options, string service, string operation)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Services.TryGetValue(service, out var endpoint)
            ? endpoint
            : throw new ChannelRequestException(501, "NotImplemented", $"the node has no endpoint for {service} (node config: services); {service}:{operation} was not sent");
    }

    /// <summary>
    /// How long a synchronous Lambda invoke may wait for its answer: Lambda's longest function timeout (15 minutes) and a
    /// minute for the callee's start and answer. Other calls have the backend's HTTP timeout (5 minutes).
    /// </summary>
    public static readonly TimeSpan MaxInvokeWait = TimeSpan.FromMinutes(16);

    /// <summary>
    /// A permit of the backend's request budget for one call of <paramref name="function"/> (the global budget shared
    /// fairly between functions, and the per-function cap), held until disposed: the signing proxy's calls count against
    /// the same budgets as the channel's. Call <see cref="RequestPermit.Measured"/> in the flow that serves the call so
    /// its backend CPU time is charged to the function.
    /// </summary>
    public static ValueTask<RequestPermit> EnterAsync(NexusBackend backend, string function, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(backend);
        return backend.Workers.EnterAsync(function, ct);
    }

    /// <summary>
    /// Reads the action and resources from the request itself (<see cref="ServiceTarget.Resolve"/>) and checks each
    /// against <paramref name="manifest"/>'s service grants: AccessDenied naming the first one outside them.
    /// </summary>
    public static void CheckGrants(FunctionManifest manifest, ServiceRequest request, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(request);
        CheckGrants(manifest, request, ServiceTarget.Resolve(request, body));
    }

    /// <summary>Checks <paramref name="target"/>, what <paramref name="request"/> does, against the function's service grants.</summary>
    public static void CheckGrants(FunctionManifest manifest, ServiceRequest request, ServiceTarget target)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(target);
        foreach (var resource in target.Resources)
        {
            if (!ServiceTarget.Allowed(manifest, request.Service, target.Action, resource))
            {
                throw ChannelRequestException.Denied(target.Action == ServiceTarget.AnyAction
                    ? $"function {manifest.Name} may not send {request.Service}:{request.Operation}: a REST-protocol request does not name its action in a way the node reads, so only a grant of actions [\"*\"] on resource \"*\" of {request.Service} covers it"
                    : $"function {manifest.Name} may not perform {request.Service}:{target.Action} on resource {resource}");
            }
        }
    }

    /// <summary>
    /// Signs <paramref name="request"/> with the node's key for <paramref name="endpoint"/> (its own key if it has one)
    /// and sends it; the response's headers have arrived, its body streams. An unreachable endpoint is
    /// ServiceUnavailable, its address and socket error staying on the host. A Lambda Invoke waits for its callee to
    /// answer, so it waits without <paramref name="permit"/> (<see cref="RequestPermit.ReleasedWhileAsync"/>: callers
    /// waiting cannot hold every permit their callees' own calls need), on connections of its own (<see
    /// cref="NexusBackend.WaitingHttp"/>), for at most <see cref="MaxInvokeWait"/>.
    /// </summary>
    public static async Task<HttpResponseMessage> SendAsync(NexusBackend backend, ServiceRequest request, byte[] body, ServiceEndpoint endpoint, RequestPermit permit, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(permit);
        var options = backend.Options;
        using var message = ServiceSigner.Sign(
            request,
            body,
            endpoint,
            endpoint.SigningNameOf(request.Service),
            endpoint.AccessKey ?? options.AccessKey,
            endpoint.SecretKey ?? options.SecretKey,
            endpoint.Region ?? options.Region,
            DateTime.UtcNow);
        try
        {
            if (request.Service != ServiceTarget.LambdaService || request.Operation != "Invoke")
            {
                return await backend.Http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
            }

            using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct);
            wait.CancelAfter(MaxInvokeWait);
            try
            {
                return await permit.ReleasedWhileAsync(t => backend.WaitingHttp.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, t), wait.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new ChannelRequestException(504, "RequestTimeout", $"the {request.Service} endpoint did not answer {request.Service}:{request.Operation} within {MaxInvokeWait.TotalMinutes:0} minutes");
            }
        }
        catch (HttpRequestException)
        {
            // Retryable for botocore; the endpoint's address and the socket error stay on the host.
            throw new ChannelRequestException(503, "ServiceUnavailable", $"the node could not reach its {request.Service} endpoint; {request.Service}:{request.Operation} was not answered");
        }
    }
}
