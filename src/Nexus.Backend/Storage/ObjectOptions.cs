// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Text.Json;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Nexus.Channel.Services;
using Nexus.Functions;

namespace Nexus.Backend.Storage;

/// <summary>
/// The optional parameters of PutObject / GetObject / HeadObject beyond bucket and key (stored headers, storage class,
/// encryption, tags, Content-MD5, date conditions, response overrides), validated as hostile input and applied to the
/// SDK request; and the response fields and request id that go back to the sandbox.
/// </summary>
internal static class ObjectOptions
{
    private const int MaxHeaderValue = 8 * 1024;

    /// <summary>S3's limit on an object's user metadata: the UTF-8 bytes of its names and values, 2 KB.</summary>
    private const int MaxUserMetadataBytes = 2048;

    private static readonly (string Name, Action<HeadersCollection, string> Set)[] s_putHeaders =
    [
        ("CacheControl", (h, v) => h.CacheControl = v),
        ("ContentDisposition", (h, v) => h.ContentDisposition = v),
        ("ContentEncoding", (h, v) => h.ContentEncoding = v),
        ("ContentLanguage", (h, v) => h.ContentLanguage = v),
    ];

    private static readonly (string Name, string Header)[] s_presignedReadHeaders = [("Range", "Range"), ("IfMatch", "If-Match"), ("IfNoneMatch", "If-None-Match")];
    private static readonly (string Name, string Header)[] s_presignedReadDates = [("IfModifiedSince", "If-Modified-Since"), ("IfUnmodifiedSince", "If-Unmodified-Since")];

    private static readonly (string Name, Action<ResponseHeaderOverrides, string> Set)[] s_overrides =
    [
        ("ResponseCacheControl", (o, v) => o.CacheControl = v),
        ("ResponseContentDisposition", (o, v) => o.ContentDisposition = v),
        ("ResponseContentEncoding", (o, v) => o.ContentEncoding = v),
        ("ResponseContentLanguage", (o, v) => o.ContentLanguage = v),
        ("ResponseContentType", (o, v) => o.ContentType = v),
    ];

    private static readonly string[] s_putOnly = ["CacheControl", "ContentDisposition", "ContentEncoding", "ContentLanguage", "StorageClass", "ServerSideEncryption", "Tagging", "ContentMD5"];

    /// <summary>True when a PutObject carries options the write-back spool does not keep (it is then uploaded at once).</summary>
    public static bool HasPutOptions(JsonElement p) => s_putOnly.Any(name => p.TryGetProperty(name, out _));

    /// <summary>
    /// True when a read depends on more than bucket and key (conditions, overrides): it must go to storage rather than be
    /// answered from a prefetch or the spool.
    /// </summary>
    public static bool IsConditionalRead(JsonElement p) =>
        ChannelJson.OptionalString(p, "IfMatch") is not null || ChannelJson.OptionalString(p, "IfNoneMatch") is not null
        || p.TryGetProperty("IfModifiedSince", out _) || p.TryGetProperty("IfUnmodifiedSince", out _)
        || s_overrides.Any(o => p.TryGetProperty(o.Name, out _));

    public static void ApplyPut(PutObjectRequest put, JsonElement p)
    {
        var (storageClass, encryption, tags) = ApplyNewObject(put.Headers, p);
        put.StorageClass = storageClass ?? put.StorageClass;
        put.ServerSideEncryptionMethod = encryption ?? put.ServerSideEncryptionMethod;
        put.TagSet = tags ?? put.TagSet;
        if (HeaderValue(p, "ContentMD5") is { } md5)
        {
            // The store checks it against the body it receives: BadDigest, as S3 answers.
            put.MD5Digest = md5;
        }
    }

    /// <summary>CreateMultipartUpload: the new object's stored headers, storage class, encryption and tags, as PutObject's.</summary>
    public static void ApplyInitiate(InitiateMultipartUploadRequest initiate, JsonElement p)
    {
        var (storageClass, encryption, tags) = ApplyNewObject(initiate.Headers, p);
        initiate.StorageClass = storageClass ?? initiate.StorageClass;
        initiate.ServerSideEncryptionMethod = encryption ?? initiate.ServerSideEncryptionMethod;
        initiate.TagSet = tags ?? initiate.TagSet;
    }

    /// <summary>
    /// A presigned PutObject's new-object headers (content type, metadata, the stored headers, storage class,
    /// encryption, tags), signed into the URL as boto3 signs them: the uploader must send each exactly as given.
    /// </summary>
    public static void ApplyPresignedPut(GetPreSignedUrlRequest presign, JsonElement p)
    {
        if (ContentType(p) is { } contentType)
        {
            presign.ContentType = contentType;
        }

        var (storageClass, encryption, tags) = ApplyNewObject(presign.Headers, p);
        if (storageClass is not null)
        {
            presign.Headers["x-amz-storage-class"] = storageClass.Value;
        }

        presign.ServerSideEncryptionMethod = encryption ?? presign.ServerSideEncryptionMethod;
        if (tags is not null)
        {
            // Validated above by S3's rules; signed as the caller wrote it, as boto3 signs its Tagging string.
            presign.Headers["x-amz-tagging"] = HeaderValue(p, "Tagging");
        }

        foreach (var (name, value) in Metadata(p))
        {
            presign.Metadata.Add(name, value);
        }
    }

    /// <summary>
    /// A presigned GetObject's or HeadObject's range and conditions, signed into the URL as boto3 signs them (Range,
    /// If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since as HTTP dates): the downloader must send each
    /// exactly as given, or the URL's signature does not match.
    /// </summary>
    public static void ApplyPresignedRead(GetPreSignedUrlRequest presign, JsonElement p)
    {
        foreach (var (name, header) in s_presignedReadHeaders)
        {
            if (HeaderValue(p, name) is { } value)
            {
                presign.Headers[header] = value;
            }
        }

        foreach (var (name, header) in s_presignedReadDates)
        {
            if (Date(p, name) is { } date)
            {
                presign.Headers[header] = date.ToString("r", CultureInfo.InvariantCulture);
            }
        }
    }

    /// <summary>
    /// A presigned PutObject's or UploadPart's Content-MD5 and x-amz-checksum-* (at most one), signed into the URL as
    /// boto3 signs them: the uploader must send them as given, and the store checks the body against them (BadDigest).
    /// </summary>
    public static void ApplyPresignedIntegrity(GetPreSignedUrlRequest presign, JsonElement p)
    {
        if (HeaderValue(p, "ContentMD5") is { } md5)
        {
            presign.Headers.ContentMD5 = md5;
        }

        if (PutChecksum(p) is { } checksum)
        {
            presign.Headers[checksum.HeaderName] = checksum.Value;
        }
    }

    /// <summary>The checksum a PutObject's writer sent (at most one, as S3 allows), or null.</summary>
    public static WriterChecksum? PutChecksum(JsonElement p)
    {
        WriterChecksum? found = null;
        foreach (var (field, algorithm) in WriterChecksum.Fields)
        {
            if (HeaderValue(p, field) is not { } value)
            {
                continue;
            }

            if (found is not null)
            {
                throw new ChannelRequestException(400, "InvalidRequest", "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.");
            }

            found = new WriterChecksum(algorithm, value);
        }

        return found;
    }

    /// <summary>
    /// The new object's ContentType, or null: a header value (<see cref="HeaderValue"/>) that parses as a media type. S3
    /// itself stores any string, but the node's S3 client sends only a parsable one; a value it cannot send is refused
    /// here with 400 rather than failing inside the client.
    /// </summary>
    public static string? ContentType(JsonElement p)
    {
        var value = HeaderValue(p, "ContentType");
        if (value is not null && !System.Net.Http.Headers.MediaTypeHeaderValue.TryParse(value, out _))
        {
            throw new ChannelRequestException(400, "InvalidArgument", $"parameter ContentType '{value}' is not a media type (type/subtype, then optional ; name=value parameters)");
        }

        return value;
    }

    /// <summary>
    /// A value that becomes an HTTP header of a storage request (Content-MD5, an upload id): visible ASCII, bounded.
    /// </summary>
    public static string? HeaderValue(JsonElement p, string name)
    {
        var value = ChannelJson.OptionalString(p, name);
        if (value is null)
        {
            return null;
        }

        if (value.Length > MaxHeaderValue || value.Any(c => c is not ((>= ' ' and <= '~') or '\t')))
        {
            throw ChannelRequestException.Invalid($"parameter {name} must be at most {MaxHeaderValue} characters of printable ASCII (it becomes an HTTP header)");
        }

        return value;
    }

    /// <summary>
    /// The new object's user metadata, each entry of which becomes the header x-amz-meta-NAME of a storage request (or a
    /// signed header of a presigned URL): names HTTP tokens, values as <see cref="HeaderValue"/>, no two names that one
    /// header name stands for (header names ignore case), and at most S3's 2 KB in all (names and values, as S3 counts
    /// them). Checked before the write is spooled or signed: a spooled write is acknowledged before the store sees it,
    /// and storage refuses each of these for good (a value with CR or LF breaks the header line, the store answered it
    /// SignatureDoesNotMatch; so it did two names differing in case; MetadataTooLarge past 2 KB), so it would never land.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Metadata(JsonElement p)
    {
        var metadata = ChannelJson.OptionalStringMap(p, "Metadata");
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var size = 0;
        foreach (var (name, value) in metadata)
        {
            if (name.Length is < 1 or > 256 || !name.All(Services.ServiceRequest.IsTokenChar))
            {
                throw ChannelRequestException.Invalid($"metadata name {StorageAuthorization.Quote(name)} is not an HTTP token (letters, digits and !#$%&'*+-.^_`|~): it becomes a header name");
            }

            if (value.Length > MaxHeaderValue || value.Any(c => c is not ((>= ' ' and <= '~') or '\t')))
            {
                throw ChannelRequestException.Invalid($"metadata {StorageAuthorization.Quote(name)} must be at most {MaxHeaderValue} characters of printable ASCII (it becomes an HTTP header)");
            }

            if (!names.Add(name))
            {
                throw ChannelRequestException.Invalid($"metadata names {StorageAuthorization.Quote(name)} and {StorageAuthorization.Quote(names.First(n => n.Equals(name, StringComparison.OrdinalIgnoreCase)))} differ only in case: both would be the header x-amz-meta-{name.ToLowerInvariant()}");
            }

            // Names and values are ASCII (checked above): a character is a byte.
            size += name.Length + value.Length;
        }

        if (size > MaxUserMetadataBytes)
        {
            throw new ChannelRequestException(400, "MetadataTooLarge", $"Your metadata headers exceed the maximum allowed metadata size: {size} > {MaxUserMetadataBytes} bytes (names and values; S3's limit).");
        }

        return metadata;
    }

    /// <summary>Date conditions and response overrides of a GetObject (the ETag conditions are set by the caller).</summary>
    public static void ApplyGet(GetObjectRequest get, JsonElement p)
    {
        get.ModifiedSinceDate = Date(p, "IfModifiedSince");
        get.UnmodifiedSinceDate = Date(p, "IfUnmodifiedSince");
        ApplyOverrides(get.ResponseHeaderOverrides, p);
    }

    /// <summary>The Response* overrides of a GetObject (also of a presigned GET).</summary>
    public static void ApplyOverrides(ResponseHeaderOverrides overrides, JsonElement p)
    {
        foreach (var (name, set) in s_overrides)
        {
            if (HeaderValue(p, name) is { } value)
            {
                set(overrides, value);
            }
        }
    }

    public static void ApplyHead(GetObjectMetadataRequest head, JsonElement p)
    {
        head.ModifiedSinceDate = Date(p, "IfModifiedSince");
        head.UnmodifiedSinceDate = Date(p, "IfUnmodifiedSince");
    }

    private static (S3StorageClass? StorageClass, ServerSideEncryptionMethod? Encryption, List<Tag>? Tags) ApplyNewObject(HeadersCollection headers, JsonElement p)
    {
        foreach (var (name, set) in s_putHeaders)
        {
            if (HeaderValue(p, name) is { } value)
            {
                set(headers, value);
            }
        }

        return (
            Token(p, "StorageClass") is { } storageClass ? new S3StorageClass(storageClass) : null,
            Token(p, "ServerSideEncryption") is { } encryption ? new ServerSideEncryptionMethod(encryption) : null,
            ChannelJson.OptionalString(p, "Tagging") is { } tagging ? ParseTags(tagging) : null);
    }

    /// <summary>Parses and validates a boto3 Tagging string ("k=v&amp;k2=v2") with S3's rules and S3's errors.</summary>
    public static List<Tag> ParseTags(string tagging)
    {
        try
        {
            return ObjectTagRules.ParseHeader(tagging).Select(t => new Tag { Key = t.Key, Value = t.Value }).ToList();
        }
        catch (InvalidTagsException e)
        {
            throw new ChannelRequestException(400, e.Code, e.Message);
        }
    }

    /// <summary>A write's echo of the encryption the store applied, and the request id.</summary>
    public static void WriteEncryptionAndRequestId(Utf8JsonWriter w, ObjectEncryption encryption, AmazonWebServiceResponse response)
    {
        encryption.Write(w);
        WriteRequestId(w, response);
    }

    /// <summary>The storage's own request id, so that what the function logs can be found in the storage's logs.</summary>
    public static void WriteRequestId(Utf8JsonWriter w, AmazonWebServiceResponse response) =>
        WriteRequestId(w, response.ResponseMetadata?.RequestId);

    public static void WriteRequestId(Utf8JsonWriter w, string? requestId)
    {
        if (!string.IsNullOrEmpty(requestId))
        {
            w.WriteStartObject("ResponseMetadata");
            w.WriteString("RequestId", requestId);
            w.WriteEndObject();
        }
    }

    /// <summary>An owner (of the buckets, of a listed object) as S3 names it; nothing when storage named none.</summary>
    public static void WriteOwner(Utf8JsonWriter w, Owner? owner)
    {
        if (owner is not null)
        {
            w.WriteStartObject("Owner");
            ChannelJson.WriteIfPresent(w, "DisplayName", owner.DisplayName);
            ChannelJson.WriteIfPresent(w, "ID", owner.Id);
            w.WriteEndObject();
        }
    }

    /// <summary>An error from storage, with the resource its error document names and storage's request id.</summary>
    public static byte[] ErrorJson(string code, string message, string? requestId, string resource) => ChannelJson.Write(w =>
    {
        w.WriteStartObject();
        w.WriteStartObject("Error");
        w.WriteString("Code", code);
        w.WriteString("Message", message);
        w.WriteString("Resource", resource);
        w.WriteEndObject();
        WriteRequestId(w, requestId);
        w.WriteEndObject();
    });

    /// <summary>An enumeration value (storage class, encryption): S3 names are letters, digits, '_' and ':'; storage judges the name.</summary>
    private static string? Token(JsonElement p, string name)
    {
        var value = ChannelJson.OptionalString(p, name);
        if (value is not null && (value.Length is 0 or > 64 || !value.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or ':' or '-')))
        {
            throw ChannelRequestException.Invalid($"parameter {name} is not a valid S3 value: {value[..Math.Min(value.Length, 64)]}");
        }

        return value;
    }

    /// <summary>A timestamp parameter: ISO 8601 (how the stand-in sends datetimes) or an HTTP date.</summary>
    private static DateTime? Date(JsonElement p, string name)
    {
        var value = ChannelJson.OptionalString(p, name);
        if (value is null)
        {
            return null;
        }

        if (value.Length > 64 || !DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
        {
            throw ChannelRequestException.Invalid($"parameter {name} is not a timestamp: {value[..Math.Min(value.Length, 64)]}");
        }

        return parsed.UtcDateTime;
    }
}
