// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text.Json;
using Amazon.S3.Model;
using Nexus.Channel;
using Nexus.Channel.Services;
using Nexus.Functions;

namespace Nexus.Backend.Storage;

/// <summary>GetObject and HeadObject: answered from the write-back spool (read-your-writes), a prefetch, or the store.</summary>
internal static class ObjectReads
{
    public static void Register(IDictionary<ChannelOp, StorageHandler> table)
    {
        table.Add(ChannelOp.GetObject, GetObjectAsync);
        table.Add(ChannelOp.HeadObject, HeadObjectAsync);
    }

    /// <summary>The boto3-shaped response header of a GetObject.</summary>
    internal static byte[] ObjectMetaJson(GetObjectResponse response) =>
        ChannelJson.Write(w => WriteObjectMeta(w, response.Headers, response.Metadata, response.ETag, response.LastModified, response.ContentRange, response.AcceptRanges, response.VersionId, w => ObjectOptions.WriteObjectExtras(w, response.Headers, response.StorageClass, response.ServerSideEncryptionMethod, response.TagCount, response)));

    private static async Task GetObjectAsync(StorageCall call, CancellationToken ct)
    {
        var backend = call.Backend;
        var p = call.Parameters;
        var s3 = call.Backend.S3;
        var bucket = ChannelJson.RequiredString(p, "Bucket");
        var key = ChannelJson.RequiredString(p, "Key");
        StorageAuthorization.Authorize(call.Manifest, bucket, key, StorageAccess.Read);
        var range = ChannelJson.OptionalString(p, "Range");
        var conditional = ObjectOptions.IsConditionalRead(p);
        if (await ServeFromSpoolAsync(call, bucket, key, withBody: true, plain: range is null && !conditional, ct).ConfigureAwait(false))
        {
            return;
        }

        if (range is null && await call.Service.TryServePrefetchedAsync(call, bucket, key, ct).ConfigureAwait(false))
        {
            return;
        }

        var get = new GetObjectRequest
        {
            BucketName = bucket,
            Key = key,
            EtagToMatch = ChannelJson.OptionalString(p, "IfMatch"),
            EtagToNotMatch = ChannelJson.OptionalString(p, "IfNoneMatch"),
        };
        if (range is not null)
        {
            get.ByteRange = new ByteRange(range);
        }

        ObjectOptions.ApplyGet(get, p);
        if (backend.Options.VerifyBodies && range is null)
        {
            get.ChecksumMode = VerifiedBody.ChecksumMode;
        }

        using var response = await s3.GetObjectAsync(get, ct).ConfigureAwait(false);
        var meta = ObjectMetaJson(response);
        await using var body = VerifiedBody.Of(response, ranged: range is not null, backend.Options.VerifyBodies);
        await call.ReplyAsync((int)response.HttpStatusCode, meta, body, response.Headers.ContentLength, ct).ConfigureAwait(false);
    }

    private static async Task HeadObjectAsync(StorageCall call, CancellationToken ct)
    {
        var p = call.Parameters;
        var s3 = call.Backend.S3;
        var bucket = ChannelJson.RequiredString(p, "Bucket");
        var key = ChannelJson.RequiredString(p, "Key");
        StorageAuthorization.Authorize(call.Manifest, bucket, key, StorageAccess.Read);
        var range = ObjectOptions.HeaderValue(p, "Range");
        var conditional = ObjectOptions.IsConditionalRead(p) || range is not null;
        if (await ServeFromSpoolAsync(call, bucket, key, withBody: false, plain: !conditional, ct).ConfigureAwait(false))
        {
            return;
        }

        var head = new GetObjectMetadataRequest
        {
            BucketName = bucket,
            Key = key,
            EtagToMatch = ChannelJson.OptionalString(p, "IfMatch"),
            EtagToNotMatch = ChannelJson.OptionalString(p, "IfNoneMatch"),

            // As S3: a HEAD with Range answers 206 with the range's length (boto3 reports no ContentRange for it).
            Range = range,
        };
        ObjectOptions.ApplyHead(head, p);
        var response = await s3.GetObjectMetadataAsync(head, ct).ConfigureAwait(false);
        var meta = ChannelJson.Write(w => WriteObjectMeta(w, response.Headers, response.Metadata, response.ETag, response.LastModified, null, response.AcceptRanges, response.VersionId, w => ObjectOptions.WriteObjectExtras(w, response.Headers, response.StorageClass, response.ServerSideEncryptionMethod, null, response)));
        await call.ReplyAsync((int)response.HttpStatusCode, meta, null, 0, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Read-your-writes: a key with an acknowledged write still on its way to storage is answered from the spool.
    /// Requests the spool cannot answer itself (ranges, conditions) wait for that upload and then go to the store.
    /// </summary>
    private static async Task<bool> ServeFromSpoolAsync(StorageCall call, string bucket, string key, bool withBody, bool plain, CancellationToken ct)
    {
        if (call.Backend.WriteBack is not { } writeBack)
        {
            return false;
        }

        if (writeBack.Find(bucket, key, withBody && plain) is not { } pending)
        {
            return false;
        }

        if (!plain)
        {
            await writeBack.FlushAsync(bucket, key, ct).ConfigureAwait(false);
            return false;
        }

        var body = pending.Body;
        await using (body)
        {
            var record = pending.Record;
            var meta = ChannelJson.Write(w =>
            {
                w.WriteStartObject();
                w.WriteNumber("ContentLength", record.Length);
                ChannelJson.WriteIfPresent(w, "ContentType", record.ContentType ?? "binary/octet-stream");
                w.WriteString("ETag", record.ETag);
                ChannelJson.WriteTimestamp(w, "LastModified", record.AcknowledgedAt.UtcDateTime);
                w.WriteString("AcceptRanges", "bytes");
                w.WriteStartObject("Metadata");
                foreach (var (name, value) in record.Metadata)
                {
                    w.WriteString(name, value);
                }

                w.WriteEndObject();
                w.WriteEndObject();
            });
            await call.ReplyAsync(200, meta, body, withBody ? record.Length : 0, ct).ConfigureAwait(false);
        }

        return true;
    }

    private static void WriteObjectMeta(Utf8JsonWriter w, HeadersCollection headers, MetadataCollection metadata, string? etag, DateTime? lastModified, string? contentRange, string? acceptRanges, string? versionId, Action<Utf8JsonWriter> extras)
    {
        w.WriteStartObject();
        w.WriteNumber("ContentLength", headers.ContentLength);
        ChannelJson.WriteIfPresent(w, "ContentType", headers.ContentType);
        ChannelJson.WriteIfPresent(w, "ETag", etag);
        ChannelJson.WriteTimestamp(w, "LastModified", lastModified);
        ChannelJson.WriteIfPresent(w, "ContentRange", contentRange);
        ChannelJson.WriteIfPresent(w, "AcceptRanges", acceptRanges ?? "bytes");
        ChannelJson.WriteIfPresent(w, "VersionId", versionId);
        ChannelJson.WriteIfPresent(w, "ContentEncoding", headers.ContentEncoding);
        ChannelJson.WriteIfPresent(w, "CacheControl", headers.CacheControl);
        ChannelJson.WriteIfPresent(w, "ContentDisposition", headers.ContentDisposition);
        extras(w);
        w.WriteStartObject("Metadata");
        foreach (var name in metadata.Keys)
        {
            var shortName = name.StartsWith("x-amz-meta-", StringComparison.OrdinalIgnoreCase) ? name["x-amz-meta-".Length..] : name;
            w.WriteString(shortName, metadata[name]);
        }

        w.WriteEndObject();
        w.WriteEndObject();
    }
}
