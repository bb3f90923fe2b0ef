// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text.Json;
using Amazon.S3;
using Amazon.S3.Model;
using Nexus.Channel;
using Nexus.Channel.Services;
using Nexus.Functions;

namespace Nexus.Backend.Storage;

/// <summary>
/// Multipart uploads: CreateMultipartUpload, UploadPart (the part streamed from the slots), CompleteMultipartUpload,
/// AbortMultipartUpload and ListParts. Every one is a write of the upload's key under the function's grants; the store
/// ties an upload id to its bucket and key, so an id cannot reach another key. Completing flushes an older spooled write
/// of the key first (it must not land after the upload) and drops prefetched copies.
/// </summary>
internal static class Multipart
{
    /// <summary>S3's part numbers.</summary>
    private const int MaxPartNumber = 10_000;

    public static void Register(IDictionary<ChannelOp, StorageHandler> table)
    {
        table.Add(ChannelOp.CreateMultipartUpload, CreateAsync);
        table.Add(ChannelOp.UploadPart, UploadPartAsync);
        table.Add(ChannelOp.CompleteMultipartUpload, CompleteAsync);
        table.Add(ChannelOp.AbortMultipartUpload, AbortAsync);
        table.Add(ChannelOp.ListParts, ListPartsAsync);
    }

    private static (string Bucket, string Key) AuthorizeWrite(StorageCall call)
    {
        var bucket = ChannelJson.RequiredString(call.Parameters, "Bucket");
        var key = ChannelJson.RequiredString(call.Parameters, "Key");
        StorageAuthorization.Authorize(call.Manifest, bucket, key, StorageAccess.Write);
        return (bucket, key);
    }

    /// <summary>The UploadId parameter: it travels in the storage request's query, so it must be printable ASCII.</summary>
    private static string UploadId(JsonElement p) =>
        ObjectOptions.HeaderValue(p, "UploadId") is { Length: > 0 } id ? id : throw ChannelRequestException.Invalid("missing required parameter UploadId");

    private static int PartNumber(JsonElement p, string name) =>
        ChannelJson.OptionalInt(p, name) is { } n and >= 1 and <= MaxPartNumber
            ? n
            : throw ChannelRequestException.Invalid($"parameter {name} must be an integer in [1, {MaxPartNumber}]");

    private static async Task CreateAsync(StorageCall call, CancellationToken ct)
    {
        var p = call.Parameters;
        var (bucket, key) = AuthorizeWrite(call);
        var initiate = new InitiateMultipartUploadRequest { BucketName = bucket, Key = key, ContentType = ObjectOptions.ContentType(p) };
        ObjectOptions.ApplyInitiate(initiate, p);
        if (ObjectOptions.HeaderValue(p, "ChecksumAlgorithm") is { } algorithm)
        {
            // The store keeps it: every part must carry that checksum and the object gets their composite.
            initiate.ChecksumAlgorithm = ChecksumAlgorithm.FindValue(algorithm);
        }
        foreach (var (name, value) in ObjectOptions.Metadata(p))
        {
            initiate.Metadata.Add(name, value);
        }

        var response = await call.Backend.S3.InitiateMultipartUploadAsync(initiate, ct).ConfigureAwait(false);
        await call.ReplyJsonAsync(
            200,
            w =>
            {
                w.WriteStartObject();
                w.WriteString("Bucket", bucket);
                w.WriteString("Key", key);
                w.WriteString("UploadId", response.UploadId);
                ChannelJson.WriteIfPresent(w, "ChecksumAlgorithm", response.ChecksumAlgorithm?.Value);
                ObjectOptions.WriteEncryptionAndRequestId(w, ObjectEncryption.Of(response.ServerSideEncryptionMethod, response.ServerSideEncryptionKeyManagementServiceKeyId, response.BucketKeyEnabled), response);
                w.WriteEndObject();
            },
            ct).ConfigureAwait(false);
    }

    private static async Task UploadPartAsync(StorageCall call, CancellationToken ct)
    {
        var p = call.Parameters;
        var (bucket, key) = AuthorizeWrite(call);
        var upload = new UploadPartRequest
        {
            BucketName = bucket,
            Key = key,
            UploadId = UploadId(p),
            PartNumber = PartNumber(p, "PartNumber"),

            // Read in place from the shared region, once, as the SDK sends it (as PutObject's body).
            InputStream = call.Backend.Options.ChunkedUploads ? new InPlaceSeekableBody(call.Request.OpenBody(ct)) : await ObjectWrites.UploadBodyAsync(call, ct).ConfigureAwait(false),
            PartSize = (long)call.Request.BodyLength,
            DisableDefaultChecksumValidation = true,
            UseChunkEncoding = call.Backend.Options.ChunkedUploads,
        };
        if (ObjectOptions.HeaderValue(p, "ContentMD5") is { } md5)
        {
            upload.MD5Digest = md5;
        }

        // The part's checksum (the function's, or boto3's for its ChecksumAlgorithm): the store checks the part against it.
        ObjectOptions.PutChecksum(p)?.ApplyTo(upload);

        // The SDK resends a part itself (its body seeks back), yet one CI run saw a part fail at once on a refused
        // connection: past the SDK, a part whose connection was refused before a byte was read is sent again as a put is.
        var response = await UnsentBodyRetry.SendAsync(() => call.Backend.S3.UploadPartAsync(upload, ct), upload.InputStream, "UploadPart", ct).ConfigureAwait(false);
        await call.ReplyJsonAsync(
            200,
            w =>
            {
                w.WriteStartObject();
                ChannelJson.WriteIfPresent(w, "ETag", response.ETag);
                WriterChecksum.WriteFields(w, response.ChecksumCRC32, response.ChecksumCRC32C, response.ChecksumSHA1, response.ChecksumSHA256);
                ObjectOptions.WriteEncryptionAndRequestId(w, ObjectEncryption.Of(response.ServerSideEncryptionMethod, response.SSEKMSKeyId, response.BucketKeyEnabled), response);
                w.WriteEndObject();
            },
            ct).ConfigureAwait(false);
    }

    private static async Task CompleteAsync(StorageCall call, CancellationToken ct)
    {
        var p = call.Parameters;
        var (bucket, key) = AuthorizeWrite(call);
        var complete = new CompleteMultipartUploadRequest { BucketName = bucket, Key = key, UploadId = UploadId(p), PartETags = Parts(p) };
        await call.FlushPendingWriteAsync(bucket, key, ct).ConfigureAwait(false);
        var response = await call.Backend.S3.CompleteMultipartUploadAsync(complete, ct).ConfigureAwait(false);
        call.Backend.ObjectChanged(bucket, key);
        await call.ReplyJsonAsync(
            200,
            w =>
            {
                w.WriteStartObject();
                ChannelJson.WriteIfPresent(w, "Location", response.Location);
                w.WriteString("Bucket", bucket);
                w.WriteString("Key", key);
                ChannelJson.WriteIfPresent(w, "ETag", response.ETag);
                WriterChecksum.WriteFields(w, response.ChecksumCRC32, response.ChecksumCRC32C, response.ChecksumSHA1, response.ChecksumSHA256);
                ChannelJson.WriteIfPresent(w, "VersionId", response.VersionId);
                ObjectOptions.WriteEncryptionAndRequestId(w, ObjectEncryption.Of(response.ServerSideEncryptionMethod, response.ServerSideEncryptionKeyManagementServiceKeyId, response.BucketKeyEnabled), response);
                w.WriteEndObject();
            },
            ct).ConfigureAwait(false);
    }

    /// <summary>
    /// MultipartUpload.Parts: [{"ETag", "PartNumber", "ChecksumSHA256"...}, ...], at most 10,000 (the store judges order,
    /// ETags and, for an upload created with a checksum algorithm, the parts' checksums).
    /// </summary>
    private static List<PartETag> Parts(JsonElement p)
    {
        if (!p.TryGetProperty("MultipartUpload", out var upload) || upload.ValueKind != JsonValueKind.Object
            || !upload.TryGetProperty("Parts", out var parts) || parts.ValueKind != JsonValueKind.Array)
        {
            throw new ChannelRequestException(400, "MalformedXML", "parameter MultipartUpload must be an object with a Parts array");
        }

        if (parts.GetArrayLength() is 0 or > MaxPartNumber)
        {
            throw new ChannelRequestException(400, "MalformedXML", $"MultipartUpload.Parts must list 1 to {MaxPartNumber} parts, got {parts.GetArrayLength()}");
        }

        var list = new List<PartETag>(parts.GetArrayLength());
        foreach (var part in parts.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object)
            {
                throw ChannelRequestException.Invalid("each MultipartUpload.Parts entry must be an object with ETag and PartNumber");
            }

            var etag = ObjectOptions.HeaderValue(part, "ETag") ?? throw ChannelRequestException.Invalid("missing required parameter MultipartUpload.Parts[].ETag");
            var entry = new PartETag(PartNumber(part, "PartNumber"), etag);
            ObjectOptions.PutChecksum(part)?.ApplyTo(entry);
            list.Add(entry);
        }

        return list;
    }

    private static async Task AbortAsync(StorageCall call, CancellationToken ct)
    {
        var (bucket, key) = AuthorizeWrite(call);
        var response = await call.Backend.S3.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = bucket, Key = key, UploadId = UploadId(call.Parameters) }, ct).ConfigureAwait(false);
        await call.ReplyRequestIdAsync(response, ct).ConfigureAwait(false);
    }

    private static async Task ListPartsAsync(StorageCall call, CancellationToken ct)
    {
        var p = call.Parameters;
        var (bucket, key) = AuthorizeWrite(call);
        var list = new ListPartsRequest { BucketName = bucket, Key = key, UploadId = UploadId(p) };
        if (ChannelJson.OptionalInt(p, "MaxParts") is { } maxParts)
        {
            list.MaxParts = Math.Clamp(maxParts, 0, 1000);
        }

        if (ChannelJson.OptionalInt(p, "PartNumberMarker") is { } marker)
        {
            list.PartNumberMarker = Math.Clamp(marker, 0, MaxPartNumber).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        var response = await call.Backend.S3.ListPartsAsync(list, ct).ConfigureAwait(false);
        await call.ReplyJsonAsync(
            200,
            w =>
            {
                w.WriteStartObject();
                w.WriteString("Bucket", bucket);
                w.WriteString("Key", key);
                w.WriteString("UploadId", response.UploadId ?? list.UploadId);
                w.WriteNumber("PartNumberMarker", response.PartNumberMarker ?? 0);
                if (response.NextPartNumberMarker is > 0 and var next)
                {
                    // The store names it only when the listing is cut short.
                    w.WriteNumber("NextPartNumberMarker", next);
                }

                w.WriteNumber("MaxParts", response.MaxParts ?? 1000);
                w.WriteBoolean("IsTruncated", response.IsTruncated ?? false);
                ChannelJson.WriteIfPresent(w, "ChecksumAlgorithm", response.ChecksumAlgorithm?.Value);
                if (response.Parts is { Count: > 0 } parts)
                {
                    ChannelJson.WriteObjectArray(w, "Parts", parts, static (w, part) =>
                    {
                        w.WriteNumber("PartNumber", part.PartNumber ?? 0);
                        ChannelJson.WriteTimestamp(w, "LastModified", part.LastModified);
                        ChannelJson.WriteIfPresent(w, "ETag", part.ETag);
                        w.WriteNumber("Size", part.Size ?? 0);
                        WriterChecksum.WriteFields(w, part.ChecksumCRC32, part.ChecksumCRC32C, part.ChecksumSHA1, part.ChecksumSHA256);
                    });
                }

                WriteOwner(w, "Initiator", response.Initiator?.DisplayName, response.Initiator?.Id);
                WriteOwner(w, "Owner", response.Owner?.DisplayName, response.Owner?.Id);
                ChannelJson.WriteIfPresent(w, "StorageClass", response.StorageClass);
                ObjectOptions.WriteRequestId(w, response);
                w.WriteEndObject();
            },
            ct).ConfigureAwait(false);
    }

    private static void WriteOwner(Utf8JsonWriter w, string name, string? displayName, string? id)
    {
        if (displayName is null && id is null)
        {
            return;
        }

        w.WriteStartObject(name);
        ChannelJson.WriteIfPresent(w, "ID", id);
        ChannelJson.WriteIfPresent(w, "DisplayName", displayName);
        w.WriteEndObject();
    }
}
