// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Text;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Nexus.Store;

internal sealed partial class S3Handler
{
    private const string OwnerId = "nexus";

    private static readonly HashSet<string> s_listParams = ["prefix", "delimiter", "marker", "max-keys", "encoding-type", "list-type", "continuation-token", "start-after", "fetch-owner"];
    private static readonly HashSet<string> s_noParams = [];
    private static readonly HashSet<string> s_listBucketsParams = ["max-buckets", "continuation-token", "prefix", "bucket-region"];
    private static readonly HashSet<string> s_deleteParams = ["delete"];
    private static readonly HashSet<string> s_locationParams = ["location"];
    private static readonly HashSet<string> s_versioningParams = ["versioning"];
    private static readonly HashSet<string> s_uploadListParams = ["uploads", "prefix", "delimiter", "key-marker", "upload-id-marker", "max-uploads", "encoding-type"];

    /// <summary>
    /// ListBuckets, with S3's paging and filters (<c>max-buckets</c> 1-10000, <c>continuation-token</c>, <c>prefix</c>,
    /// <c>bucket-region</c>): names in order; a page that stops early carries a ContinuationToken (the last name listed).
    /// </summary>
    private async Task ServiceAsync(S3Request request)
    {
        if (!HttpMethods.IsGet(request.Request.Method) || HasSubresource(request, s_listBucketsParams))
        {
            throw Unsupported(request, "/", s_listBucketsParams);
        }

        var maxBuckets = int.MaxValue;
        if (request.Param("max-buckets") is { } max)
        {
            maxBuckets = int.TryParse(max, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) && parsed is >= 1 and <= 10_000
                ? parsed
                : throw S3Errors.InvalidArgument($"max-buckets must be an integer from 1 to 10000; got '{max}'.");
        }

        var token = request.Param("continuation-token");
        var after = token is null ? null : DecodeToken(token);
        var prefix = request.Param("prefix") ?? "";
        var region = request.Param("bucket-region");

        // A scoped credential (a function's key) sees the buckets it may read at bucket level (HeadBucket), not the
        // node's other buckets: their names belong to other functions.
        var visible = request.Auth.Credential.Authorize;
        var xml = new S3Xml("ListAllMyBucketsResult")
            .Open("Owner").Element("ID", OwnerId).Element("DisplayName", OwnerId).Close("Owner")
            .Open("Buckets");
        var listed = 0;
        string? last = null, next = null;
        foreach (var bucket in _store.ListBuckets().OrderBy(b => b.Name, StringComparer.Ordinal))
        {
            if ((after is not null && string.CompareOrdinal(bucket.Name, after) <= 0) || !bucket.Name.StartsWith(prefix, StringComparison.Ordinal)
                || (region is not null && region != _options.Region)
                || (visible is not null && !visible(new StoreRequestScope(bucket.Name, null, IsWrite: false))))
            {
                continue;
            }

            if (listed == maxBuckets)
            {
                next = EncodeToken(last!);
                break;
            }

            xml.Open("Bucket").Element("Name", bucket.Name).Element("CreationDate", bucket.Created).Element("BucketRegion", _options.Region).Close("Bucket");
            last = bucket.Name;
            listed++;
        }

        xml.Close("Buckets");
        if (next is not null)
        {
            xml.Element("ContinuationToken", next);
        }

        if (request.Param("prefix") is { } stated)
        {
            xml.Element("Prefix", stated);
        }

        await WriteXmlAsync(request, xml.Finish("ListAllMyBucketsResult"));
    }

    private async Task BucketAsync(S3Request request)
    {
        var method = request.Request.Method;
        var name = request.Bucket;
        if (request.Query.ContainsKey("acl") && (HttpMethods.IsGet(method) || HttpMethods.IsPut(method)))
        {
            await (HttpMethods.IsGet(method) ? GetAclAsync(request) : PutAclAsync(request));
            return;
        }

        if (HttpMethods.IsPut(method) && !HasSubresource(request, s_noParams))
        {
            Authorize(request, name, null, isWrite: true);
            await ReceiveSmallBodyAsync(request, "CreateBucket");
            _store.CreateBucket(name);
            request.Response.Headers.Location = "/" + name;
            return;
        }

        if (HttpMethods.IsHead(method))
        {
            RequireOnly(request, "/" + name, s_noParams);
            Authorize(request, name, null, isWrite: false);
            _store.GetBucket(name);
            request.Response.Headers["x-amz-bucket-region"] = _options.Region;
            return;
        }

        if (HttpMethods.IsDelete(method) && !HasSubresource(request, s_noParams))
        {
            Authorize(request, name, null, isWrite: true);
            _store.DeleteBucket(name);
            request.Response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }

        if (HttpMethods.IsPost(method) && request.Query.ContainsKey("delete"))
        {
            RequireOnly(request, "/" + name, s_deleteParams);
            await DeleteObjectsAsync(request);
            return;
        }

        if (HttpMethods.IsGet(method))
        {
            if (request.Query.ContainsKey("location"))
            {
                RequireOnly(request, "/" + name, s_locationParams);
                Authorize(request, name, null, isWrite: false);
                _store.GetBucket(name);
                var region = _options.Region == "us-east-1" ? string.Empty : _options.Region;
                await WriteXmlAsync(request, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint xmlns=\"" + S3Xml.Namespace + "\">" + region + "</LocationConstraint>");
                return;
            }

            if (request.Query.ContainsKey("versioning"))
            {
                RequireOnly(request, "/" + name, s_versioningParams);
                Authorize(request, name, null, isWrite: false);
                _store.GetBucket(name);
                await WriteXmlAsync(request, new S3Xml("VersioningConfiguration").Finish("VersioningConfiguration"));
                return;
            }

            if (request.Query.ContainsKey("uploads"))
            {
                RequireOnly(request, "/" + name, s_uploadListParams);
                await ListUploadsAsync(request);
                return;
            }

            if (request.Query.ContainsKey("versions"))
            {
                await ListVersionsAsync(request);
                return;
            }

            if (ConfigurationRead(request) is { } configuration)
            {
                await GetBucketConfigurationAsync(request, configuration);
                return;
            }

            if (!HasSubresource(request, s_listParams))
            {
                await ListObjectsAsync(request);
                return;
            }
        }

        // A function's key learns that it may not (bucket configuration belongs to the node) before what the store lacks.
        Authorize(request, name, null, isWrite: !HttpMethods.IsGet(method) && !HttpMethods.IsHead(method));
        throw Unsupported(request, "/" + name, s_listParams);
    }

    private async Task ListObjectsAsync(S3Request request)
    {
        var v2 = request.Param("list-type") == "2";
        var prefix = request.Param("prefix") ?? string.Empty;
        var delimiter = request.Param("delimiter");
        var maxKeys = ParseInt(request.Param("max-keys"), "max-keys", 1000, 0, 1000);
        var url = UrlEncoded(request);

        string? after;
        var token = request.Param("continuation-token");
        if (v2)
        {
            after = token is not null ? DecodeToken(token) : request.Param("start-after");
        }
        else
        {
            after = request.Param("marker");
        }

        Authorize(request, request.Bucket, prefix, isWrite: false);
        var bucket = _store.GetBucket(request.Bucket);
        var page = Listing.List(bucket, prefix, string.IsNullOrEmpty(delimiter) ? null : delimiter, string.IsNullOrEmpty(after) ? null : after, maxKeys);

        string Enc(string value) => url ? SigV4.UriEncode(value, keepSlash: true) : value;

        var xml = new S3Xml("ListBucketResult").Element("Name", request.Bucket).Element("Prefix", Enc(prefix));
        if (v2)
        {
            xml.Element("KeyCount", page.Contents.Count + page.CommonPrefixes.Count);
            if (token is not null)
            {
                xml.Element("ContinuationToken", token);
            }

            if (request.Param("start-after") is { } startAfter)
            {
                xml.Element("StartAfter", Enc(startAfter));
            }

            if (page.IsTruncated)
            {
                xml.Element("NextContinuationToken", EncodeToken(page.NextMarker!));
            }
        }
        else
        {
            xml.Element("Marker", Enc(after ?? string.Empty));
            if (page.IsTruncated)
            {
                xml.Element("NextMarker", Enc(page.NextMarker!));
            }
        }

        ListingSettings(xml, maxKeys, delimiter, url, page.IsTruncated);
        var owner = !v2 || request.Param("fetch-owner") == "true";
        foreach (var entry in page.Contents)
        {
            xml.Open("Contents").Element("Key", Enc(entry.Key)).Element("LastModified", entry.LastModified).Element("ETag", Quote(entry.ETag)).Element("Size", entry.Size);
            if (owner)
            {
                xml.Open("Owner").Element("ID", OwnerId).Element("DisplayName", OwnerId).Close("Owner");
            }

            xml.Element("StorageClass", entry.StorageClass).Close("Contents");
        }

        foreach (var common in page.CommonPrefixes)
        {
            xml.Open("CommonPrefixes").Element("Prefix", Enc(common)).Close("CommonPrefixes");
        }

        await WriteXmlAsync(request, xml.Finish("ListBucketResult"));
    }

    private static string EncodeToken(string marker) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(marker));

    private static string DecodeToken(string token)
    {
        try
        {
            return Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token));
        }
        catch (FormatException)
        {
            throw S3Errors.InvalidArgument($"The continuation token provided is incorrect: '{token}'.");
        }
    }

    private async Task ListUploadsAsync(S3Request request)
    {
        var prefix = request.Param("prefix") ?? string.Empty;
        var maxUploads = ParseInt(request.Param("max-uploads"), "max-uploads", 1000, 0, 1000);
        var keyMarker = request.Param("key-marker") ?? string.Empty;
        var uploadIdMarker = request.Param("upload-id-marker") ?? string.Empty;
        Authorize(request, request.Bucket, prefix, isWrite: false);
        var bucket = _store.GetBucket(request.Bucket);
        var uploads = new List<Upload>();
        var truncated = false;
        var beforeIdMarker = uploadIdMarker.Length > 0;
        foreach (var upload in ObjectStore.ListUploads(bucket))
        {
            // S3 resumes after the key marker or, with an upload-id marker, after that upload of the marker's key.
            var byKey = keyMarker.Length == 0 ? 1 : Utf8KeyComparer.Instance.Compare(upload.Key, keyMarker);
            if (byKey < 0 || (byKey == 0 && (uploadIdMarker.Length == 0 || beforeIdMarker)))
            {
                beforeIdMarker &= !(byKey == 0 && upload.Id == uploadIdMarker);
                continue;
            }

            if (!upload.Key.StartsWith(prefix, StringComparison.Ordinal))
            {
                continue;
            }

            if (uploads.Count == maxUploads)
            {
                truncated = maxUploads > 0;
                break;
            }

            uploads.Add(upload);
        }

        var xml = new S3Xml("ListMultipartUploadsResult").Element("Bucket", request.Bucket).Element("KeyMarker", keyMarker).Element("UploadIdMarker", uploadIdMarker);
        if (truncated)
        {
            xml.Element("NextKeyMarker", uploads[^1].Key).Element("NextUploadIdMarker", uploads[^1].Id);
        }

        xml.Element("Prefix", prefix).Element("MaxUploads", maxUploads).Element("IsTruncated", truncated);
        foreach (var upload in uploads)
        {
            xml.Open("Upload").Element("Key", upload.Key).Element("UploadId", upload.Id).Element("Initiated", upload.Initiated).Element("StorageClass", "STANDARD").Close("Upload");
        }

        await WriteXmlAsync(request, xml.Finish("ListMultipartUploadsResult"));
    }
}

/// <summary>One page of a listing, computed from a bucket's sorted index.</summary>
internal sealed record ListingPage(List<ObjectEntry> Contents, List<string> CommonPrefixes, bool IsTruncated, string? NextMarker);

internal static class Listing
{
    /// <summary>
    /// Keys after <paramref name="after"/> that start with <paramref name="prefix"/>, in UTF-8 order; with a
    /// delimiter, keys sharing prefix+…+delimiter roll up into one common prefix, which counts toward max-keys.
    /// </summary>
    public static ListingPage List(Bucket bucket, string prefix, string? delimiter, string? after, int maxKeys)
    {
        var contents = new List<ObjectEntry>();
        var commons = new List<string>();
        string? next = null;
        var truncated = false;
        lock (bucket.Sync)
        {
            var objects = bucket.Objects;
            var start = bucket.Find(prefix);
            var i = start >= 0 ? start : ~start;
            string? lastCommon = null;
            if (after is not null && Utf8KeyComparer.Instance.Compare(after, prefix) >= 0)
            {
                var found = bucket.Find(after);
                i = found >= 0 ? found + 1 : ~found;
                if (delimiter is not null && after.StartsWith(prefix, StringComparison.Ordinal) && after.EndsWith(delimiter, StringComparison.Ordinal)
                    && after.IndexOf(delimiter, prefix.Length, StringComparison.Ordinal) == after.Length - delimiter.Length)
                {
                    // Resuming after a common prefix: skip the keys it already stood for.
                    lastCommon = after;
                }
            }

            for (; i < objects.Count; i++)
            {
                var entry = objects[i];
                if (!entry.Key.StartsWith(prefix, StringComparison.Ordinal))
                {
                    break;
                }

                if (delimiter is not null)
                {
                    var at = entry.Key.IndexOf(delimiter, prefix.Length, StringComparison.Ordinal);
                    if (at >= 0)
                    {
                        var common = entry.Key[..(at + delimiter.Length)];
                        if (common == lastCommon)
                        {
                            continue;
                        }

                        if (contents.Count + commons.Count >= maxKeys)
                        {
                            truncated = maxKeys > 0;
                            break;
                        }

                        commons.Add(common);
                        lastCommon = common;
                        next = common;
                        continue;
                    }
                }

                if (contents.Count + commons.Count >= maxKeys)
                {
                    truncated = maxKeys > 0;
                    break;
                }

                contents.Add(entry);
                next = entry.Key;
            }
        }

        return new ListingPage(contents, commons, truncated, truncated ? next : null);
    }
}
