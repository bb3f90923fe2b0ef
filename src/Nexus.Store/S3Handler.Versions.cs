// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Store;

internal sealed partial class S3Handler
{
    private const string NullVersion = "null";

    /// <summary>
    /// A version id a request names (?versionId=, a copy source's ?versionId=): every object here has the one version
    /// "null", so any other id is refused as S3 refuses an id it did not issue (InvalidArgument), never taken for the
    /// current version. A delete of "version abc" must not delete the object.
    /// </summary>
    private static void CheckVersionId(string? versionId)
    {
        if (versionId is null || versionId == NullVersion)
        {
            return;
        }

        throw S3Errors.InvalidArgument(versionId.Length == 0 ? "Version id cannot be the empty string" : "Invalid version id specified");
    }

    /// <summary>
    /// ListObjectVersions of a bucket without versioning (the store never enables it): each object is its one version,
    /// "null", the latest, as S3 lists a bucket whose versioning was never enabled. Markers, prefix, delimiter and
    /// max-keys behave as ListObjects'.
    /// </summary>
    private async Task ListVersionsAsync(S3Request request)
    {
        var prefix = request.Param("prefix") ?? string.Empty;
        var delimiter = request.Param("delimiter");
        var maxKeys = ParseInt(request.Param("max-keys"), "max-keys", 1000, 0, 1000);
        var url = UrlEncoded(request);

        var keyMarker = request.Param("key-marker");
        var versionMarker = request.Param("version-id-marker");
        if (!string.IsNullOrEmpty(versionMarker) && string.IsNullOrEmpty(keyMarker))
        {
            throw S3Errors.InvalidArgument("A version-id marker cannot be specified without a key marker.");
        }

        if (!string.IsNullOrEmpty(versionMarker) && versionMarker != NullVersion)
        {
            throw S3Errors.InvalidArgument($"Invalid version id specified: '{versionMarker}'.");
        }

        Authorize(request, request.Bucket, prefix, isWrite: false);
        var bucket = _store.GetBucket(request.Bucket);
        var page = Listing.List(bucket, prefix, string.IsNullOrEmpty(delimiter) ? null : delimiter, string.IsNullOrEmpty(keyMarker) ? null : keyMarker, maxKeys);
        string Enc(string value) => url ? SigV4.UriEncode(value, keepSlash: true) : value;

        var xml = new S3Xml("ListVersionsResult").Element("Name", request.Bucket).Element("Prefix", Enc(prefix))
            .Element("KeyMarker", Enc(keyMarker ?? string.Empty)).Element("VersionIdMarker", versionMarker ?? string.Empty);
        if (page.IsTruncated)
        {
            xml.Element("NextKeyMarker", Enc(page.NextMarker!)).Element("NextVersionIdMarker", NullVersion);
        }

        ListingSettings(xml, maxKeys, delimiter, url, page.IsTruncated);
        foreach (var entry in page.Contents)
        {
            xml.Open("Version").Element("Key", Enc(entry.Key)).Element("VersionId", NullVersion).Element("IsLatest", true)
                .Element("LastModified", entry.LastModified).Element("ETag", Quote(entry.ETag)).Element("Size", entry.Size)
                .Element("StorageClass", entry.StorageClass)
                .Open("Owner").Element("ID", OwnerId).Element("DisplayName", OwnerId).Close("Owner")
                .Close("Version");
        }

        foreach (var common in page.CommonPrefixes)
        {
            xml.Open("CommonPrefixes").Element("Prefix", Enc(common)).Close("CommonPrefixes");
        }

        await WriteXmlAsync(request, xml.Finish("ListVersionsResult"));
    }

    /// <summary>Whether a listing asks for URL-encoded keys (boto3 always does); any other encoding is refused.</summary>
    private static bool UrlEncoded(S3Request request)
    {
        var encoding = request.Param("encoding-type");
        return encoding switch
        {
            null => false,
            "url" => true,
            _ => throw S3Errors.InvalidArgument($"Invalid Encoding Method specified in Request: '{encoding}'; only 'url' is supported."),
        };
    }

    /// <summary>What every listing answers after its markers: MaxKeys, Delimiter, EncodingType, IsTruncated.</summary>
    private static void ListingSettings(S3Xml xml, int maxKeys, string? delimiter, bool url, bool truncated)
    {
        xml.Element("MaxKeys", maxKeys);
        if (!string.IsNullOrEmpty(delimiter))
        {
            xml.Element("Delimiter", url ? SigV4.UriEncode(delimiter, keepSlash: true) : delimiter);
        }

        if (url)
        {
            xml.Element("EncodingType", "url");
        }

        xml.Element("IsTruncated", truncated);
    }
}
