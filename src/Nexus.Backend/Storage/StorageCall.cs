// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text.Json;
using Amazon.Runtime;
using Nexus.Channel.Services;
using Nexus.Functions;

namespace Nexus.Backend.Storage;

/// <summary>Answers one storage request; registered per op in <see cref="StorageOperations"/>.</summary>
internal delegate Task StorageHandler(StorageCall call, CancellationToken cancellationToken);

/// <summary>One storage request being served: who asked (the instance's service and grants), its parameters, and how to answer.</summary>
internal sealed class StorageCall(StorageService service, ChannelRequest request, JsonElement parameters, RequestPermit permit)
{
    public StorageService Service { get; } = service;

    public ChannelRequest Request { get; } = request;

    /// <summary>The request's JSON header (boto3 parameter names), an object.</summary>
    public JsonElement Parameters { get; } = parameters;

    public NexusBackend Backend => Service.Backend;

    /// <summary>The request's permit of the backend's budgets, held while it is served.</summary>
    public RequestPermit Permit { get; } = permit;

    public FunctionManifest Manifest => Service.Manifest;

    /// <summary>An acknowledged write of the key still in the write-back spool lands first (nothing may overtake it).</summary>
    public Task FlushPendingWriteAsync(string bucket, string key, CancellationToken cancellationToken) =>
        Backend.WriteBack?.FlushAsync(bucket, key, cancellationToken) ?? Task.CompletedTask;

    /// <summary>Answers with a JSON header and a body read from <paramref name="body"/> straight into the slots (or none).</summary>
    public Task ReplyAsync(int status, ReadOnlyMemory<byte> header, Stream? body, long bodyLength, CancellationToken cancellationToken) =>
        Request.Session.SendStreamAsync(Request, status, header, body, bodyLength, cancellationToken);

    public Task ReplyJsonAsync(int status, Action<Utf8JsonWriter> write, CancellationToken cancellationToken) =>
        Request.Session.SendJsonAsync(Request, status, write, cancellationToken);

    /// <summary>Answers with the store's status and nothing but its request id (deletes, aborts, bucket heads).</summary>
    public Task ReplyRequestIdAsync(AmazonWebServiceResponse response, CancellationToken cancellationToken) =>
        ReplyJsonAsync(
            (int)response.HttpStatusCode,
            w =>
            {
                w.WriteStartObject();
                ObjectOptions.WriteRequestId(w, response);
                w.WriteEndObject();
            },
            cancellationToken);
}
