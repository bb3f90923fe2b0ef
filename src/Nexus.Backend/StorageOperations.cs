// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net;
using System.Text;
using System.Text.Json;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Nexus.Backend.WriteBack;
using Nexus.Channel;
using Nexus.Functions;

namespace Nexus.Backend;

/// <summary>
/// The S3 operations of the channel: parameters (boto3 names) are validated and checked against the function's grants
/// before any storage call; results are written back as boto3-shaped meta JSON plus the body.
/// </summary>
internal static class StorageOperations
{
    public static async Task ExecuteAsync(InstanceSession session, NexusBackend backend, InboundRequest request, JsonElement p, CancellationToken ct)
    {
        if (p.ValueKind != JsonValueKind.Object)
        {
            throw RequestException.Invalid("request parameters must be a JSON object");
        }

        try
        {
            switch (request.Op)
            {
                case ChannelOp.GetObject:
                    await GetObjectAsync(session, backend, request, p, ct).ConfigureAwait(false);
                    break;
                case ChannelOp.HeadObject:
                    await HeadObjectAsync(session, backend, request, p, ct).ConfigureAwait(false);
                    break;
                case ChannelOp.PutObject:
                    await PutObjectAsync(session, backend, request, p, ct).ConfigureAwait(false);
                    break;
                case ChannelOp.DeleteObject:
                    await DeleteObjectAsync(session, backend, request, p, ct).ConfigureAwait(false);
                    break;
                case ChannelOp.DeleteObjects:
                    await DeleteObjectsAsync(session, backend, request, p, ct).ConfigureAwait(false);
                    break;
                case ChannelOp.ListObjectsV2:
                    await ListObjectsV2Async(session, backend, request, p, ct).ConfigureAwait(false);
                    break;
                default:
                    await CopyObjectAsync(session, backend, request, p, ct).ConfigureAwait(false);
                    break;
            }
        }
        catch (AmazonServiceException e) when (e.StatusCode != 0)
        {
            var status = (int)e.StatusCode;
            var code = string.IsNullOrEmpty(e.ErrorCode) ? StatusCodeName(e.StatusCode) : e.ErrorCode;
            await session.SendErrorAsync(request, status, code, e.Message, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Checks bucket and key shape and the function's grant; throws AccessDenied/InvalidRequest otherwise.</summary>
    internal static void Authorize(FunctionManifest manifest, string bucket, string key, StorageAccess access, bool keyIsPrefix = false)
    {
        CheckBucket(bucket);
        CheckKey(key, allowEmpty: keyIsPrefix);
        if (!manifest.Allows(bucket, key, access))
        {
            var verb = access == StorageAccess.Read ? "read" : "write";
            throw RequestException.Denied($"function {manifest.Name} may not {verb} {bucket}/{key}");
        }
    }

    private static void CheckBucket(string bucket)
    {
        if (bucket.Length is < 3 or > 63 || !bucket.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '.'))
        {
            throw new RequestException(400, "InvalidBucketName", $"bucket name {Quote(bucket)} is not a valid S3 bucket name");
        }
    }

    private static void CheckKey(string key, bool allowEmpty)
    {
        if (key.Length == 0 && !allowEmpty)
        {
            throw new RequestException(400, "InvalidArgument", "object key is empty");
        }

        if (Encoding.UTF8.GetByteCount(key) > 1024)
        {
            throw new RequestException(400, "KeyTooLongError", "object key is longer than 1024 bytes");
        }

        if (key.Any(char.IsControl))
        {
            throw new RequestException(400, "InvalidArgument", $"object key {Quote(key)} contains a control character");
        }

        // HTTP stacks normalise "." and ".." path segments, which would move a request outside the prefix it was
        // authorised for; keys with such segments are refused outright.
        foreach (var segment in key.Split('/'))
        {
            if (segment is "." or "..")
            {
                throw RequestException.Denied($"object key {Quote(key)} has a '{segment}' path segment");
            }
        }
    }

    private static Task FlushAsync(NexusBackend backend, string bucket, string key, CancellationToken ct) =>
        backend.WriteBack?.FlushAsync(bucket, key, ct) ?? Task.CompletedTask;

    /// <summary>
    /// Read-your-writes: a key with an acknowledged write still on its way to storage is answered from the spool.
    /// Requests the spool cannot answer itself (ranges, conditions) wait for that upload and then go to the store.
    /// </summary>
    private static async Task<bool> ServeFromSpoolAsync(InstanceSession session, NexusBackend backend, InboundRequest request, string bucket, string key, bool withBody, bool plain, CancellationToken ct)
    {
        if (backend.WriteBack is not { } writeBack)
        {
            return false;
        }

        (SpoolRecord Record, string Path) pending;
        Stream? body;
        while (true)
        {
            if (writeBack.Find(bucket, key) is not { } found)
            {
                return false;
            }

            if (!plain)
            {
                await writeBack.FlushAsync(bucket, key, ct).ConfigureAwait(false);
                return false;
            }

            try
            {
                body = withBody ? SpoolFile.OpenBody(found.Path, found.Record.Length) : null;
                pending = found;
                break;
            }
            catch (FileNotFoundException)
            {
                // Uploaded (the store has it) or replaced by a newer write just now: a file is removed only after the
                // queue stopped naming it, so looking again converges.
            }
        }

        await using (body)
        {
            var record = pending.Record;
            var meta = Json.Write(w =>
            {
                w.WriteStartObject();
                w.WriteNumber("ContentLength", record.Length);
                Json.WriteIfPresent(w, "ContentType", record.ContentType ?? "binary/octet-stream");
                w.WriteString("ETag", record.ETag);
                Json.WriteTimestamp(w, "LastModified", record.AcknowledgedAt.UtcDateTime);
                w.WriteString("AcceptRanges", "bytes");
                w.WriteStartObject("Metadata");
                foreach (var (name, value) in record.Metadata)
                {
                    w.WriteString(name, value);
                }

                w.WriteEndObject();
                w.WriteEndObject();
            });
            await session.SendAsync(request, 200, meta, default, body, withBody ? record.Length : 0, ct).ConfigureAwait(false);
        }

        return true;
    }

    private static string Quote(string s) => s.Length > 80 ? $"\"{s[..80]}…\"" : $"\"{s}\"";

    private static string StatusCodeName(HttpStatusCode status) => status switch
    {
        HttpStatusCode.NotFound => "404",
        HttpStatusCode.NotModified => "304",
        HttpStatusCode.PreconditionFailed => "412",
        HttpStatusCode.Forbidden => "403",
        _ => ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private static async Task GetObjectAsync(InstanceSession session, NexusBackend backend, InboundRequest request, JsonElement p, CancellationToken ct)
    {
        var s3 = backend.S3;
        var bucket = Json.RequiredString(p, "Bucket");
        var key = Json.RequiredString(p, "Key");
        Authorize(session.Manifest, bucket, key, StorageAccess.Read);
        var range = Json.OptionalString(p, "Range");
        var conditional = Json.OptionalString(p, "IfMatch") is not null || Json.OptionalString(p, "IfNoneMatch") is not null;
        if (await ServeFromSpoolAsync(session, backend, request, bucket, key, withBody: true, plain: range is null && !conditional, ct).ConfigureAwait(false))
        {
            return;
        }

        if (range is null && await session.TryServePrefetchedAsync(request, bucket, key, p, ct).ConfigureAwait(false))
        {
            return;
        }

        var get = new GetObjectRequest
        {
            BucketName = bucket,
            Key = key,
            EtagToMatch = Json.OptionalString(p, "IfMatch"),
            EtagToNotMatch = Json.OptionalString(p, "IfNoneMatch"),
        };
        if (range is not null)
        {
            get.ByteRange = new ByteRange(range);
        }

        using var response = await s3.GetObjectAsync(get, ct).ConfigureAwait(false);
        var meta = ObjectMetaJson(response);
        await using var body = VerifiedBody.Of(response, ranged: range is not null, backend.Options.VerifyBodies);
        await session.SendAsync(request, (int)response.HttpStatusCode, meta, default, body, response.Headers.ContentLength, ct).ConfigureAwait(false);
    }

    private static async Task HeadObjectAsync(InstanceSession session, NexusBackend backend, InboundRequest request, JsonElement p, CancellationToken ct)
    {
        var s3 = backend.S3;
        var bucket = Json.RequiredString(p, "Bucket");
        var key = Json.RequiredString(p, "Key");
        Authorize(session.Manifest, bucket, key, StorageAccess.Read);
        var conditional = Json.OptionalString(p, "IfMatch") is not null || Json.OptionalString(p, "IfNoneMatch") is not null;
        if (await ServeFromSpoolAsync(session, backend, request, bucket, key, withBody: false, plain: !conditional, ct).ConfigureAwait(false))
        {
            return;
        }

        var head = new GetObjectMetadataRequest
        {
            BucketName = bucket,
            Key = key,
            EtagToMatch = Json.OptionalString(p, "IfMatch"),
            EtagToNotMatch = Json.OptionalString(p, "IfNoneMatch"),
        };
        var response = await s3.GetObjectMetadataAsync(head, ct).ConfigureAwait(false);
        var meta = Json.Write(w => WriteObjectMeta(w, response.Headers, response.Metadata, response.ETag, response.LastModified, null, response.AcceptRanges, response.VersionId));
        await session.SendAsync(request, (int)response.HttpStatusCode, meta, default, null, 0, ct).ConfigureAwait(false);
    }

    /// <summary>The boto3-shaped response header of a GetObject.</summary>
    internal static byte[] ObjectMetaJson(GetObjectResponse response) =>
        Json.Write(w => WriteObjectMeta(w, response.Headers, response.Metadata, response.ETag, response.LastModified, response.ContentRange, response.AcceptRanges, response.VersionId));

    private static void WriteObjectMeta(Utf8JsonWriter w, HeadersCollection headers, MetadataCollection metadata, string? etag, DateTime? lastModified, string? contentRange, string? acceptRanges, string? versionId)
    {
        w.WriteStartObject();
        w.WriteNumber("ContentLength", headers.ContentLength);
        Json.WriteIfPresent(w, "ContentType", headers.ContentType);
        Json.WriteIfPresent(w, "ETag", etag);
        Json.WriteTimestamp(w, "LastModified", lastModified);
        Json.WriteIfPresent(w, "ContentRange", contentRange);
        Json.WriteIfPresent(w, "AcceptRanges", acceptRanges ?? "bytes");
        Json.WriteIfPresent(w, "VersionId", versionId);
        Json.WriteIfPresent(w, "ContentEncoding", headers.ContentEncoding);
        Json.WriteIfPresent(w, "CacheControl", headers.CacheControl);
        Json.WriteIfPresent(w, "ContentDisposition", headers.ContentDisposition);
        w.WriteStartObject("Metadata");
        foreach (var name in metadata.Keys)
        {
            var shortName = name.StartsWith("x-amz-meta-", StringComparison.OrdinalIgnoreCase) ? name["x-amz-meta-".Length..] : name;
            w.WriteString(shortName, metadata[name]);
        }

        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static async Task PutObjectAsync(InstanceSession session, NexusBackend backend, InboundRequest request, JsonElement p, CancellationToken ct)
    {
        var s3 = backend.S3;
        var bucket = Json.RequiredString(p, "Bucket");
        var key = Json.RequiredString(p, "Key");
        Authorize(session.Manifest, bucket, key, StorageAccess.Write);
        var contentType = Json.OptionalString(p, "ContentType");
        var metadata = Json.OptionalStringMap(p, "Metadata").ToDictionary(StringComparer.Ordinal);
        if (session.Manifest.WriteBack == WriteBackMode.Async && backend.WriteBack is { } writeBack
            && await writeBack.AcceptAsync(bucket, key, contentType, metadata, request.OpenBody(ct), (long)request.BodyLength, ct).ConfigureAwait(false) is { } spooled)
        {
            // Durable in the spool: acknowledged now, uploaded after (the invocation does not wait for storage).
            await session.SendJsonAsync(
                request,
                200,
                w =>
                {
                    w.WriteStartObject();
                    w.WriteString("ETag", spooled.ETag);
                    w.WriteEndObject();
                },
                ct).ConfigureAwait(false);
            return;
        }

        var put = new PutObjectRequest
        {
            BucketName = bucket,
            Key = key,
            // The body is read in place from the shared region, once, as the SDK uploads it.
            InputStream = request.OpenBody(ct),
            AutoCloseStream = false,
            AutoResetStreamPosition = false,
            ContentType = contentType,

            // The SDK's managed MD5 of the body cost more CPU than the rest of the backend; the signed aws-chunked
            // payload already lets the store verify every byte.
            DisableDefaultChecksumValidation = true,
        };
        put.Headers.ContentLength = (long)request.BodyLength;
        foreach (var (name, value) in metadata)
        {
            put.Metadata.Add(name, value);
        }

        // An older spooled write of the key must not land after this one.
        await FlushAsync(backend, bucket, key, ct).ConfigureAwait(false);
        var response = await s3.PutObjectAsync(put, ct).ConfigureAwait(false);
        backend.ObjectChanged(bucket, key);
        await session.SendJsonAsync(
            request,
            200,
            w =>
            {
                w.WriteStartObject();
                Json.WriteIfPresent(w, "ETag", response.ETag);
                Json.WriteIfPresent(w, "VersionId", response.VersionId);
                w.WriteEndObject();
            },
            ct).ConfigureAwait(false);
    }

    private static async Task DeleteObjectAsync(InstanceSession session, NexusBackend backend, InboundRequest request, JsonElement p, CancellationToken ct)
    {
        var s3 = backend.S3;
        var bucket = Json.RequiredString(p, "Bucket");
        var key = Json.RequiredString(p, "Key");
        Authorize(session.Manifest, bucket, key, StorageAccess.Write);
        await FlushAsync(backend, bucket, key, ct).ConfigureAwait(false);
        var response = await s3.DeleteObjectAsync(new DeleteObjectRequest { BucketName = bucket, Key = key }, ct).ConfigureAwait(false);
        backend.ObjectChanged(bucket, key);
        await session.SendJsonAsync(
            request,
            (int)response.HttpStatusCode,
            w =>
            {
                w.WriteStartObject();
                w.WriteEndObject();
            },
            ct).ConfigureAwait(false);
    }

    private static async Task DeleteObjectsAsync(InstanceSession session, NexusBackend backend, InboundRequest request, JsonElement p, CancellationToken ct)
    {
        var s3 = backend.S3;
        var bucket = Json.RequiredString(p, "Bucket");
        CheckBucket(bucket);
        if (!p.TryGetProperty("Delete", out var delete) || delete.ValueKind != JsonValueKind.Object
            || !delete.TryGetProperty("Objects", out var objects) || objects.ValueKind != JsonValueKind.Array)
        {
            throw RequestException.Invalid("parameter Delete must be an object with an Objects array");
        }

        if (objects.GetArrayLength() > 1000)
        {
            throw new RequestException(400, "MalformedXML", "DeleteObjects takes at most 1000 keys");
        }

        var quiet = Json.OptionalBool(delete, "Quiet");
        var allowed = new List<KeyVersion>();
        var denied = new List<(string Key, string Code, string Message)>();
        foreach (var o in objects.EnumerateArray())
        {
            if (o.ValueKind != JsonValueKind.Object)
            {
                throw RequestException.Invalid("each Delete.Objects entry must be an object with a Key");
            }

            var key = Json.RequiredString(o, "Key");
            try
            {
                Authorize(session.Manifest, bucket, key, StorageAccess.Write);
                allowed.Add(new KeyVersion { Key = key });
            }
            catch (RequestException e)
            {
                denied.Add((key, e.Code, e.Message));
            }
        }

        var deleted = new List<string>();
        if (allowed.Count > 0)
        {
            foreach (var k in allowed)
            {
                await FlushAsync(backend, bucket, k.Key, ct).ConfigureAwait(false);
            }

            var response = await s3.DeleteObjectsAsync(new DeleteObjectsRequest { BucketName = bucket, Objects = allowed, Quiet = quiet }, ct).ConfigureAwait(false);
            deleted.AddRange((response.DeletedObjects ?? []).Select(d => d.Key));
            foreach (var k in allowed)
            {
                backend.ObjectChanged(bucket, k.Key);
            }

            denied.AddRange((response.DeleteErrors ?? []).Select(e => (e.Key, e.Code, e.Message)));
        }

        await session.SendJsonAsync(
            request,
            200,
            w =>
            {
                w.WriteStartObject();
                if (!quiet)
                {
                    w.WriteStartArray("Deleted");
                    foreach (var key in deleted)
                    {
                        w.WriteStartObject();
                        w.WriteString("Key", key);
                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                }

                w.WriteStartArray("Errors");
                foreach (var (key, code, message) in denied)
                {
                    w.WriteStartObject();
                    w.WriteString("Key", key);
                    w.WriteString("Code", code);
                    w.WriteString("Message", message);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteEndObject();
            },
            ct).ConfigureAwait(false);
    }

    private static async Task ListObjectsV2Async(InstanceSession session, NexusBackend backend, InboundRequest request, JsonElement p, CancellationToken ct)
    {
        var s3 = backend.S3;
        var bucket = Json.RequiredString(p, "Bucket");
        var prefix = Json.OptionalString(p, "Prefix") ?? string.Empty;
        Authorize(session.Manifest, bucket, prefix, StorageAccess.Read, keyIsPrefix: true);
        if (backend.WriteBack is { } writeBack)
        {
            // Listings include every acknowledged write.
            await writeBack.FlushPrefixAsync(bucket, prefix, ct).ConfigureAwait(false);
        }

        var list = new ListObjectsV2Request
        {
            BucketName = bucket,
            Prefix = prefix,
            Delimiter = Json.OptionalString(p, "Delimiter"),
            ContinuationToken = Json.OptionalString(p, "ContinuationToken"),
            StartAfter = Json.OptionalString(p, "StartAfter"),
        };
        if (Json.OptionalInt(p, "MaxKeys") is { } maxKeys)
        {
            list.MaxKeys = Math.Clamp(maxKeys, 0, 1000);
        }

        var response = await s3.ListObjectsV2Async(list, ct).ConfigureAwait(false);
        await session.SendJsonAsync(
            request,
            200,
            w =>
            {
                w.WriteStartObject();
                w.WriteString("Name", bucket);
                w.WriteString("Prefix", prefix);
                Json.WriteIfPresent(w, "Delimiter", list.Delimiter);
                w.WriteNumber("MaxKeys", response.MaxKeys ?? 1000);
                w.WriteNumber("KeyCount", response.KeyCount ?? 0);
                w.WriteBoolean("IsTruncated", response.IsTruncated ?? false);
                Json.WriteIfPresent(w, "ContinuationToken", list.ContinuationToken);
                Json.WriteIfPresent(w, "NextContinuationToken", response.NextContinuationToken);
                Json.WriteIfPresent(w, "StartAfter", list.StartAfter);
                if (response.S3Objects is { Count: > 0 } objects)
                {
                    w.WriteStartArray("Contents");
                    foreach (var o in objects)
                    {
                        w.WriteStartObject();
                        w.WriteString("Key", o.Key);
                        Json.WriteTimestamp(w, "LastModified", o.LastModified);
                        Json.WriteIfPresent(w, "ETag", o.ETag);
                        w.WriteNumber("Size", o.Size ?? 0);
                        w.WriteString("StorageClass", o.StorageClass?.Value ?? "STANDARD");
                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                }

                if (response.CommonPrefixes is { Count: > 0 } prefixes)
                {
                    w.WriteStartArray("CommonPrefixes");
                    foreach (var cp in prefixes)
                    {
                        w.WriteStartObject();
                        w.WriteString("Prefix", cp);
                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                }

                w.WriteEndObject();
            },
            ct).ConfigureAwait(false);
    }

    private static async Task CopyObjectAsync(InstanceSession session, NexusBackend backend, InboundRequest request, JsonElement p, CancellationToken ct)
    {
        var s3 = backend.S3;
        var bucket = Json.RequiredString(p, "Bucket");
        var key = Json.RequiredString(p, "Key");
        if (!p.TryGetProperty("CopySource", out var source))
        {
            throw RequestException.Invalid("missing required parameter CopySource");
        }

        string sourceBucket, sourceKey;
        if (source.ValueKind == JsonValueKind.Object)
        {
            sourceBucket = Json.RequiredString(source, "Bucket");
            sourceKey = Json.RequiredString(source, "Key");
        }
        else if (source.ValueKind == JsonValueKind.String)
        {
            var text = Uri.UnescapeDataString(source.GetString()!.TrimStart('/'));
            var slash = text.IndexOf('/', StringComparison.Ordinal);
            if (slash <= 0)
            {
                throw RequestException.Invalid($"CopySource {Quote(text)} is not of the form bucket/key");
            }

            sourceBucket = text[..slash];
            sourceKey = text[(slash + 1)..];
        }
        else
        {
            throw RequestException.Invalid("CopySource must be {Bucket, Key} or \"bucket/key\"");
        }

        Authorize(session.Manifest, sourceBucket, sourceKey, StorageAccess.Read);
        Authorize(session.Manifest, bucket, key, StorageAccess.Write);
        var copy = new CopyObjectRequest
        {
            SourceBucket = sourceBucket,
            SourceKey = sourceKey,
            DestinationBucket = bucket,
            DestinationKey = key,
            ContentType = Json.OptionalString(p, "ContentType"),
        };
        if (Json.OptionalString(p, "MetadataDirective") is { } directive)
        {
            copy.MetadataDirective = directive switch
            {
                "COPY" => S3MetadataDirective.COPY,
                "REPLACE" => S3MetadataDirective.REPLACE,
                _ => throw RequestException.Invalid($"MetadataDirective must be COPY or REPLACE, got {Quote(directive)}"),
            };
        }

        foreach (var (name, value) in Json.OptionalStringMap(p, "Metadata"))
        {
            copy.Metadata.Add(name, value);
        }

        await FlushAsync(backend, sourceBucket, sourceKey, ct).ConfigureAwait(false);
        await FlushAsync(backend, bucket, key, ct).ConfigureAwait(false);
        var response = await s3.CopyObjectAsync(copy, ct).ConfigureAwait(false);
        backend.ObjectChanged(bucket, key);
        await session.SendJsonAsync(
            request,
            200,
            w =>
            {
                w.WriteStartObject();
                w.WriteStartObject("CopyObjectResult");
                Json.WriteIfPresent(w, "ETag", response.ETag);
                Json.WriteIfPresent(w, "LastModified", response.LastModified);
                w.WriteEndObject();
                w.WriteEndObject();
            },
            ct).ConfigureAwait(false);
    }
}
