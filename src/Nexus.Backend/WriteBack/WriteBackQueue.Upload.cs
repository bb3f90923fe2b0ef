// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Amazon.S3;
using Amazon.S3.Model;
using Nexus.Backend.Storage;

namespace Nexus.Backend.WriteBack;

/// <summary>One upload of a spooled write: direct (plain headers) or through the SDK, checked against the spooled MD5.</summary>
public sealed partial class WriteBackQueue
{
    /// <summary>
    /// Sent with every upload: the write's acknowledgement time (Unix milliseconds), which the function already saw as
    /// its LastModified when it read the write from the spool. The embedded store keeps it as the object's LastModified
    /// when the node's full-access key sends it (Nexus.Store's S3Handler, the same name), so HEAD and LIST of the
    /// version agree; S3 and other stores ignore it and keep their own upload time (docs/writeback.md).
    /// </summary>
    public const string LastModifiedHeader = "x-nexus-last-modified";

    // Bodies up to this size are read whole from the spool (the page cache) into one array; larger ones stream from it.
    private const long WholeBodyReadMax = 64 * 1024;

    // The buffer a streamed body is sent through (StreamContent's copy from the spool to the connection).
    private const int StreamedBodyBuffer = 128 * 1024;

    // What the SDK sends for an object given no Content-Type (its PutObject marshaller), so that both paths store the same.
    private const string SdkDefaultContentType = "text/plain";

    /// <summary>The <see cref="LastModifiedHeader"/> value for <paramref name="acknowledgedAt"/>.</summary>
    public static string LastModifiedValue(DateTimeOffset acknowledgedAt) =>
        acknowledgedAt.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture);

    private async Task UploadAsync(Entry entry, CancellationToken ct)
    {
        var record = entry.Record;
        if (entry.Recovered && await StoreHasAsync(record, ct).ConfigureAwait(false))
        {
            // Uploaded before the crash, not yet removed from the spool: uploading again would change nothing.
            return;
        }

        await using var body = _journal.OpenBody(entry.Written);
        var contentType = record.ContentType ?? SdkDefaultContentType;
        var contentMd5 = Convert.ToBase64String(Convert.FromHexString(record.Md5));

        // The backend's own PUT (DirectS3), without the SDK's pipeline: its aws-chunked wrapper allocated and zeroed a
        // buffer larger than a small body per request (14% of the upload's CPU for a 200-byte body), and it signs every
        // 64 KiB chunk of a large one with a SHA-256 that the signed Content-MD5 makes redundant. The SDK keeps what
        // needs its header encoding.
        if (DirectS3.IsPlainHeader(contentType) && record.Metadata.All(m => DirectS3.IsPlainHeader(m.Key) && DirectS3.IsPlainHeader(m.Value)))
        {
            HttpContent content;
            if (record.Length <= WholeBodyReadMax)
            {
                var bytes = new byte[record.Length];
                await body.ReadExactlyAsync(bytes, ct).ConfigureAwait(false);
                content = new ByteArrayContent(bytes);
            }
            else
            {
                content = new StreamContent(body, StreamedBodyBuffer);
                content.Headers.ContentLength = record.Length;
            }

            using (content)
            {
                var etag = await _direct.PutAsync(record.Bucket, record.Key, content, contentType, contentMd5, record.Metadata, record.Checksum, record.AcknowledgedAt, ct).ConfigureAwait(false);
                CheckETag(etag, record);
            }

            return;
        }

        var put = new PutObjectRequest
        {
            BucketName = record.Bucket,
            Key = record.Key,
            InputStream = body,
            AutoCloseStream = false,
            AutoResetStreamPosition = false,
            ContentType = contentType,
            MD5Digest = contentMd5,

            // Content-MD5 (computed while spooling) lets the store verify the bytes; the SDK's own managed MD5 of the
            // stream would only repeat that, at a high CPU cost.
            DisableDefaultChecksumValidation = true,
            UseChunkEncoding = _chunkedUploads && record.Length > WholeBodyReadMax,
        };
        put.Headers.ContentLength = record.Length;
        put.Headers[LastModifiedHeader] = LastModifiedValue(record.AcknowledgedAt);
        record.Checksum?.ApplyTo(put);
        foreach (var (name, value) in record.Metadata)
        {
            put.Metadata.Add(name, value);
        }

        var response = await _s3.PutObjectAsync(put, ct).ConfigureAwait(false);
        CheckETag(response.ETag, record);
    }

    private static void CheckETag(string? etag, SpoolRecord record)
    {
        if (!string.Equals(etag, record.ETag, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"the store answered ETag {etag} for bytes whose MD5 is {record.Md5}");
        }
    }

    private async Task<bool> StoreHasAsync(SpoolRecord record, CancellationToken ct)
    {
        try
        {
            var head = await _s3.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = record.Bucket, Key = record.Key }, ct).ConfigureAwait(false);
            return string.Equals(head.ETag, record.ETag, StringComparison.Ordinal) && head.ContentLength == record.Length;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return false;
        }
    }
}
