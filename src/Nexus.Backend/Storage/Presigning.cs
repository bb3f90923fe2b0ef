// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text.Json;
using Amazon.S3;
using Amazon.S3.Model;
using Nexus.Backend.Services;
using Nexus.Channel;
using Nexus.Channel.Services;
using Nexus.Functions;

namespace Nexus.Backend.Storage;

/// <summary>
/// GeneratePresignedUrl: the sandbox holds no credentials, so the backend signs (SigV4 query authentication, the SDK's
/// signer) a URL for the node's storage endpoint, for a client outside the node, after checking that the function's
/// grants allow that operation on that key. The URL carries the node's credentials for exactly that request, until it
/// expires (at most 7 days, SigV4's limit). Operation PostObject signs a browser-form upload instead (<see cref="PresignedPost"/>);
/// a ServiceRequest of another service and a DbAuthToken are <see cref="ServicePresigning"/>'s.
/// </summary>
internal static class Presigning
{
    private const int MaxExpiresSeconds = 7 * 24 * 3600;

    /// <summary>The Operation that presigns a generic-path request (<see cref="PresignServiceRequestAsync"/>).</summary>
    private const string ServiceRequestOperation = "ServiceRequest";

    public static void Register(IDictionary<ChannelOp, StorageHandler> table) => table.Add(ChannelOp.GeneratePresignedUrl, PresignAsync);

    private static async Task PresignAsync(StorageCall call, CancellationToken ct)
    {
        var p = call.Parameters;
        var operation = ChannelJson.RequiredString(p, "Operation");
        if (operation == PresignedPost.Operation)
        {
            var (postBucket, keyOrPrefix, isPrefix) = PresignedPost.Authorize(call.Manifest, p);
            await FlushPendingWritesAsync(call, postBucket, (keyOrPrefix, isPrefix), ct).ConfigureAwait(false);
            var (postUrl, fields) = PresignedPost.Sign(call.Manifest, call.Backend.Options, p, ExpiresIn(p), DateTime.UtcNow);
            await call.ReplyJsonAsync(
                200,
                w =>
                {
                    w.WriteStartObject();
                    w.WriteString("Url", postUrl);
                    w.WriteStartObject("Fields");
                    foreach (var (name, value) in fields)
                    {
                        w.WriteString(name, value);
                    }

                    w.WriteEndObject();
                    w.WriteEndObject();
                },
                ct).ConfigureAwait(false);
            return;
        }

        if (operation == ServiceRequestOperation)
        {
            await PresignServiceRequestAsync(call, p, ct).ConfigureAwait(false);
            return;
        }

        if (operation == ServicePresigning.DbAuthTokenOperation)
        {
            await ReplyUrlAsync(call, ServicePresigning.DbAuthToken(call.Manifest, call.Backend.Options, p, DateTime.UtcNow), ct).ConfigureAwait(false);
            return;
        }

        var bucket = ChannelJson.RequiredString(p, "Bucket");
        var key = ChannelJson.RequiredString(p, "Key");
        var (verb, access) = operation switch
        {
            "GetObject" => (HttpVerb.GET, StorageAccess.Read),
            "HeadObject" => (HttpVerb.HEAD, StorageAccess.Read),
            "PutObject" or "UploadPart" => (HttpVerb.PUT, StorageAccess.Write),
            "DeleteObject" => (HttpVerb.DELETE, StorageAccess.Write),
            _ => throw ChannelRequestException.Invalid($"GeneratePresignedUrl signs GetObject, HeadObject, PutObject, UploadPart, DeleteObject, PostObject, ServiceRequest or DbAuthToken, not {StorageAuthorization.Quote(operation)}"),
        };
        StorageAuthorization.Authorize(call.Manifest, bucket, key, access);
        var expiresIn = ExpiresIn(p);
        await FlushPendingWritesAsync(call, bucket, (key, false), ct).ConfigureAwait(false);

        var presign = new GetPreSignedUrlRequest
        {
            BucketName = bucket,
            Key = key,
            Verb = verb,
            Expires = DateTime.UtcNow.AddSeconds(expiresIn),
            Protocol = call.Backend.Options.ServiceUrl.StartsWith("http:", StringComparison.OrdinalIgnoreCase) ? Protocol.HTTP : Protocol.HTTPS,
        };
        if (operation == "UploadPart")
        {
            presign.UploadId = ObjectOptions.HeaderValue(p, "UploadId") ?? throw ChannelRequestException.Invalid("UploadPart needs UploadId");
            presign.PartNumber = ChannelJson.OptionalInt(p, "PartNumber") is { } n and >= 1 and <= 10_000 ? n : throw ChannelRequestException.Invalid("UploadPart needs a PartNumber in [1, 10000]");
        }

        if (operation == "GetObject")
        {
            ObjectOptions.ApplyOverrides(presign.ResponseHeaderOverrides, p);
        }

        if (operation is "GetObject" or "HeadObject")
        {
            ObjectOptions.ApplyPresignedRead(presign, p);
        }

        if (operation == "PutObject")
        {
            ObjectOptions.ApplyPresignedPut(presign, p);
        }

        if (operation is "PutObject" or "UploadPart")
        {
            ObjectOptions.ApplyPresignedIntegrity(presign, p);
        }

        var url = await call.Backend.S3.GetPreSignedURLAsync(presign).ConfigureAwait(false);
        if (SignedExpiresIn(url) is { } signed && signed != expiresIn)
        {
            // The SDK writes X-Amz-Expires as Expires minus its own endpoint clock (corrected by the skew it learned
            // from the store's whole-second Date headers), rounded: against the embedded store that came out one
            // second longer than asked (found by the corpus, CorpusTests). boto3 writes ExpiresIn exactly; so does this.
            presign.Expires = presign.Expires!.Value.AddSeconds(expiresIn - signed);
            url = await call.Backend.S3.GetPreSignedURLAsync(presign).ConfigureAwait(false);
        }

        await ReplyUrlAsync(call, url, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Any other request botocore serialized in the sandbox (Request: {Service, Operation, Method, Path with its query,
    /// Headers}, as the generic path carries it), presigned. One of another service is <see cref="ServicePresigning"/>'s
    /// (optional Region: the region signed for). An S3 request is checked against the grants as the generic path checks
    /// it (a body is not signed, so a request whose body names what it touches is refused), the acknowledged writes it
    /// reads or overwrites landed first, then signed for the node's storage endpoint (<see cref="ServiceSigner.Presign"/>).
    /// </summary>
    private static async Task PresignServiceRequestAsync(StorageCall call, JsonElement p, CancellationToken ct)
    {
        if (!p.TryGetProperty("Request", out var serialized) || serialized.ValueKind != JsonValueKind.Object)
        {
            throw ChannelRequestException.Invalid("GeneratePresignedUrl of a ServiceRequest needs Request, an object");
        }

        var request = ServiceRequest.Parse(serialized);
        var expiresIn = ExpiresIn(p);
        if (request.Service != "s3")
        {
            var region = ChannelJson.OptionalString(p, "Region") is { } given ? ServicePresigning.CheckedRegion(given) : null;
            await ReplyUrlAsync(call, ServicePresigning.Presign(call.Manifest, call.Backend.Options, request, region, expiresIn, DateTime.UtcNow), ct).ConfigureAwait(false);
            return;
        }

        S3Target target;
        try
        {
            target = S3Target.AuthorizePresigned(call.Manifest, request);
        }
        catch (ChannelRequestException e)
        {
            throw e.At(Uri.UnescapeDataString(request.Path));
        }

        await ServiceRequests.FlushPendingWritesAsync(call, target, ct).ConfigureAwait(false);
        var options = call.Backend.Options;
        var url = ServiceSigner.Presign(request, options.ServiceUrl, "s3", options.AccessKey, options.SecretKey, options.Region, DateTime.UtcNow, expiresIn);
        await ReplyUrlAsync(call, url, ct).ConfigureAwait(false);
    }

    private static Task ReplyUrlAsync(StorageCall call, string url, CancellationToken ct) =>
        call.ReplyJsonAsync(
            200,
            w =>
            {
                w.WriteStartObject();
                w.WriteString("Url", url);
                w.WriteEndObject();
            },
            ct);

    /// <summary>
    /// Acknowledged writes of the URL's key (a form upload's key prefix) still in the write-back spool land before the
    /// URL is handed out. Its holder acts on storage directly, outside the node: a read would otherwise answer an older
    /// object or NoSuchKey, and a write (or delete) could be overtaken by the older spooled write landing after it.
    /// </summary>
    private static Task FlushPendingWritesAsync(StorageCall call, string bucket, (string KeyOrPrefix, bool IsPrefix) target, CancellationToken ct) =>
        call.Backend.WriteBack is not { } writeBack ? Task.CompletedTask
        : target.IsPrefix ? writeBack.FlushPrefixAsync(bucket, target.KeyOrPrefix, ct)
        : writeBack.FlushAsync(bucket, target.KeyOrPrefix, ct);

    private static int ExpiresIn(JsonElement p)
    {
        var expiresIn = ChannelJson.OptionalInt(p, "ExpiresIn") ?? 3600;
        return expiresIn is >= 1 and <= MaxExpiresSeconds
            ? expiresIn
            : throw ChannelRequestException.Invalid($"ExpiresIn must be 1 to {MaxExpiresSeconds} seconds (SigV4's limit), got {expiresIn}");
    }

    /// <summary>The X-Amz-Expires the SDK signed into <paramref name="url"/> (null: none, or not a number).</summary>
    private static long? SignedExpiresIn(string url)
    {
        const string Name = "X-Amz-Expires=";
        var found = url.IndexOf(Name, StringComparison.Ordinal);
        if (found < 0)
        {
            return null;
        }

        var at = found + Name.Length;
        var end = at;
        while (end < url.Length && char.IsAsciiDigit(url[end]))
        {
            end++;
        }

        return long.TryParse(url.AsSpan(at, end - at), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds) ? seconds : null;
    }
}
