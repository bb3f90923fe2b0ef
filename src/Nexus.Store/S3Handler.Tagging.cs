// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Microsoft.AspNetCore.Http;
using Nexus.Functions;

namespace Nexus.Store;

/// <summary>Object tagging (GET/PUT/DELETE ?tagging) and the storage-class header of a write.</summary>
internal sealed partial class S3Handler
{
    internal const string StorageClassHeader = "x-amz-storage-class";
    private const string WebsiteRedirectHeader = "x-amz-website-redirect-location";

    /// <summary>The storage classes whose objects are readable at once; the archive classes need a restore S3-side.</summary>
    private static readonly HashSet<string> s_storageClasses = ["STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR"];
    private static readonly HashSet<string> s_archiveClasses = ["GLACIER", "DEEP_ARCHIVE", "OUTPOSTS", "SNOW", "EXPRESS_ONEZONE"];

    private async Task TaggingAsync(S3Request request)
    {
        var method = request.Request.Method;
        var bucket = _store.GetBucket(request.Bucket);
        if (HttpMethods.IsGet(method))
        {
            Authorize(request, request.Bucket, request.Key, isWrite: false);
            using var stored = _store.OpenObject(bucket, request.Key) ?? throw S3Errors.NoSuchKey(request.Key);
            await WriteXmlAsync(request, ObjectTags.ToDocument(stored.Info.Tags));
            return;
        }

        if (HttpMethods.IsPut(method) || HttpMethods.IsDelete(method))
        {
            Authorize(request, request.Bucket, request.Key, isWrite: true);
            List<KeyValuePair<string, string>> tags = [];
            if (HttpMethods.IsPut(method))
            {
                using var body = await ReceiveSmallBodyAsync(request, "PutObjectTagging");
                tags = ObjectTags.ParseDocument(await S3Xml.ReadAsync(body, MaxXmlBody, "PutObjectTagging", request.Aborted));
            }

            if (!await _store.ReplaceTagsAsync(bucket, request.Key, tags, request.Aborted))
            {
                throw S3Errors.NoSuchKey(request.Key);
            }

            request.Response.StatusCode = HttpMethods.IsPut(method) ? StatusCodes.Status200OK : StatusCodes.Status204NoContent;
            return;
        }

        throw Unsupported(request, "/" + request.Bucket + "/key", s_getObjectParams);
    }

    /// <summary>The tag set a write asks for in x-amz-tagging (empty when the header is absent).</summary>
    private static List<KeyValuePair<string, string>> RequestedTags(HttpRequest request)
    {
        var header = request.Headers[ObjectTagRules.Header].ToString();
        return header.Length == 0 ? [] : ObjectTags.ParseHeader(header);
    }

    /// <summary>
    /// x-amz-storage-class and the encryption options of a write (<see cref="AddEncryption"/>), validated, as headers to
    /// store. STANDARD is not stored (S3 does not report it on GET/HEAD).
    /// </summary>
    private void AddStorageOptions(IHeaderDictionary headers, List<KeyValuePair<string, string>> stored)
    {
        var storageClass = headers[StorageClassHeader].ToString();
        if (storageClass.Length > 0 && storageClass != "STANDARD")
        {
            if (s_archiveClasses.Contains(storageClass))
            {
                throw S3Errors.NotImplemented($"{StorageClassHeader}: {storageClass} (archive and special storage classes)");
            }

            if (!s_storageClasses.Contains(storageClass))
            {
                throw new S3Exception(400, "InvalidStorageClass", $"The storage class you specified is not valid: '{storageClass}'.");
            }

            stored.Add(new(StorageClassHeader, storageClass));
        }

        AddEncryption(headers, stored);
    }

    /// <summary>
    /// The options each write states for itself and a copy never takes from its source (S3 copies none of them): the
    /// storage class, the encryption and the website redirect. Stating one is also what lets a copy onto itself happen.
    /// </summary>
    private static bool IsWriteOption(string header) =>
        header.Equals(StorageClassHeader, StringComparison.OrdinalIgnoreCase) || IsEncryptionOption(header)
        || header.Equals(WebsiteRedirectHeader, StringComparison.OrdinalIgnoreCase);
}
