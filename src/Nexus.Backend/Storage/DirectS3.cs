// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Backend.Services;

namespace Nexus.Backend.Storage;

/// <summary>
/// The backend's own hot storage requests (the prefetch GET, the HEAD that revalidates a prefetched copy, the upload of a
/// spooled write), sent on a pooled <see cref="HttpClient"/> and signed by <see cref="ServiceSigner"/> (the SDK's
/// SigV4 key derivation and signature), without the AWS SDK's request pipeline: its marshalling, endpoint rules, retry,
/// metrics and unmarshalling handlers were most of the node's CPU per call with a remote store (docs/evaluation.md).
/// Only requests whose every field the backend builds itself go here; a function's own requests keep the SDK. A failure
/// is never hidden: the caller falls back to the SDK (a prefetch is skipped, a revalidation counts as stale) or retries
/// (an upload).
/// </summary>
internal sealed class DirectS3(NexusBackendOptions options, HttpClient http)
{
    private readonly ServiceEndpoint _endpoint = new() { Url = options.ServiceUrl };

    /// <summary>
    /// A HEAD conditional on <paramref name="etag"/>, with the object's checksums as a prefetch GET asks for them: a 200
    /// says the object is still the body that ETag names, and its headers are the object's as they are now.
    /// </summary>
    public Task<HttpResponseMessage> HeadIfMatchAsync(string bucket, string key, string etag, CancellationToken ct) =>
        SendAsync("HeadObject", "HEAD", ObjectPath(bucket, key), [new("If-Match", etag), new("x-amz-checksum-mode", "ENABLED")], [], ct);

    /// <summary>The store's status for a HEAD of <paramref name="bucket"/> (200: it exists, 404: it does not).</summary>
    public async Task<System.Net.HttpStatusCode> HeadBucketAsync(string bucket, CancellationToken ct)
    {
        using var response = await SendAsync("HeadBucket", "HEAD", "/" + bucket, [], [], ct).ConfigureAwait(false);
        return response.StatusCode;
    }

    /// <summary>A whole-object GET with the object's checksums (checksum mode); the body streams.</summary>
    public Task<HttpResponseMessage> GetAsync(string bucket, string key, CancellationToken ct) =>
        SendAsync("GetObject", "GET", ObjectPath(bucket, key), [new("x-amz-checksum-mode", "ENABLED")], [], ct);

    /// <summary>
    /// A PutObject of <paramref name="body"/> (its length set), with its Content-MD5 (and the writer's checksum, which
    /// the store keeps) for the store to check, and the LastModified the write was acknowledged with
    /// (<see cref="WriteBack.WriteBackQueue.LastModifiedHeader"/>); the ETag the store answered. Throws
    /// <see cref="HttpRequestException"/> when the store refuses it. The body's bytes are not hashed for the signature
    /// (<see cref="ServiceSigner.UnsignedPayload"/>): the Content-MD5 header is signed and the store refuses a body that
    /// does not match it (BadDigest), so the bytes stored are the bytes spooled either way, without reading them a second
    /// time for a SHA-256 (1-1.5 ms per MiB here) or, through the SDK, in signed 64 KiB chunks.
    /// </summary>
    public async Task<string?> PutAsync(string bucket, string key, HttpContent body, string contentType, string contentMd5, IEnumerable<KeyValuePair<string, string>> metadata, WriterChecksum? checksum, DateTimeOffset lastModified, CancellationToken ct)
    {
        List<KeyValuePair<string, string>> headers =
        [
            new("Content-Type", contentType),
            new("Content-MD5", contentMd5),
            new(WriteBack.WriteBackQueue.LastModifiedHeader, WriteBack.WriteBackQueue.LastModifiedValue(lastModified)),
        ];
        if (checksum is not null)
        {
            headers.Add(new(checksum.HeaderName, checksum.Value));
        }

        headers.AddRange(metadata.Select(m => new KeyValuePair<string, string>("x-amz-meta-" + m.Key, m.Value)));
        var request = new ServiceRequest("s3", "PutObject", "PUT", ObjectPath(bucket, key), "", headers);
        using var message = ServiceSigner.SignUnsignedPayload(request, body, _endpoint, options.AccessKey, options.SecretKey, options.Region, DateTime.UtcNow);
        using var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"the store answered {(int)response.StatusCode} to PutObject", null, response.StatusCode);
        }

        return Header(response, "ETag");
    }

    /// <summary>True when every value can travel as a header exactly as the SDK would send it (printable ASCII).</summary>
    public static bool IsPlainHeader(string value) => value.All(c => c is '\t' or (>= ' ' and < '\x7f'));

    /// <summary>A response header's value as the store sent it (the SDK reads them unparsed too), or null.</summary>
    public static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.NonValidated.TryGetValues(name, out var values) || response.Content.Headers.NonValidated.TryGetValues(name, out values)
            ? values.ToString()
            : null;

    // Path style, as the SDK client is configured; the signer decodes the path once and signs and sends it encoded by
    // SigV4's rules, so every byte of the key is escaped here.
    private static string ObjectPath(string bucket, string key) => "/" + bucket + "/" + Uri.EscapeDataString(key);

    private async Task<HttpResponseMessage> SendAsync(string operation, string method, string path, IReadOnlyList<KeyValuePair<string, string>> headers, byte[] body, CancellationToken ct)
    {
        var request = new ServiceRequest("s3", operation, method, path, "", headers);
        using var message = ServiceSigner.Sign(request, body, _endpoint, "s3", options.AccessKey, options.SecretKey, options.Region, DateTime.UtcNow);
        return await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
    }
}
