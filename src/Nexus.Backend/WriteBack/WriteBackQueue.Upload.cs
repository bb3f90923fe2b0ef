// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Security.Cryptography;
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

    private async Task UploadLoopAsync()
    {
        var ct = _stop.Token;
        await foreach (var id in _ready.Reader.ReadAllAsync(ct).ConfigureAwait(false))
        {
            await _uploadSlots.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                if (!await UploadOneAsync(id, ct).ConfigureAwait(false))
                {
                    return;
                }
            }
            finally
            {
                _uploadSlots.Release();
            }
        }
    }

    /// <summary>
    /// Uploads the key's waiting write on this thread (up to the request's first wait) when an upload slot is free; else
    /// an uploader takes it.
    /// </summary>
    private void StartUpload((string Bucket, string Key) id)
    {
        if (_uploadSlots.Wait(0))
        {
            _ = UploadHereAsync(id);
        }
        else
        {
            _ready.Writer.TryWrite(id);
        }
    }

    private async Task UploadHereAsync((string Bucket, string Key) id)
    {
        try
        {
            await UploadOneAsync(id, _stop.Token).ConfigureAwait(false);
        }
        finally
        {
            _uploadSlots.Release();
        }
    }

    /// <summary>Uploads the key's waiting write, if it has one and no upload of it runs; false when shutting down.</summary>
    private async Task<bool> UploadOneAsync((string Bucket, string Key) id, CancellationToken ct)
    {
        Entry? entry;
        KeyState? state;
        lock (_lock)
        {
            if (!_keys.TryGetValue(id, out state) || state.Uploading is not null || state.Waiting is null)
            {
                return true;
            }

            entry = state.Waiting;
            state.Waiting = null;
            state.Uploading = entry;
        }

        Exception? failure = null;
        try
        {
            await UploadAsync(entry, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return false;
        }
        catch (Exception e)
        {
            failure = e;
        }

        if (failure is null)
        {
            // Its mark is written before the key counts as settled, and made durable before a delete or sync write
            // that waited for this upload goes on (SettledAsync): a restart cannot upload it again over that.
            RetireUploaded(entry);
        }

        var dead = false;
        try
        {
            dead = failure is not null && await DeadLetterIfBucketGoneAsync(entry, failure, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return false;
        }

        TimeSpan? retryIn = null;
        lock (_lock)
        {
            state.Uploading = null;
            if (failure is null)
            {
                state.Failures = 0;
            }
            else if (dead && state.Waiting is null)
            {
                // Out of the retry loop; the key's waiters go on to storage, which answers for the missing bucket.
                _deadLetters.Add(entry);
                Interlocked.Add(ref _pendingBytes, -entry.Record.Length);
                Interlocked.Add(ref _deadLetterBytes, entry.Record.Length);
            }
            else if (state.Waiting is null)
            {
                // Still the newest write of the key: it goes again after a pause.
                state.Waiting = entry;
                state.Failures++;
                retryIn = Backoff(state.Failures);
            }
            else
            {
                // A newer write of the key arrived meanwhile; it replaces this one (dead letter or not), which is not retried.
                RetireSuperseded(entry);
            }

            if (state.Waiting is null)
            {
                _keys.Remove(id);
                state.Done.TrySetResult();
            }
            else if (retryIn is null)
            {
                _ready.Writer.TryWrite(id);
            }
        }

        if (failure is null)
        {
            Interlocked.Increment(ref _uploaded);
            _changed(id.Bucket, id.Key);
        }
        else if (retryIn is not null)
        {
            Interlocked.Increment(ref _retries);
            _log($"write-back: upload of {id.Bucket}/{id.Key} failed ({failure.GetType().Name}: {failure.Message}); retrying in {retryIn.Value.TotalSeconds:0.0} s");
            _ = RetryLaterAsync(id, retryIn.Value, ct);
        }

        return true;
    }

    private async Task RetryLaterAsync((string Bucket, string Key) id, TimeSpan delay, CancellationToken ct)
    {
        try
        {
            await Task.Delay(delay, ct).ConfigureAwait(false);
            _ready.Writer.TryWrite(id);
        }
        catch (OperationCanceledException)
        {
            // Shutting down: the entry stays in the spool.
        }
    }

    private static TimeSpan Backoff(int failures)
    {
        var ms = Math.Min(s_maxBackoff.TotalMilliseconds, 100 * Math.Pow(2, Math.Min(failures - 1, 20)));
        return TimeSpan.FromMilliseconds(ms * (0.75 + (RandomNumberGenerator.GetInt32(500) / 1000.0)));
    }
}
