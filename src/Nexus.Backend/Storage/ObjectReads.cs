// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Text.Json;
using Amazon.S3.Model;
using Nexus.Channel;
using Nexus.Channel.Services;
using Nexus.Functions;

namespace Nexus.Backend.Storage;

/// <summary>GetObject and HeadObject: answered from the write-back spool (read-your-writes), a prefetch, or the store.</summary>
internal static class ObjectReads
{
    private const string MetaPrefix = "x-amz-meta-";

    // The object checksums of botocore 1.29's GetObject and HeadObject outputs (WriterChecksum.Fields, in that order). The
    // store sends them in checksum mode; they travel whenever it did, and the stand-in shows them to a call that asked (as boto3).

    public static void Register(IDictionary<ChannelOp, StorageHandler> table)
    {
        table.Add(ChannelOp.GetObject, GetObjectAsync);
        table.Add(ChannelOp.HeadObject, HeadObjectAsync);
    }

    /// <summary>The boto3-shaped response header of a GetObject.</summary>
    internal static byte[] ObjectMetaJson(GetObjectResponse response) => ChannelJson.Write(w => WriteObjectMeta(w, new ObjectHead(
        response.Headers.ContentLength,
        response.Headers.ContentType,
        response.ETag,
        response.LastModified,
        response.ContentRange,
        response.AcceptRanges,
        response.VersionId,
        response.Headers.ContentEncoding,
        response.Headers.CacheControl,
        response.Headers.ContentDisposition,
        response.Headers.ContentLanguage,
        response.StorageClass?.Value,
        ObjectEncryption.Of(response.ServerSideEncryptionMethod, response.ServerSideEncryptionKeyManagementServiceKeyId, response.BucketKeyEnabled),
        response.WebsiteRedirectLocation,
        HttpDate(response.ExpiresString),
        response.TagCount,
        response.ResponseMetadata?.RequestId,
        MetadataOf(response.Metadata),
        [response.ChecksumCRC32, response.ChecksumCRC32C, response.ChecksumSHA1, response.ChecksumSHA256])));

    /// <summary>The same for a whole-object GET the backend sent itself (<see cref="DirectS3"/>), from the store's headers as the SDK reads them.</summary>
    internal static byte[] ObjectMetaJson(HttpResponseMessage response)
    {
        string? Header(string name) => DirectS3.Header(response, name);
        var lastModified = DateTime.TryParseExact(Header("Last-Modified"), "r", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var parsed) ? parsed : (DateTime?)null;
        var tagCount = int.TryParse(Header("x-amz-tagging-count"), CultureInfo.InvariantCulture, out var tags) ? tags : (int?)null;
        var metadata = response.Headers.NonValidated
            .Where(h => h.Key.StartsWith(MetaPrefix, StringComparison.OrdinalIgnoreCase))
            .Select(h => new KeyValuePair<string, string>(h.Key[MetaPrefix.Length..], h.Value.ToString()));
        return ChannelJson.Write(w => WriteObjectMeta(w, new ObjectHead(
            response.Content.Headers.ContentLength ?? 0,
            Header("Content-Type"),
            Header("ETag"),
            lastModified,
            Header("Content-Range"),
            Header("Accept-Ranges"),
            Header("x-amz-version-id"),
            Header("Content-Encoding"),
            Header("Cache-Control"),
            Header("Content-Disposition"),
            Header("Content-Language"),
            Header("x-amz-storage-class"),
            ObjectEncryption.Of(Header),
            Header("x-amz-website-redirect-location"),
            HttpDate(Header("Expires")),
            tagCount,
            Header("x-amz-request-id"),
            metadata,
            [.. WriterChecksum.Fields.Select(f => Header("x-amz-checksum-" + f.Algorithm))])));
    }

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
        if ((backend.Options.VerifyBodies && range is null) || AsksChecksums(p))
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
        if (AsksChecksums(p))
        {
            head.ChecksumMode = VerifiedBody.ChecksumMode;
        }
        var response = await s3.GetObjectMetadataAsync(head, ct).ConfigureAwait(false);
        var meta = ChannelJson.Write(w => WriteObjectMeta(w, new ObjectHead(
            response.Headers.ContentLength,
            response.Headers.ContentType,
            response.ETag,
            response.LastModified,
            null,
            response.AcceptRanges,
            response.VersionId,
            response.Headers.ContentEncoding,
            response.Headers.CacheControl,
            response.Headers.ContentDisposition,
            response.Headers.ContentLanguage,
            response.StorageClass?.Value,
            ObjectEncryption.Of(response.ServerSideEncryptionMethod, response.ServerSideEncryptionKeyManagementServiceKeyId, response.BucketKeyEnabled),
            response.WebsiteRedirectLocation,
            HttpDate(response.ExpiresString),
            null,
            response.ResponseMetadata?.RequestId,
            MetadataOf(response.Metadata),
            [response.ChecksumCRC32, response.ChecksumCRC32C, response.ChecksumSHA1, response.ChecksumSHA256])));
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
                if (record.Checksum is { } checksum)
                {
                    // What the store answers in checksum mode once it has the object (the stand-in shows it to a call that asked).
                    w.WriteString(checksum.Field, checksum.Value);
                }

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

    /// <summary>The function's call asks for the object's checksums (boto3's ChecksumMode; ENABLED is its only value).</summary>
    private static bool AsksChecksums(JsonElement p) => ChannelJson.OptionalString(p, "ChecksumMode") == "ENABLED";

    /// <summary>The user metadata by its boto3 name (without the x-amz-meta- prefix).</summary>
    private static IEnumerable<KeyValuePair<string, string>> MetadataOf(MetadataCollection metadata) =>
        metadata.Keys.Select(name => new KeyValuePair<string, string>(
            name.StartsWith(MetaPrefix, StringComparison.OrdinalIgnoreCase) ? name[MetaPrefix.Length..] : name,
            metadata[name]));

    /// <summary>An object's Expires header (an HTTP date, as S3 sends it) as botocore reads it; null when absent or not a date.</summary>
    private static DateTime? HttpDate(string? value) =>
        DateTime.TryParseExact(value, "r", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var parsed)
            ? parsed
            : null;

    private static void WriteObjectMeta(Utf8JsonWriter w, ObjectHead head)
    {
        w.WriteStartObject();
        w.WriteNumber("ContentLength", head.ContentLength);
        ChannelJson.WriteIfPresent(w, "ContentType", head.ContentType);
        ChannelJson.WriteIfPresent(w, "ETag", head.ETag);
        ChannelJson.WriteTimestamp(w, "LastModified", head.LastModified);
        ChannelJson.WriteIfPresent(w, "ContentRange", head.ContentRange);
        ChannelJson.WriteIfPresent(w, "AcceptRanges", head.AcceptRanges ?? "bytes");
        ChannelJson.WriteIfPresent(w, "VersionId", head.VersionId);
        ChannelJson.WriteIfPresent(w, "ContentEncoding", head.ContentEncoding);
        ChannelJson.WriteIfPresent(w, "CacheControl", head.CacheControl);
        ChannelJson.WriteIfPresent(w, "ContentDisposition", head.ContentDisposition);
        ChannelJson.WriteIfPresent(w, "ContentLanguage", head.ContentLanguage);
        if (head.StorageClass is { Length: > 0 } storageClass && storageClass != "STANDARD")
        {
            w.WriteString("StorageClass", storageClass);
        }

        head.Encryption.Write(w);

        ChannelJson.WriteIfPresent(w, "WebsiteRedirectLocation", head.WebsiteRedirectLocation);
        ChannelJson.WriteTimestamp(w, "Expires", head.Expires);
        if (head.TagCount is > 0)
        {
            w.WriteNumber("TagCount", head.TagCount.Value);
        }

        for (var i = 0; i < WriterChecksum.Fields.Length; i++)
        {
            ChannelJson.WriteIfPresent(w, WriterChecksum.Fields[i].Field, head.Checksums[i]);
        }

        ObjectOptions.WriteRequestId(w, head.RequestId);
        w.WriteStartObject("Metadata");
        foreach (var (name, value) in head.Metadata)
        {
            w.WriteString(name, value);
        }

        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>What a GetObject or HeadObject answers about the object, from the SDK's response or the store's headers.</summary>
    private sealed record ObjectHead(
        long ContentLength,
        string? ContentType,
        string? ETag,
        DateTime? LastModified,
        string? ContentRange,
        string? AcceptRanges,
        string? VersionId,
        string? ContentEncoding,
        string? CacheControl,
        string? ContentDisposition,
        string? ContentLanguage,
        string? StorageClass,
        ObjectEncryption Encryption,
        string? WebsiteRedirectLocation,
        DateTime? Expires,
        int? TagCount,
        string? RequestId,
        IEnumerable<KeyValuePair<string, string>> Metadata,
        string?[] Checksums);
}
