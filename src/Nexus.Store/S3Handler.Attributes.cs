// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace Nexus.Store;

/// <summary>GetObjectAttributes and GET/HEAD ?partNumber: both read a multipart object's part boundaries from its trailer.</summary>
internal sealed partial class S3Handler
{
    private static readonly HashSet<string> s_attributesParams = ["attributes", "versionId"];
    private static readonly HashSet<string> s_attributeNames = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"];

    private async Task GetObjectAttributesAsync(S3Request request)
    {
        Authorize(request, request.Bucket, request.Key, isWrite: false);
        var headers = request.Request.Headers;
        var asked = new HashSet<string>(StringComparer.Ordinal);
        foreach (var value in headers["x-amz-object-attributes"])
        {
            foreach (var name in (value ?? string.Empty).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                // S3's words for a name it does not know.
                asked.Add(s_attributeNames.Contains(name) ? name : throw S3Errors.InvalidArgument("Invalid attribute name specified."));
            }
        }

        if (asked.Count == 0)
        {
            throw S3Errors.InvalidRequest("The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty");
        }

        var maxParts = ParseInt(HeaderOrNull(headers, "x-amz-max-parts"), "x-amz-max-parts", 1000, 0, 1000);
        var marker = ParseInt(HeaderOrNull(headers, "x-amz-part-number-marker"), "x-amz-part-number-marker", 0, 0, MaxPartNumber);
        using var stored = _store.OpenObject(_store.GetBucket(request.Bucket), request.Key) ?? throw S3Errors.NoSuchKey(request.Key);
        CheckCustomerKey(headers, stored.Info.Headers);
        var info = stored.Info;
        request.Response.Headers.LastModified = HttpDate(info.LastModified);

        // As S3: the fields in this order, only those asked for; the ETag unquoted, a composite checksum without its "-N".
        var xml = new S3Xml("GetObjectAttributesResponse");
        if (asked.Contains("ETag"))
        {
            xml.Element("ETag", info.ETag);
        }

        if (asked.Contains("Checksum") && info.Checksum is { } checksum)
        {
            var dash = checksum.Value.IndexOf('-', StringComparison.Ordinal);
            xml.Open("Checksum").Element(checksum.ElementName, dash < 0 ? checksum.Value : checksum.Value[..dash])
                .Element("ChecksumType", checksum.IsComposite ? "COMPOSITE" : "FULL_OBJECT").Close("Checksum");
        }

        if (asked.Contains("ObjectParts") && PartsCount(info) is { } count)
        {
            xml.Open("ObjectParts");
            if (info.Checksum is { IsComposite: true } composite && info.Parts is { } parts)
            {
                // S3 lists the parts only of an object whose parts carry checksums (a composite one), paged as ListParts.
                WriteAttributeParts(xml, composite, parts, marker, maxParts);
            }

            xml.Element("PartsCount", count).Close("ObjectParts");
        }

        if (asked.Contains("StorageClass"))
        {
            xml.Element("StorageClass", info.StorageClass);
        }

        if (asked.Contains("ObjectSize"))
        {
            xml.Element("ObjectSize", info.Size);
        }

        await WriteXmlAsync(request, xml.Finish("GetObjectAttributesResponse"));
    }

    private static void WriteAttributeParts(S3Xml xml, ObjectChecksum composite, IReadOnlyList<ObjectPart> parts, int marker, int maxParts)
    {
        var listed = parts.Where(p => p.PartNumber > marker).ToList();
        var truncated = listed.Count > maxParts;
        if (truncated)
        {
            listed.RemoveRange(maxParts, listed.Count - maxParts);
        }

        xml.Element("PartNumberMarker", marker);
        if (truncated)
        {
            xml.Element("NextPartNumberMarker", listed.Count > 0 ? listed[^1].PartNumber : marker);
        }

        xml.Element("MaxParts", maxParts).Element("IsTruncated", truncated);
        foreach (var part in listed)
        {
            xml.Open("Part");
            if (part.Checksum is { } value)
            {
                xml.Element(composite.ElementName, value);
            }

            xml.Element("PartNumber", part.PartNumber).Element("Size", part.Size).Close("Part");
        }
    }

    /// <summary>A multipart object's part count (from its ETag's "-N" when the parts were not kept); null for a single-request object.</summary>
    private static int? PartsCount(ObjectInfo info)
    {
        if (info.Parts is { } parts)
        {
            return parts.Count;
        }

        var dash = info.ETag.LastIndexOf('-');
        return dash > 0 && int.TryParse(info.ETag.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;
    }

    private static string? HeaderOrNull(IHeaderDictionary headers, string name) => headers.TryGetValue(name, out var value) ? value.ToString() : null;

    /// <summary>
    /// GET/HEAD ?partNumber=N: the bytes of part N of a multipart object (by the number it was uploaded with), answered
    /// 206 with Content-Range and x-amz-mp-parts-count, as S3; an object written by one request is its own part 1.
    /// Returns the part (null for such an object) and its range.
    /// </summary>
    private static (ObjectPart? Part, long Offset, long Count) SelectPart(S3Request request, ObjectInfo info, string partNumber)
    {
        if (request.Request.Headers.Range.Count > 0)
        {
            throw S3Errors.InvalidRequest("Cannot specify both Range header and partNumber query parameter.");
        }

        if (!int.TryParse(partNumber, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number is < 1 or > MaxPartNumber)
        {
            throw S3Errors.InvalidArgument($"Part number must be an integer between 1 and {MaxPartNumber}, inclusive");
        }

        var response = request.Response;
        if (info.Parts is not { } parts)
        {
            if (PartsCount(info) is not null)
            {
                throw S3Errors.NotImplemented("GET ?partNumber of a multipart object assembled before the store kept its part boundaries");
            }

            if (number != 1)
            {
                throw InvalidPartNumber();
            }

            if (info.Size > 0)
            {
                response.StatusCode = StatusCodes.Status206PartialContent;
                response.Headers.ContentRange = $"bytes 0-{info.Size - 1}/{info.Size}";
            }

            return (null, 0, info.Size);
        }

        long offset = 0;
        foreach (var part in parts)
        {
            if (part.PartNumber == number)
            {
                response.StatusCode = StatusCodes.Status206PartialContent;
                response.Headers.ContentRange = $"bytes {offset}-{offset + part.Size - 1}/{info.Size}";
                response.Headers["x-amz-mp-parts-count"] = parts.Count.ToString(CultureInfo.InvariantCulture);
                return (part, offset, part.Size);
            }

            offset += part.Size;
        }

        throw InvalidPartNumber();
    }

    /// <summary>
    /// A part's checksum in checksum mode: a composite object's part has its own (the bytes sent are that part's); a
    /// single-request object's part 1 is the whole object, so its checksum; a full-object multipart object's part has none.
    /// </summary>
    private static void WritePartChecksum(HttpResponse response, ObjectInfo info, ObjectPart? part)
    {
        if (part is null)
        {
            WriteChecksum(response, info);
        }
        else if (info.Checksum is { IsComposite: true } composite && part.Checksum is { } value)
        {
            response.Headers[composite.HeaderName] = value;
            response.Headers["x-amz-checksum-type"] = "COMPOSITE";
        }
    }

    private static S3Exception InvalidPartNumber() => new(416, "InvalidPartNumber", "The requested partnumber is not satisfiable");
}
