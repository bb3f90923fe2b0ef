// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Nexus.Store;

/// <summary>
/// DeleteObject and DeleteObjects, and S3's conditional deletes and writes: a delete, put, copy or multipart completion
/// that states a condition on the object it replaces or removes acts only while that condition holds, checked under the
/// bucket's commit lock, so no other write can land between the check and the act. Ignoring a condition would delete or
/// overwrite a version the client said it must not.
/// </summary>
internal sealed partial class S3Handler
{
    private const string IfMatchSizeHeader = "x-amz-if-match-size";
    private const string IfMatchLastModifiedHeader = "x-amz-if-match-last-modified-time";

    /// <summary>
    /// What a conditional delete asks of the object: an ETag (If-Match, or a DeleteObjects entry's ETag; <c>*</c>: any),
    /// a size, a last-modified time (whole seconds). With an ETag, a missing object is NoSuchKey, as S3 answers (measured
    /// against S3 by others: 404, not 412); a size or a time alone holds for a missing object, as S3 documents.
    /// </summary>
    private sealed record DeleteCondition(StringValues ETag, long? Size, long? LastModifiedSeconds)
    {
        public bool NeedsObject => !StringValues.IsNullOrEmpty(ETag);

        public bool HoldsFor(ObjectEntry current) =>
            (StringValues.IsNullOrEmpty(ETag) || ETagMatches(ETag, current.ETag))
            && (Size is not { } size || size == current.Size)
            && (LastModifiedSeconds is not { } seconds || seconds == current.LastModified.ToUnixTimeSeconds());
    }

    private void DeleteObject(S3Request request)
    {
        Authorize(request, request.Bucket, request.Key, isWrite: true);
        var headers = request.Request.Headers;
        var condition = Condition(headers.IfMatch, headers[IfMatchSizeHeader], IfMatchSizeHeader, headers[IfMatchLastModifiedHeader], IfMatchLastModifiedHeader);
        Delete(_store.GetBucket(request.Bucket), request.Key, condition);
        request.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private void Delete(Bucket bucket, string key, DeleteCondition? condition)
    {
        if (!_store.DeleteObject(bucket, key, condition is null ? null : condition.HoldsFor) && condition is { NeedsObject: true })
        {
            throw S3Errors.NoSuchKey(key);
        }
    }

    /// <summary>A delete's condition from its parts (null: none stated); a size or time that does not parse is 400 InvalidArgument.</summary>
    private static DeleteCondition? Condition(StringValues etag, StringValues size, string sizeName, StringValues lastModified, string lastModifiedName)
    {
        if (StringValues.IsNullOrEmpty(etag) && StringValues.IsNullOrEmpty(size) && StringValues.IsNullOrEmpty(lastModified))
        {
            return null;
        }

        long? bytes = null;
        if (!StringValues.IsNullOrEmpty(size))
        {
            bytes = long.TryParse(size.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var parsed)
                ? parsed
                : throw S3Errors.InvalidArgument($"{sizeName} must be a size in bytes; got '{size}'.");
        }

        long? seconds = null;
        if (!StringValues.IsNullOrEmpty(lastModified))
        {
            seconds = TryParseHttpDate(lastModified, out var parsed)
                ? parsed
                : throw S3Errors.InvalidArgument($"{lastModifiedName} must be a date; got '{lastModified}'.");
        }

        return new DeleteCondition(etag, bytes, seconds);
    }

    /// <summary>
    /// A write's If-Match / If-None-Match (PutObject, CopyObject's destination, CompleteMultipartUpload), checked against
    /// the version it would replace: If-Match on a missing object is 404 NoSuchKey (S3's answer), a failed condition 412.
    /// Null: no condition stated.
    /// </summary>
    private static Func<ObjectEntry?, bool>? WriteCondition(IHeaderDictionary headers, string key)
    {
        var ifMatch = headers.IfMatch;
        var ifNoneMatch = headers.IfNoneMatch;
        if (StringValues.IsNullOrEmpty(ifMatch) && StringValues.IsNullOrEmpty(ifNoneMatch))
        {
            return null;
        }

        return current =>
        {
            if (!StringValues.IsNullOrEmpty(ifMatch) && current is null)
            {
                throw S3Errors.NoSuchKey(key);
            }

            return (StringValues.IsNullOrEmpty(ifMatch) || ETagMatches(ifMatch, current!.ETag))
                && (StringValues.IsNullOrEmpty(ifNoneMatch) || current is null || !ETagMatches(ifNoneMatch, current.ETag));
        };
    }

    /// <summary>
    /// DeleteObjects: each entry deleted on its own (its grant, its version, its condition: <c>ETag</c>, <c>Size</c>,
    /// <c>LastModifiedTime</c>), a failed entry reported in the result and the others deleted.
    /// </summary>
    private async Task DeleteObjectsAsync(S3Request request)
    {
        var bucket = _store.GetBucket(request.Bucket);
        using var body = await ReceiveSmallBodyAsync(request, "DeleteObjects");
        var root = await S3Xml.ReadAsync(body, MaxXmlBody, "DeleteObjects", request.Aborted);
        if (root.Name.LocalName != "Delete")
        {
            throw S3Errors.MalformedXml($"expected a <Delete> document, got <{root.Name.LocalName}>.");
        }

        var quiet = false;
        var keys = new List<(string Key, string? VersionId, DeleteCondition? Condition)>();
        foreach (var element in root.Elements())
        {
            switch (element.Name.LocalName)
            {
                case "Quiet":
                    quiet = element.Value.Trim() == "true";
                    break;
                case "Object":
                    string? Child(string name) => element.Elements().FirstOrDefault(e => e.Name.LocalName == name)?.Value;
                    var key = Child("Key") ?? throw S3Errors.MalformedXml("an <Object> has no <Key>.");
                    keys.Add((key, Child("VersionId"), Condition(Child("ETag"), Child("Size"), "<Size>", Child("LastModifiedTime"), "<LastModifiedTime>")));
                    break;
            }
        }

        if (keys.Count is 0 or > 1000)
        {
            throw S3Errors.MalformedXml($"DeleteObjects takes 1 to 1000 keys; got {keys.Count}.");
        }

        var xml = new S3Xml("DeleteResult");
        foreach (var (key, versionId, condition) in keys)
        {
            try
            {
                S3Names.CheckKey(key);
                Authorize(request, request.Bucket, key, isWrite: true);
                if (versionId is not null && versionId != NullVersion)
                {
                    // As S3 answers an entry naming a version the key does not have: that entry fails, nothing is deleted.
                    throw new S3Exception(404, "NoSuchVersion", "The specified version does not exist.");
                }

                Delete(bucket, key, condition);
                if (!quiet)
                {
                    xml.Open("Deleted").Element("Key", key);
                    if (versionId is not null)
                    {
                        xml.Element("VersionId", versionId);
                    }

                    xml.Close("Deleted");
                }
            }
            catch (S3Exception e)
            {
                xml.Open("Error").Element("Key", key);
                if (versionId is not null)
                {
                    xml.Element("VersionId", versionId);
                }

                xml.Element("Code", e.Code).Element("Message", e.Message).Close("Error");
            }
        }

        await WriteXmlAsync(request, xml.Finish("DeleteResult"));
    }
}
