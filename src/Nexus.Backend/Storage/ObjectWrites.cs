// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text.Json;
using Amazon.S3;
using Amazon.S3.Model;
using Nexus.Backend.WriteBack;
using Nexus.Channel;
using Nexus.Channel.Services;
using Nexus.Functions;

namespace Nexus.Backend.Storage;

/// <summary>
/// PutObject, DeleteObject, DeleteObjects and CopyObject. A write first flushes an older spooled write of the same key
/// (it must not land after this one) and afterwards tells the backend, which drops prefetched copies.
/// </summary>
internal static class ObjectWrites
{
    public static void Register(IDictionary<ChannelOp, StorageHandler> table)
    {
        table.Add(ChannelOp.PutObject, PutObjectAsync);
        table.Add(ChannelOp.DeleteObject, DeleteObjectAsync);
        table.Add(ChannelOp.DeleteObjects, DeleteObjectsAsync);
        table.Add(ChannelOp.CopyObject, CopyObjectAsync);
    }

    /// <summary>
    /// The body of an upload the SDK sends now. With aws-chunked uploads it is read in place from the shared region,
    /// once, as the SDK sends it. A store without them needs the whole body hashed before it is sent, which reads it
    /// twice: it is copied out of the region first, so the sandbox cannot change it between the two reads.
    /// </summary>
    internal static async Task<Stream> UploadBodyAsync(StorageCall call, CancellationToken ct)
    {
        var body = call.Request.OpenBody(ct);
        if (call.Backend.Options.ChunkedUploads)
        {
            return body;
        }

        await using (body.ConfigureAwait(false))
        {
            var copy = new MemoryStream(checked((int)call.Request.BodyLength));
            await body.CopyToAsync(copy, ct).ConfigureAwait(false);
            copy.Position = 0;
            return copy;
        }
    }

    private static async Task PutObjectAsync(StorageCall call, CancellationToken ct)
    {
        var backend = call.Backend;
        var request = call.Request;
        var p = call.Parameters;
        var s3 = call.Backend.S3;
        var bucket = ChannelJson.RequiredString(p, "Bucket");
        var key = ChannelJson.RequiredString(p, "Key");
        StorageAuthorization.Authorize(call.Manifest, bucket, key, StorageAccess.Write);
        var contentType = ObjectOptions.ContentType(p);
        var metadata = ObjectOptions.Metadata(p).ToDictionary(StringComparer.Ordinal);
        var checksum = ObjectOptions.PutChecksum(p);
        // A put to a bucket storage says is missing goes to storage now, which refuses it in its own words: spooled, it
        // would be acknowledged and never land.
        if (call.Manifest.WriteBack == WriteBackMode.Async && backend.WriteBack is { } writeBack && !ObjectOptions.HasPutOptions(p)
            && !await backend.Buckets.IsMissingAsync(bucket, ct).ConfigureAwait(false)
            && await SpoolAsync(writeBack, new JournalMeta(bucket, key, contentType, metadata, checksum), request.OpenBody(ct), (long)request.BodyLength, ct).ConfigureAwait(false) is { } spooled)
        {
            // Durable in the spool: acknowledged now, uploaded after (the invocation does not wait for storage).
            await call.ReplyJsonAsync(
            200,
                w =>
                {
                    w.WriteStartObject();
                    w.WriteString("ETag", spooled.ETag);
                    if (spooled.Checksum is { } kept)
                    {
                        // As S3's answer to a put: the checksum the object keeps.
                        w.WriteString(kept.Field, kept.Value);
                    }

                    w.WriteEndObject();
                },
                ct).ConfigureAwait(false);
            return;
        }

        var put = new PutObjectRequest
        {
            BucketName = bucket,
            Key = key,
            InputStream = await UploadBodyAsync(call, ct).ConfigureAwait(false),
            AutoCloseStream = false,
            AutoResetStreamPosition = false,
            ContentType = contentType,

            // The SDK's managed MD5 of the body cost more CPU than the rest of the backend; the signed aws-chunked
            // payload already lets the store verify every byte.
            DisableDefaultChecksumValidation = true,
            UseChunkEncoding = backend.Options.ChunkedUploads,
        };
        put.Headers.ContentLength = (long)request.BodyLength;
        ObjectOptions.ApplyPut(put, p);
        checksum?.ApplyTo(put);
        foreach (var (name, value) in metadata)
        {
            put.Metadata.Add(name, value);
        }

        // An older spooled write of the key must not land after this one.
        await call.FlushPendingWriteAsync(bucket, key, ct).ConfigureAwait(false);
        var response = await UnsentBodyRetry.SendAsync(() => s3.PutObjectAsync(put, ct), put.InputStream, "PutObject", ct).ConfigureAwait(false);
        backend.ObjectChanged(bucket, key);
        await call.ReplyJsonAsync(
            200,
            w =>
            {
                w.WriteStartObject();
                ChannelJson.WriteIfPresent(w, "ETag", response.ETag);
                ChannelJson.WriteIfPresent(w, "VersionId", response.VersionId);
                ChannelJson.WriteIfPresent(w, "ChecksumCRC32", response.ChecksumCRC32);
                ChannelJson.WriteIfPresent(w, "ChecksumCRC32C", response.ChecksumCRC32C);
                ChannelJson.WriteIfPresent(w, "ChecksumSHA1", response.ChecksumSHA1);
                ChannelJson.WriteIfPresent(w, "ChecksumSHA256", response.ChecksumSHA256);
                ObjectOptions.WriteEncryptionAndRequestId(w, ObjectEncryption.Of(response.ServerSideEncryptionMethod, response.ServerSideEncryptionKeyManagementServiceKeyId, response.BucketKeyEnabled), response);
                w.WriteEndObject();
            },
            ct).ConfigureAwait(false);
    }

    /// <summary>Spools a put (null: the spool is full); a body that does not match its writer's checksum fails as S3 fails it.</summary>
    private static async Task<SpoolRecord?> SpoolAsync(WriteBackQueue writeBack, JournalMeta meta, Stream body, long length, CancellationToken ct)
    {
        try
        {
            return await writeBack.AcceptAsync(meta, body, length, ct).ConfigureAwait(false);
        }
        catch (ChecksumMismatchException e)
        {
            throw new ChannelRequestException(400, "BadDigest", $"The {e.Checksum.HeaderName} you specified did not match the calculated checksum.");
        }
    }

    private static async Task DeleteObjectAsync(StorageCall call, CancellationToken ct)
    {
        var backend = call.Backend;
        var p = call.Parameters;
        var s3 = call.Backend.S3;
        var bucket = ChannelJson.RequiredString(p, "Bucket");
        var key = ChannelJson.RequiredString(p, "Key");
        StorageAuthorization.Authorize(call.Manifest, bucket, key, StorageAccess.Write);
        await call.FlushPendingWriteAsync(bucket, key, ct).ConfigureAwait(false);
        var response = await s3.DeleteObjectAsync(new DeleteObjectRequest { BucketName = bucket, Key = key }, ct).ConfigureAwait(false);
        backend.ObjectChanged(bucket, key);
        await call.ReplyRequestIdAsync(response, ct).ConfigureAwait(false);
    }

    private static async Task DeleteObjectsAsync(StorageCall call, CancellationToken ct)
    {
        var backend = call.Backend;
        var p = call.Parameters;
        var s3 = call.Backend.S3;
        var bucket = ChannelJson.RequiredString(p, "Bucket");
        StorageAuthorization.CheckBucket(bucket);
        if (!p.TryGetProperty("Delete", out var delete) || delete.ValueKind != JsonValueKind.Object
            || !delete.TryGetProperty("Objects", out var objects) || objects.ValueKind != JsonValueKind.Array)
        {
            throw ChannelRequestException.Invalid("parameter Delete must be an object with an Objects array");
        }

        if (objects.GetArrayLength() > 1000)
        {
            throw new ChannelRequestException(400, "MalformedXML", "DeleteObjects takes at most 1000 keys");
        }

        if (objects.GetArrayLength() == 0)
        {
            // S3 and the store refuse an empty Delete (a cleanup that found nothing to delete fails there too), with the
            // store's words, so both modes raise the same ClientError.
            throw new ChannelRequestException(400, "MalformedXML",
                "The XML you provided was not well-formed or did not validate against our published schema: DeleteObjects takes 1 to 1000 keys; got 0.");
        }

        var quiet = ChannelJson.OptionalBool(delete, "Quiet");
        var allowed = new List<KeyVersion>();
        var denied = new List<(string Key, string? VersionId, string Code, string Message)>();
        foreach (var o in objects.EnumerateArray())
        {
            if (o.ValueKind != JsonValueKind.Object)
            {
                throw ChannelRequestException.Invalid("each Delete.Objects entry must be an object with a Key");
            }

            var key = ChannelJson.RequiredString(o, "Key");
            try
            {
                StorageAuthorization.Authorize(call.Manifest, bucket, key, StorageAccess.Write);

                // The version goes to storage, which decides what it names (never read as "the current version").
                allowed.Add(new KeyVersion { Key = key, VersionId = ObjectOptions.HeaderValue(o, "VersionId") });
            }
            catch (ChannelRequestException e)
            {
                denied.Add((key, null, e.Code, e.Message));
            }
        }

        var deleted = new List<(string Key, string? VersionId)>();
        if (allowed.Count > 0)
        {
            foreach (var k in allowed)
            {
                await call.FlushPendingWriteAsync(bucket, k.Key, ct).ConfigureAwait(false);
            }

            DeleteObjectsResponse response;
            try
            {
                response = await s3.DeleteObjectsAsync(new DeleteObjectsRequest { BucketName = bucket, Objects = allowed, Quiet = quiet }, ct).ConfigureAwait(false);
            }
            catch (DeleteObjectsException e)
            {
                // The SDK throws when storage failed any entry (a version the key does not have): the answer is still
                // storage's per-entry result, which the function gets as S3 gives it.
                response = e.Response;
            }

            deleted.AddRange((response.DeletedObjects ?? []).Select(d => (d.Key, (string?)d.VersionId)));
            foreach (var k in allowed)
            {
                backend.ObjectChanged(bucket, k.Key);
            }

            denied.AddRange((response.DeleteErrors ?? []).Select(e => (e.Key, (string?)e.VersionId, e.Code, e.Message)));
        }

        await call.ReplyJsonAsync(
            200,
            w =>
            {
                w.WriteStartObject();
                if (!quiet)
                {
                    ChannelJson.WriteObjectArray(w, "Deleted", deleted, static (w, entry) =>
                    {
                        w.WriteString("Key", entry.Key);
                        ChannelJson.WriteIfPresent(w, "VersionId", entry.VersionId);
                    });
                }

                ChannelJson.WriteObjectArray(w, "Errors", denied, static (w, error) =>
                {
                    w.WriteString("Key", error.Key);
                    ChannelJson.WriteIfPresent(w, "VersionId", error.VersionId);
                    w.WriteString("Code", error.Code);
                    w.WriteString("Message", error.Message);
                });
                w.WriteEndObject();
            },
            ct).ConfigureAwait(false);
    }

    private static async Task CopyObjectAsync(StorageCall call, CancellationToken ct)
    {
        var backend = call.Backend;
        var p = call.Parameters;
        var s3 = call.Backend.S3;
        var bucket = ChannelJson.RequiredString(p, "Bucket");
        var key = ChannelJson.RequiredString(p, "Key");
        if (!p.TryGetProperty("CopySource", out var source))
        {
            throw ChannelRequestException.Invalid("missing required parameter CopySource");
        }

        string sourceBucket, sourceKey;
        if (source.ValueKind == JsonValueKind.Object)
        {
            sourceBucket = ChannelJson.RequiredString(source, "Bucket");
            sourceKey = ChannelJson.RequiredString(source, "Key");
        }
        else if (source.ValueKind == JsonValueKind.String)
        {
            // The string is the literal "bucket/key" (botocore percent-encodes it into the header and S3 decodes it once):
            // an already encoded key, such as an S3 event's, names another key, as in baseline.
            var text = source.GetString()!.TrimStart('/');
            var slash = text.IndexOf('/', StringComparison.Ordinal);
            if (slash <= 0)
            {
                throw ChannelRequestException.Invalid($"CopySource {StorageAuthorization.Quote(text)} is not of the form bucket/key");
            }

            sourceBucket = text[..slash];
            sourceKey = text[(slash + 1)..];
        }
        else
        {
            throw ChannelRequestException.Invalid("CopySource must be {Bucket, Key} or \"bucket/key\"");
        }

        StorageAuthorization.Authorize(call.Manifest, sourceBucket, sourceKey, StorageAccess.Read);
        StorageAuthorization.Authorize(call.Manifest, bucket, key, StorageAccess.Write);
        var copy = new CopyObjectRequest
        {
            SourceBucket = sourceBucket,
            SourceKey = sourceKey,
            DestinationBucket = bucket,
            DestinationKey = key,
            ContentType = ObjectOptions.ContentType(p),
        };
        if (ChannelJson.OptionalString(p, "MetadataDirective") is { } directive)
        {
            copy.MetadataDirective = directive switch
            {
                "COPY" => S3MetadataDirective.COPY,
                "REPLACE" => S3MetadataDirective.REPLACE,
                _ => throw ChannelRequestException.Invalid($"MetadataDirective must be COPY or REPLACE, got {StorageAuthorization.Quote(directive)}"),
            };
        }

        foreach (var (name, value) in ObjectOptions.Metadata(p))
        {
            copy.Metadata.Add(name, value);
        }

        await call.FlushPendingWriteAsync(sourceBucket, sourceKey, ct).ConfigureAwait(false);
        await call.FlushPendingWriteAsync(bucket, key, ct).ConfigureAwait(false);
        var response = await s3.CopyObjectAsync(copy, ct).ConfigureAwait(false);
        backend.ObjectChanged(bucket, key);
        await call.ReplyJsonAsync(
            200,
            w =>
            {
                w.WriteStartObject();
                w.WriteStartObject("CopyObjectResult");
                ChannelJson.WriteIfPresent(w, "ETag", response.ETag);
                ChannelJson.WriteIfPresent(w, "LastModified", response.LastModified);
                w.WriteEndObject();
                ObjectOptions.WriteRequestId(w, response);
                w.WriteEndObject();
            },
            ct).ConfigureAwait(false);
    }
}
