// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Xml;
using Nexus.Backend.Storage;
using Nexus.Channel.Services;
using Nexus.Functions;

namespace Nexus.Backend.Services;

/// <summary>
/// What a generic-path S3 request (a REST call botocore serialized: method, /bucket/key path, query subresources,
/// x-amz-copy-source) reads and writes, worked out from the request itself and checked against the function's storage
/// grants by the rules the fast path and the store apply to a function's key: an object call reads (GET, HEAD) or
/// writes (PUT, POST, DELETE) its key; a copy also reads its source; a listing (objects, versions, multipart uploads)
/// reads its prefix; a read of a bucket's configuration needs a grant naming the bucket; buckets and their
/// configuration are never written (they belong to the node); DeleteObjects writes every key its body names.
/// </summary>
internal sealed record S3Target(IReadOnlyList<S3Target.ObjectAccess> Objects, IReadOnlyList<(string Bucket, string Prefix)> Listings)
{
    /// <summary>Largest DeleteObjects body read for its keys (1,000 keys of 1,024 bytes, escaped, and the markup).</summary>
    private const int MaxDeleteBody = 8 << 20;

    /// <summary>Query parameters of the listing calls (ListObjects v1/v2, ListObjectVersions, ListMultipartUploads).</summary>
    private static readonly HashSet<string> s_listing =
    [
        "prefix", "delimiter", "marker", "max-keys", "encoding-type", "list-type", "continuation-token", "start-after", "fetch-owner",
        "versions", "key-marker", "version-id-marker", "uploads", "upload-id-marker", "max-uploads", "x-id",
    ];

    /// <summary>Bucket configuration subresources: reading one needs a grant naming the bucket, as HeadBucket does.</summary>
    private static readonly HashSet<string> s_configuration =
    [
        "location", "versioning", "acl", "cors", "policy", "policyStatus", "tagging", "lifecycle", "encryption", "website", "logging",
        "notification", "replication", "requestPayment", "accelerate", "ownershipControls", "publicAccessBlock", "object-lock",
        "analytics", "metrics", "inventory", "intelligent-tiering", "id", "x-id",
    ];

    /// <summary>One object the request touches.</summary>
    internal sealed record ObjectAccess(string Bucket, string Key, StorageAccess Access);

    /// <summary>Checks <paramref name="request"/> against <paramref name="manifest"/>'s grants; throws AccessDenied (or InvalidRequest) otherwise.</summary>
    public static S3Target Authorize(FunctionManifest manifest, ServiceRequest request, ReadOnlySpan<byte> body)
    {
        var path = Uri.UnescapeDataString(request.Path);
        var query = ParseQuery(request.Query);
        if (query.Keys.Any(name => name.StartsWith("x-amz-", StringComparison.OrdinalIgnoreCase)))
        {
            throw ChannelRequestException.Invalid("an S3 request from the sandbox carries no X-Amz-* query parameters (the backend signs it)");
        }

        if (StorageAuthorization.DotSegmentRefusal(path) is { } refusal)
        {
            throw refusal;
        }

        var slash = path.IndexOf('/', 1);
        var bucket = slash < 0 ? path[1..] : path[1..slash];
        var key = slash < 0 ? "" : path[(slash + 1)..];
        if (bucket.Length == 0)
        {
            // The bucket list is ListBuckets on the fast path, which lists the granted buckets; as the store words it.
            throw ChannelRequestException.Denied($"Access Denied: no grant allows {(request.Method is "GET" or "HEAD" ? "reading" : "writing")} the bucket list.");
        }

        StorageAuthorization.CheckBucket(bucket);
        return key.Length == 0
            ? Bucket(manifest, request, bucket, query, body)
            : Object(manifest, request, bucket, key);
    }

    /// <summary>
    /// Checks a request to be presigned: as <see cref="Authorize"/>, except that what a request's body names cannot be
    /// checked, because a presigned URL signs no body and its holder sends any. So DeleteObjects, whose body names the
    /// keys it deletes, is refused.
    /// </summary>
    public static S3Target AuthorizePresigned(FunctionManifest manifest, ServiceRequest request)
    {
        if (request.Method == "POST" && ParseQuery(request.Query).ContainsKey("delete"))
        {
            throw ChannelRequestException.Invalid("a presigned DeleteObjects would delete whatever keys its holder puts in the body; presign delete_object per key");
        }

        return Authorize(manifest, request, []);
    }

    private static S3Target Object(FunctionManifest manifest, ServiceRequest request, string bucket, string key)
    {
        var access = request.Method is "GET" or "HEAD" ? StorageAccess.Read : StorageAccess.Write;
        StorageAuthorization.Authorize(manifest, bucket, key, access);
        var objects = new List<ObjectAccess> { new(bucket, key, access) };
        if (request.Header("x-amz-copy-source") is { } copySource)
        {
            // CopyObject and UploadPartCopy read their source: "bucket/key" (optionally "/"-led, URL-encoded, "?versionId=").
            var source = Uri.UnescapeDataString(copySource.Split('?', 2)[0]).TrimStart('/');
            var sourceSlash = source.IndexOf('/', StringComparison.Ordinal);
            if (sourceSlash <= 0)
            {
                throw ChannelRequestException.Invalid($"x-amz-copy-source {StorageAuthorization.Quote(copySource)} is not bucket/key");
            }

            var (sourceBucket, sourceKey) = (source[..sourceSlash], source[(sourceSlash + 1)..]);
            StorageAuthorization.Authorize(manifest, sourceBucket, sourceKey, StorageAccess.Read);
            objects.Add(new(sourceBucket, sourceKey, StorageAccess.Read));
        }

        return new S3Target(objects, []);
    }

    private static S3Target Bucket(FunctionManifest manifest, ServiceRequest request, string bucket, Dictionary<string, string> query, ReadOnlySpan<byte> body)
    {
        if (request.Method == "POST" && query.Keys.All(name => name is "delete" or "x-id") && query.ContainsKey("delete"))
        {
            var keys = DeleteKeys(body);
            foreach (var key in keys)
            {
                StorageAuthorization.Authorize(manifest, bucket, key, StorageAccess.Write);
            }

            return new S3Target([.. keys.Select(k => new ObjectAccess(bucket, k, StorageAccess.Write))], []);
        }

        if (request.Method is not ("GET" or "HEAD"))
        {
            // Buckets and their configuration belong to the node (functions get grants on them).
            throw StorageAuthorization.Denied(bucket, null, StorageAccess.Write);
        }

        var configuration = query.Keys.Any(s_configuration.Contains) && !query.Keys.Any(name => s_listing.Contains(name) && name != "x-id");
        if (configuration || (request.Method == "HEAD" && query.Count == 0))
        {
            if (!manifest.AllowsBucket(bucket))
            {
                throw StorageAuthorization.Denied(bucket, null, StorageAccess.Read);
            }

            return new S3Target([], []);
        }

        // Anything else at bucket level lists (an unknown parameter included: S3 ignores what it does not know), so
        // the grant must cover the prefix listed.
        var prefix = query.GetValueOrDefault("prefix") ?? "";
        StorageAuthorization.Authorize(manifest, bucket, prefix, StorageAccess.Read, keyIsPrefix: true);
        return new S3Target([], [(bucket, prefix)]);
    }

    /// <summary>The keys a DeleteObjects body names: every Key element, every occurrence.</summary>
    private static List<string> DeleteKeys(ReadOnlySpan<byte> body)
    {
        if (body.Length > MaxDeleteBody)
        {
            throw ChannelRequestException.Invalid($"the DeleteObjects body is {body.Length} bytes; at most {MaxDeleteBody} are read");
        }

        var keys = new List<string>();
        var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null, MaxCharactersInDocument = MaxDeleteBody };
        try
        {
            using var reader = XmlReader.Create(new MemoryStream(body.ToArray()), settings);
            reader.Read();
            while (!reader.EOF)
            {
                // Every Key element, wherever it is: the store reads Delete/Object/Key, and checking more keys than it
                // deletes only refuses more.
                if (reader.NodeType == XmlNodeType.Element && reader.LocalName == "Key")
                {
                    keys.Add(reader.ReadElementContentAsString());
                }
                else
                {
                    reader.Read();
                }
            }
        }
        catch (XmlException e)
        {
            throw ChannelRequestException.Invalid($"the DeleteObjects body is not valid XML: {e.Message}");
        }

        return keys;
    }

    private static Dictionary<string, string> ParseQuery(string query)
    {
        var parsed = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var name = Uri.UnescapeDataString(eq < 0 ? pair : pair[..eq]);
            if (!parsed.TryAdd(name, eq < 0 ? "" : Uri.UnescapeDataString(pair[(eq + 1)..])))
            {
                throw ChannelRequestException.Invalid($"the query names {StorageAuthorization.Quote(name)} twice");
            }
        }

        return parsed;
    }
}
