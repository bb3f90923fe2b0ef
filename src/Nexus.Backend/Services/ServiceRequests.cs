// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net.Http.Headers;
using Nexus.Backend.Storage;
using Nexus.Channel;
using Nexus.Channel.Services;
using Nexus.Functions;

namespace Nexus.Backend.Services;

/// <summary>
/// ServiceRequest, the generic path: one AWS request botocore serialized in the sandbox, unsigned. The backend checks
/// its shape (<see cref="ServiceRequest"/>), reads its action and resources from the request itself
/// (<see cref="ServiceTarget"/>), checks them against the function's service grants, signs it with the node's key for
/// the endpoint the node configures for the service (<see cref="ServiceSigner"/>), sends it, and answers with the
/// service's status, headers and body, which botocore in the sandbox parses as its own HTTP response.
/// </summary>
internal static class ServiceRequests
{
    /// <summary>Largest response body read whole when the service sends no Content-Length.</summary>
    public const int MaxUnsizedResponseBytes = 64 << 20;

    public static void Register(IDictionary<ChannelOp, StorageHandler> table) => table.Add(ChannelOp.ServiceRequest, SendAsync);

    private static async Task SendAsync(StorageCall call, CancellationToken ct)
    {
        var request = ServiceRequest.Parse(call.Parameters);
        var options = call.Backend.Options;
        var isS3 = request.Service == "s3";

        // S3 calls the fast path does not serve go to the node's own storage endpoint, with its key.
        var endpoint = isS3 ? new ServiceEndpoint { Url = options.ServiceUrl } : ServiceCalls.EndpointOf(options, request.Service, request.Operation);

        if (call.Request.BodyLength > ServiceCalls.MaxRequestBytes)
        {
            throw ChannelRequestException.Invalid($"the request body is {call.Request.BodyLength} bytes; the generic path takes at most {ServiceCalls.MaxRequestBytes} ({request.Service}:{request.Operation} was not sent)");
        }

        var body = await call.Request.ReadBodyAsync(ServiceCalls.MaxRequestBytes, ct).ConfigureAwait(false);
        S3Target? s3;
        try
        {
            s3 = isS3 ? S3Target.Authorize(call.Manifest, request, body) : null;
        }
        catch (ChannelRequestException e)
        {
            // Named by the request's decoded path, as the store's error document names it.
            throw e.At(Uri.UnescapeDataString(request.Path));
        }

        if (s3 is null)
        {
            ServiceCalls.CheckGrants(call.Manifest, request, body);
        }
        else
        {
            await FlushPendingWritesAsync(call, s3, ct).ConfigureAwait(false);
        }

        HttpResponseMessage response;
        try
        {
            response = await ServiceCalls.SendAsync(call.Backend, request, body, endpoint, call.Permit, ct).ConfigureAwait(false);
        }
        finally
        {
            // Whatever the answer, a write may have landed: prefetched copies of what it wrote are dropped.
            foreach (var written in s3?.Objects.Where(o => o.Access == StorageAccess.Write) ?? [])
            {
                call.Backend.ObjectChanged(written.Bucket, written.Key);
            }
        }

        using (response)
        {
            var header = ChannelJson.Write(w =>
            {
                w.WriteStartObject();
                w.WriteStartObject("Headers");
                foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
                {
                    if (!ServiceCalls.IsHopByHop(name))
                    {
                        w.WriteString(name.ToLowerInvariant(), string.Join(", ", values));
                    }
                }

                w.WriteEndObject();
                w.WriteEndObject();
            });
            // A HEAD answer (and a 204 or 304) announces a length it has no body for.
            var bodiless = request.Method == "HEAD" || response.StatusCode is System.Net.HttpStatusCode.NoContent or System.Net.HttpStatusCode.NotModified;
            if (bodiless)
            {
                await call.ReplyAsync((int)response.StatusCode, header, null, 0, ct).ConfigureAwait(false);
            }
            else
            {
                await ReplyAsync(call, (int)response.StatusCode, header, response.Content, ct).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Acknowledged writes still in the write-back spool land before a call that reads or overwrites them.</summary>
    internal static async Task FlushPendingWritesAsync(StorageCall call, S3Target s3, CancellationToken ct)
    {
        foreach (var touched in s3.Objects)
        {
            await call.FlushPendingWriteAsync(touched.Bucket, touched.Key, ct).ConfigureAwait(false);
        }

        if (call.Backend.WriteBack is { } writeBack)
        {
            foreach (var (bucket, prefix) in s3.Listings)
            {
                await writeBack.FlushPrefixAsync(bucket, prefix, ct).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The body streams from the service into the slots when its length is known; otherwise it is read whole first.</summary>
    private static async Task ReplyAsync(StorageCall call, int status, byte[] header, HttpContent content, CancellationToken ct)
    {
        if (content.Headers.ContentLength is { } length)
        {
            await using var stream = await content.ReadAsStreamAsync(ct).ConfigureAwait(false);
            await call.ReplyAsync(status, header, stream, length, ct).ConfigureAwait(false);
            return;
        }

        using var buffer = new MemoryStream();
        await using (var stream = await content.ReadAsStreamAsync(ct).ConfigureAwait(false))
        {
            var chunk = new byte[81920];
            int read;
            while ((read = await stream.ReadAsync(chunk, ct).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > MaxUnsizedResponseBytes)
                {
                    throw new ChannelRequestException(502, "InternalError", $"the service sent more than {MaxUnsizedResponseBytes} bytes without a Content-Length");
                }

                buffer.Write(chunk, 0, read);
            }
        }

        buffer.Position = 0;
        await call.ReplyAsync(status, header, buffer, buffer.Length, ct).ConfigureAwait(false);
    }

    /// <summary>Content headers are read from <see cref="HttpContentHeaders"/>, the rest from the response's.</summary>
    private static IEnumerable<KeyValuePair<string, IEnumerable<string>>> Concat(this HttpResponseHeaders headers, HttpContentHeaders content) =>
        headers.AsEnumerable().Concat(content);
}
