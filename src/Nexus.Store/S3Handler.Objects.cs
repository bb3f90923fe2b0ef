// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Nexus.Store;

internal sealed partial class S3Handler
{
    private static readonly HashSet<string> s_getObjectParams =
        ["response-content-type", "response-content-language", "response-expires", "response-cache-control", "response-content-disposition", "response-content-encoding", "partNumber", "versionId"];

    private static readonly HashSet<string> s_partParams = ["partNumber", "uploadId"];
    private static readonly HashSet<string> s_taggingParams = ["tagging", "versionId"];
    private static readonly HashSet<string> s_partListParams = ["uploadId", "max-parts", "part-number-marker", "encoding-type"];
    private static readonly HashSet<string> s_uploadParams = ["uploadId"];
    private static readonly HashSet<string> s_uploadsParams = ["uploads"];

    private static readonly (string Query, string Header)[] s_responseOverrides =
    [
        ("response-content-type", "Content-Type"),
        ("response-content-language", "Content-Language"),
        ("response-expires", "Expires"),
        ("response-cache-control", "Cache-Control"),
        ("response-content-disposition", "Content-Disposition"),
        ("response-content-encoding", "Content-Encoding"),
    ];

    private async Task ObjectAsync(S3Request request)
    {
        var method = request.Request.Method;
        var query = request.Query;
        var scope = "/" + request.Bucket + "/key";
        CheckVersionId(query.GetValueOrDefault("versionId"));
        if (query.ContainsKey("tagging"))
        {
            RequireOnly(request, scope, s_taggingParams);
            await TaggingAsync(request);
            return;
        }

        if (query.ContainsKey("acl") && (HttpMethods.IsGet(method) || HttpMethods.IsPut(method)))
        {
            await (HttpMethods.IsGet(method) ? GetAclAsync(request) : PutAclAsync(request));
            return;
        }

        if ((query.ContainsKey("retention") || query.ContainsKey("legal-hold")) && (HttpMethods.IsGet(method) || HttpMethods.IsPut(method)))
        {
            throw await ObjectLockRefusalAsync(request);
        }

        if (query.ContainsKey("restore") && HttpMethods.IsPost(method))
        {
            throw await RestoreRefusalAsync(request);
        }

        if (HttpMethods.IsGet(method))
        {
            if (query.ContainsKey("uploadId"))
            {
                RequireOnly(request, scope, s_partListParams);
                await ListPartsAsync(request);
                return;
            }

            if (query.ContainsKey("attributes"))
            {
                RequireOnly(request, scope, s_attributesParams);
                await GetObjectAttributesAsync(request);
                return;
            }

            if (!HasSubresource(request, s_getObjectParams))
            {
                await GetObjectAsync(request, head: false);
                return;
            }
        }
        else if (HttpMethods.IsHead(method))
        {
            RequireOnly(request, scope, s_getObjectParams);
            await GetObjectAsync(request, head: true);
            return;
        }
        else if (HttpMethods.IsPut(method))
        {
            var copySource = request.Request.Headers["x-amz-copy-source"].ToString();
            if (query.ContainsKey("uploadId") && !HasSubresource(request, s_partParams))
            {
                await UploadPartAsync(request, copySource.Length > 0 ? copySource : null);
                return;
            }

            if (!HasSubresource(request, s_noParams))
            {
                if (copySource.Length > 0)
                {
                    await CopyObjectAsync(request, copySource);
                }
                else
                {
                    await PutObjectAsync(request);
                }

                return;
            }
        }
        else if (HttpMethods.IsDelete(method))
        {
            if (query.TryGetValue("uploadId", out var uploadId))
            {
                RequireOnly(request, scope, s_uploadParams);
                Authorize(request, request.Bucket, request.Key, isWrite: true);
                _store.AbortUpload(_store.GetBucket(request.Bucket), uploadId, request.Key);
                request.Response.StatusCode = StatusCodes.Status204NoContent;
                return;
            }

            if (!HasSubresource(request, s_getObjectParams))
            {
                DeleteObject(request);
                return;
            }
        }
        else if (HttpMethods.IsPost(method))
        {
            if (query.ContainsKey("uploads"))
            {
                RequireOnly(request, scope, s_uploadsParams);
                await CreateUploadAsync(request);
                return;
            }

            if (query.TryGetValue("uploadId", out var uploadId))
            {
                RequireOnly(request, scope, s_uploadParams);
                await CompleteUploadAsync(request, uploadId);
                return;
            }
        }

        throw Unsupported(request, scope, s_getObjectParams);
    }

    private async Task PutObjectAsync(S3Request request)
    {
        Authorize(request, request.Bucket, request.Key, isWrite: true);
        var bucket = _store.GetBucket(request.Bucket);
        var (contentType, headers, metadata, tags) = ReadObjectHeaders(request.Request);
        await using var pending = _store.BeginWrite();
        var declared = await ReceiveBodyAsync(request, pending.WriteAsync, pending.Md5Hex);
        var info = new ObjectInfo(request.Key, pending.Length, pending.Md5Hex(), AcknowledgedAt(request) ?? _options.TimeProvider.GetUtcNow(), contentType, headers, metadata, tags)
        {
            Checksum = declared ?? pending.Crc64NvmeChecksum(),
        };
        var entry = _store.CommitObject(bucket, pending, info, WriteCondition(request.Request.Headers, request.Key));
        request.Response.Headers.ETag = Quote(entry.ETag);
        WriteEncryption(request.Response, info.Headers);

        // As S3: a PUT's response carries the checksum the object keeps.
        WriteChecksum(request.Response, info);
    }

    private const string AcknowledgedAtHeader = "x-nexus-last-modified";

    /// <summary>
    /// The LastModified a node's write-back upload carries (<c>x-nexus-last-modified</c>, Unix milliseconds: when the
    /// node acknowledged the write, and what the function read back from its spool), honoured only from a full-access
    /// credential (the node's own) on a header-signed request whose signature covers it: a scoped key cannot date its
    /// objects, and neither can the holder of a presigned URL (signed with the node's key) by adding the header. Null:
    /// the store's clock decides.
    /// </summary>
    private static DateTimeOffset? AcknowledgedAt(S3Request request) =>
        request.Auth.Credential.Authorize is null
        && !request.Auth.Presigned
        && request.Auth.SignedHeaders.Contains(AcknowledgedAtHeader)
        && long.TryParse(request.Request.Headers[AcknowledgedAtHeader].ToString(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ms)
        && ms <= DateTimeOffset.MaxValue.ToUnixTimeMilliseconds()
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
            : null;

    /// <summary>The object's checksum headers, full-object or composite (PUT responses; GET and HEAD in checksum mode, whole objects only).</summary>
    private static void WriteChecksum(HttpResponse response, ObjectInfo info)
    {
        if (info.Checksum is { } checksum)
        {
            response.Headers[checksum.HeaderName] = checksum.Value;
            response.Headers["x-amz-checksum-type"] = checksum.IsComposite ? "COMPOSITE" : "FULL_OBJECT";
        }
    }

    private async Task GetObjectAsync(S3Request request, bool head)
    {
        Authorize(request, request.Bucket, request.Key, isWrite: false);
        var bucket = _store.GetBucket(request.Bucket);
        using var stored = _store.OpenObject(bucket, request.Key) ?? throw S3Errors.NoSuchKey(request.Key);
        CheckCustomerKey(request.Request.Headers, stored.Info.Headers);
        var info = stored.Info;
        var response = request.Response;
        var requestHeaders = request.Request.Headers;
        var precondition = Preconditions(info, requestHeaders.IfMatch, requestHeaders.IfNoneMatch, requestHeaders.IfModifiedSince, requestHeaders.IfUnmodifiedSince);
        response.Headers.ETag = Quote(info.ETag);
        response.Headers.LastModified = HttpDate(info.LastModified);
        if (precondition == StatusCodes.Status412PreconditionFailed)
        {
            throw S3Errors.PreconditionFailed("If-Match / If-Unmodified-Since");
        }

        if (precondition == StatusCodes.Status304NotModified)
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }

        long offset = 0, count = info.Size;
        ObjectPart? part = null;
        var partNumber = request.Param("partNumber");
        var range = requestHeaders.Range.ToString();
        if (partNumber is not null)
        {
            (part, offset, count) = SelectPart(request, info, partNumber);
        }
        else if (range.Length > 0 && RangeHeader.Parse(range, info.Size) is { } parsed)
        {
            (offset, count) = parsed;
            response.StatusCode = StatusCodes.Status206PartialContent;
            response.Headers.ContentRange = $"bytes {offset}-{offset + count - 1}/{info.Size}";
        }

        response.Headers.AcceptRanges = "bytes";
        response.ContentType = info.ContentType;
        foreach (var (name, value) in info.Headers)
        {
            response.Headers[name] = value;
        }

        foreach (var (name, value) in info.Metadata)
        {
            response.Headers[name] = value;
        }

        if (info.Tags.Count > 0)
        {
            response.Headers["x-amz-tagging-count"] = info.Tags.Count.ToString(CultureInfo.InvariantCulture);
        }

        foreach (var (queryName, header) in s_responseOverrides)
        {
            if (request.Param(queryName) is { } value)
            {
                response.Headers[header] = value;
            }
        }

        // S3 returns the checksum only when asked (x-amz-checksum-mode: ENABLED) and for the whole object: a range's
        // bytes cannot be checked against it (a part's, when the part has its own).
        if (requestHeaders["x-amz-checksum-mode"].ToString().Equals("ENABLED", StringComparison.OrdinalIgnoreCase))
        {
            if (partNumber is not null)
            {
                WritePartChecksum(response, info, part);
            }
            else if (response.StatusCode != StatusCodes.Status206PartialContent)
            {
                WriteChecksum(response, info);
            }
        }

        response.ContentLength = count;
        if (!head && count > 0)
        {
            await stored.CopyToAsync(response.BodyWriter, offset, count, request.Aborted);
        }
    }

    /// <summary>Evaluates S3's conditional headers: 412, 304 or 0 (go on).</summary>
    private static int Preconditions(ObjectInfo info, StringValues ifMatch, StringValues ifNoneMatch, StringValues ifModifiedSince, StringValues ifUnmodifiedSince)
    {
        var modified = info.LastModified.ToUnixTimeSeconds();
        if (!StringValues.IsNullOrEmpty(ifMatch))
        {
            if (!ETagMatches(ifMatch, info.ETag))
            {
                return StatusCodes.Status412PreconditionFailed;
            }
        }
        else if (TryParseHttpDate(ifUnmodifiedSince, out var since) && modified > since)
        {
            return StatusCodes.Status412PreconditionFailed;
        }

        if (!StringValues.IsNullOrEmpty(ifNoneMatch))
        {
            if (ETagMatches(ifNoneMatch, info.ETag))
            {
                return StatusCodes.Status304NotModified;
            }
        }
        else if (TryParseHttpDate(ifModifiedSince, out var since) && modified <= since)
        {
            return StatusCodes.Status304NotModified;
        }

        return 0;
    }

    private static bool ETagMatches(StringValues header, string etag)
    {
        foreach (var value in header)
        {
            foreach (var range in value.AsSpan().Split(','))
            {
                var candidate = value.AsSpan(range).Trim();
                if (candidate.StartsWith("W/"))
                {
                    candidate = candidate[2..];
                }

                if (candidate is "*" || candidate.Trim('"').Equals(etag, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static bool TryParseHttpDate(StringValues value, out long unixSeconds)
    {
        unixSeconds = 0;
        if (StringValues.IsNullOrEmpty(value))
        {
            return false;
        }

        // An unparseable date is ignored, as HTTP says for conditional headers.
        if (!DateTimeOffset.TryParse(value.ToString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
        {
            return false;
        }

        unixSeconds = parsed.ToUnixTimeSeconds();
        return true;
    }

    private async Task CopyObjectAsync(S3Request request, string copySource)
    {
        var (sourceBucketName, sourceKey) = ParseCopySource(copySource);
        Authorize(request, sourceBucketName, sourceKey, isWrite: false);
        Authorize(request, request.Bucket, request.Key, isWrite: true);
        var directive = request.Request.Headers["x-amz-metadata-directive"].ToString();
        if (directive.Length > 0 && directive is not ("COPY" or "REPLACE"))
        {
            throw S3Errors.InvalidArgument($"Unknown metadata directive '{directive}'; use COPY or REPLACE.");
        }

        var replace = directive == "REPLACE";

        // S3's rule: a copy onto itself must change something; stating a storage class, an encryption or a website
        // redirect does (the idiom that moves an object to another storage class in place).
        var statesOption = request.Request.Headers.Keys.Any(IsWriteOption);
        if (!replace && !statesOption && sourceBucketName == request.Bucket && sourceKey == request.Key)
        {
            throw S3Errors.InvalidRequest("This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.");
        }

        var sourceBucket = _store.GetBucket(sourceBucketName);
        var bucket = _store.GetBucket(request.Bucket);
        using var source = _store.OpenObject(sourceBucket, sourceKey) ?? throw S3Errors.NoSuchKey(sourceKey);
        CheckCustomerKey(request.Request.Headers, source.Info.Headers, copySource: true);
        CheckCopySourceConditions(request, source.Info);
        var requested = ReadObjectHeaders(request.Request);
        var (contentType, headers, metadata) = replace
            ? (requested.ContentType, requested.Headers, requested.Metadata)
            : (source.Info.ContentType, source.Info.Headers.Where(h => !IsWriteOption(h.Key)).Concat(requested.Headers.Where(h => IsWriteOption(h.Key))).ToList(), source.Info.Metadata.ToList());
        var tagging = request.Request.Headers["x-amz-tagging-directive"].ToString();
        if (tagging.Length > 0 && tagging is not ("COPY" or "REPLACE"))
        {
            throw S3Errors.InvalidArgument($"Unknown tagging directive '{tagging}'; use COPY or REPLACE.");
        }

        var tags = tagging == "REPLACE" ? requested.Tags : source.Info.Tags;
        await using var pending = _store.BeginWrite();
        await source.CopyToAsync(pending, 0, source.Info.Size, request.Aborted);
        var info = new ObjectInfo(request.Key, pending.Length, pending.Md5Hex(), _options.TimeProvider.GetUtcNow(), contentType, headers, metadata, tags);
        var entry = _store.CommitObject(bucket, pending, info, WriteCondition(request.Request.Headers, request.Key));
        WriteEncryption(request.Response, info.Headers);
        await WriteXmlAsync(request, new S3Xml("CopyObjectResult").Element("LastModified", entry.LastModified).Element("ETag", Quote(entry.ETag)).Finish("CopyObjectResult"));
    }

    private static void CheckCopySourceConditions(S3Request request, ObjectInfo info)
    {
        var h = request.Request.Headers;
        if (Preconditions(info, h["x-amz-copy-source-if-match"], h["x-amz-copy-source-if-none-match"], h["x-amz-copy-source-if-modified-since"], h["x-amz-copy-source-if-unmodified-since"]) != 0)
        {
            throw S3Errors.PreconditionFailed("x-amz-copy-source-if-*");
        }
    }

    /// <summary>x-amz-copy-source: "[/]bucket/key[?versionId=...]", URL-encoded.</summary>
    private static (string Bucket, string Key) ParseCopySource(string header)
    {
        var value = header;
        var q = value.IndexOf('?', StringComparison.Ordinal);
        if (q >= 0)
        {
            CheckVersionId(ParseQuery(value[(q + 1)..]).GetValueOrDefault("versionId"));
            value = value[..q];
        }

        value = SigV4.UriDecode(value.TrimStart('/'));
        var slash = value.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash == value.Length - 1)
        {
            throw S3Errors.InvalidArgument($"x-amz-copy-source must be 'bucket/key'; got '{header}'.");
        }

        var bucket = value[..slash];
        var key = value[(slash + 1)..];
        S3Names.CheckBucketName(bucket);
        S3Names.CheckKey(key);
        return (bucket, key);
    }
}

/// <summary>HTTP Range for S3 GET: one range "bytes=a-b", "bytes=a-" or "bytes=-n"; and UploadPartCopy's x-amz-copy-source-range.</summary>
internal static class RangeHeader
{
    /// <summary>
    /// UploadPartCopy's <c>x-amz-copy-source-range</c>: exactly "bytes=first-last" within the source, as S3 requires
    /// (400 InvalidArgument otherwise, in S3's words). Unlike a GET's Range it is never clamped: a part cut short would
    /// assemble a shorter object than its client built, without an error.
    /// </summary>
    public static (long Offset, long Count) ParseCopySourceRange(string header, long size)
    {
        const string unit = "bytes=";
        var spec = header.StartsWith(unit, StringComparison.Ordinal) ? header.AsSpan(unit.Length) : [];
        var dash = spec.IndexOf('-');
        if (dash <= 0
            || !long.TryParse(spec[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var first)
            || !long.TryParse(spec[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var last)
            || last < first)
        {
            throw S3Errors.InvalidArgument($"The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy; got '{header}'.");
        }

        return last < size
            ? (first, last - first + 1)
            : throw S3Errors.InvalidArgument($"Range specified is not valid for source object of size: {size}");
    }

    /// <summary>
    /// (offset, count) for a satisfiable range; null when the header is not a single byte range (the whole
    /// object is served, as S3 does); throws InvalidRange (416) when it starts past the end.
    /// </summary>
    public static (long Offset, long Count)? Parse(string header, long size)
    {
        const string unit = "bytes=";
        if (!header.StartsWith(unit, StringComparison.OrdinalIgnoreCase) || header.Contains(',', StringComparison.Ordinal))
        {
            return null;
        }

        var spec = header.AsSpan(unit.Length).Trim();
        var dash = spec.IndexOf('-');
        if (dash < 0)
        {
            return null;
        }

        var first = spec[..dash].Trim();
        var last = spec[(dash + 1)..].Trim();
        if (first.IsEmpty)
        {
            if (!long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var suffix))
            {
                return null;
            }

            if (suffix == 0 || size == 0)
            {
                throw S3Errors.InvalidRange(header, size);
            }

            var length = Math.Min(suffix, size);
            return (size - length, length);
        }

        if (!long.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var start))
        {
            return null;
        }

        long end;
        if (last.IsEmpty)
        {
            end = size - 1;
        }
        else if (!long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out end) || end < start)
        {
            return null;
        }

        if (start >= size)
        {
            throw S3Errors.InvalidRange(header, size);
        }

        end = Math.Min(end, size - 1);
        return (start, end - start + 1);
    }
}
