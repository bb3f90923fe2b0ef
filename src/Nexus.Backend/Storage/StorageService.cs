// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net;
using Amazon.Runtime;
using Nexus.Backend.Prefetch;
using Nexus.Channel;
using Nexus.Channel.Services;
using Nexus.Functions;

namespace Nexus.Backend.Storage;

/// <summary>
/// The storage operations of one instance's channel, under its function's grants: requests bounded per instance and by
/// the backend's global budget, each routed to its handler in <see cref="StorageOperations"/>; plus the inputs
/// prefetched into this instance's slots.
/// </summary>
public sealed class StorageService : IChannelService
{
    private readonly SemaphoreSlim _inFlight;
    private readonly PrefetchSet _prefetches;

    internal StorageService(NexusBackend backend, ChannelSession session, FunctionManifest manifest)
    {
        Backend = backend;
        Session = session;
        Manifest = manifest;
        _inFlight = new SemaphoreSlim(backend.Options.MaxInFlightPerInstance);
        _prefetches = new PrefetchSet(this);
    }

    public IReadOnlyCollection<ChannelOp> Ops => StorageOperations.All.Keys;

    public FunctionManifest Manifest { get; }

    public ChannelSession Session { get; }

    internal NexusBackend Backend { get; }

    /// <summary>
    /// Starts fetching the inputs <paramref name="hints"/> name (S3 event records, the manifest's inputs) into this
    /// instance's response slots, so that the function's GetObject of them finds the bytes already there. Called when
    /// the invocation is bound to this instance, also before its sandbox has started.
    /// </summary>
    public void BeginPrefetch(PrefetchHints hints)
    {
        ArgumentNullException.ThrowIfNull(hints);
        if (Session.CloseReason is null)
        {
            _prefetches.Begin(Manifest, hints);
        }
    }

    /// <summary>The invocation ended: nothing prefetched for it is of use to the next one.</summary>
    public void EndInvocation() => _prefetches.DropAll();

    /// <summary>
    /// The largest GetObject header read on the doorbell thread to look for a prefetched answer: a bucket and a key of
    /// 1,024 bytes, JSON-escaped, fit. A larger one is read on the thread pool after the budgets, as any request, so the
    /// sandbox cannot make the thread every channel shares copy and parse megabytes.
    /// </summary>
    private const int MaxInlineGetHeaderBytes = 16 * 1024;

    public Task ServeAsync(ChannelRequest request, CancellationToken cancellationToken) =>
        request.Op == ChannelOp.GetObject && request.HeaderLength <= MaxInlineGetHeaderBytes && _prefetches.MayAnswerAtOnce
            ? ServeGetAsync(request, cancellationToken)
            : ServeOffDoorbellAsync(request, null, cancellationToken);

    /// <summary>
    /// A GetObject while something is prefetched: answered here on the doorbell thread when its copy is ready (a few
    /// microseconds: lend the slots, post the completion; not counted against the budgets), else served as any request.
    /// </summary>
    private async Task ServeGetAsync(ChannelRequest request, CancellationToken cancellationToken)
    {
        var parameters = await request.ReadParametersAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var p = parameters.RootElement;
            if (ChannelJson.OptionalString(p, "Bucket") is { } bucket
                && ChannelJson.OptionalString(p, "Key") is { } key
                && !p.TryGetProperty("Range", out _)
                && !ObjectOptions.IsConditionalRead(p)
                && StorageAuthorization.Refusal(Manifest, bucket, key, StorageAccess.Read) is null
                && Backend.WriteBack?.Find(bucket, key, withBody: false) is null
                && await _prefetches.TryAnswerAtOnceAsync(request, bucket, key, cancellationToken).ConfigureAwait(false))
            {
                parameters.Dispose();
                return;
            }
        }
        catch
        {
            parameters.Dispose();
            throw;
        }

        await ServeOffDoorbellAsync(request, parameters, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Serves a request on the thread pool; <paramref name="read"/> is its parameters when already read (then owned here).</summary>
    private async Task ServeOffDoorbellAsync(ChannelRequest request, System.Text.Json.JsonDocument? read, CancellationToken cancellationToken)
    {
        using var parameters = read;

        // Off the doorbell thread: the SDK does real work before its first wait.
        await Task.Yield();
        // Always the instance's budget, then the function's and the global one (FairShareGate): one order, no deadlock.
        await _inFlight.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await ServeWithinGlobalBudgetAsync(request, read, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _inFlight.Release();
        }
    }

    private async Task ServeWithinGlobalBudgetAsync(ChannelRequest request, System.Text.Json.JsonDocument? read, CancellationToken cancellationToken)
    {
        // Measured here, in the flow that serves the request: its CPU time is what the function is charged.
        using (var permit = (await Backend.Workers.EnterAsync(Manifest.Name, cancellationToken).ConfigureAwait(false)).Measured())
        {
            using var owned = read is null ? await request.ReadParametersAsync(cancellationToken).ConfigureAwait(false) : null;
            var parameters = read ?? owned!;
            var call = new StorageCall(this, request, parameters.RootElement, permit);
            try
            {
                await StorageOperations.All[request.Op](call, cancellationToken).ConfigureAwait(false);
            }
            catch (AmazonServiceException e) when (e.StatusCode != 0)
            {
                var status = (int)e.StatusCode;
                var code = string.IsNullOrEmpty(e.ErrorCode) ? StatusCodeName(e.StatusCode) : e.ErrorCode;
                await Session.SendAsync(request, status, ObjectOptions.ErrorJson(code, e.Message, e.RequestId, Resource(call.Parameters) ?? "/"), default, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (ChannelRequestException.In(e) is { Resource: null } refusal && Resource(call.Parameters) is { } resource)
            {
                // The backend's own refusal (grants, tag rules, checksums) names the bucket or key as storage's would.
                throw refusal.At(resource);
            }
        }
    }

    /// <summary>
    /// Answers a GetObject from an object prefetched for this instance, when one matches the request (bucket, key,
    /// no condition it cannot honour) and is still current; returns false when the store must be asked.
    /// </summary>
    internal Task<bool> TryServePrefetchedAsync(StorageCall call, string bucket, string key, CancellationToken cancellationToken) =>
        _prefetches.TryServeAsync(
            call.Request,
            bucket,
            key,
            ObjectOptions.IsConditionalRead(call.Parameters),
            cancellationToken);

    internal void MarkPrefetchStale(string bucket, string key) => _prefetches.MarkStale(bucket, key);

    /// <summary>The channel closed: prefetched slots go back, the backend forgets this instance.</summary>
    internal void Detach()
    {
        _prefetches.DropAll();
        Backend.Forget(this);
    }

    /// <summary>
    /// The path storage names in its error documents, "/bucket/key" or "/bucket"; null for a request that names no bucket
    /// (ListBuckets: "/"; a generic-path request names its own, <see cref="Services.ServiceRequests"/>). Parameters of the
    /// wrong type count as absent: this runs while another error is being answered.
    /// </summary>
    private static string? Resource(System.Text.Json.JsonElement parameters)
    {
        var bucket = Text(parameters, "Bucket");
        var key = Text(parameters, "Key");
        return bucket is null ? null : key is null ? "/" + bucket : "/" + bucket + "/" + key;

        static string? Text(System.Text.Json.JsonElement parameters, string name) =>
            parameters.ValueKind == System.Text.Json.JsonValueKind.Object && parameters.TryGetProperty(name, out var value)
                && value.ValueKind == System.Text.Json.JsonValueKind.String ? value.GetString() : null;
    }

    private static string StatusCodeName(HttpStatusCode status) => status switch
    {
        HttpStatusCode.NotFound => "404",
        HttpStatusCode.NotModified => "304",
        HttpStatusCode.PreconditionFailed => "412",
        HttpStatusCode.Forbidden => "403",
        _ => ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
