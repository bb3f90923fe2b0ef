// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;

namespace Nexus.Store;

internal sealed partial class S3Handler
{
    private const int MaxPartNumber = 10000;

    private async Task CreateUploadAsync(S3Request request)
    {
        Authorize(request, request.Bucket, request.Key, isWrite: true);
        var bucket = _store.GetBucket(request.Bucket);
        var (contentType, headers, metadata, tags) = ReadObjectHeaders(request.Request);
        var algorithm = request.Request.Headers["x-amz-checksum-algorithm"].ToString().ToLowerInvariant();
        if (algorithm.Length > 0 && !S3Checksum.IsSupported(algorithm))
        {
            throw S3Errors.InvalidRequest("Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]");
        }

        var upload = _store.CreateUpload(bucket, request.Key, contentType, headers, metadata, tags, algorithm.Length > 0 ? algorithm : null, FullObjectType(request, algorithm));
        WriteEncryption(request.Response, upload.Headers);
        if (upload.ChecksumAlgorithm is { } created)
        {
            // As S3: the answer names the algorithm (upper case) and the object's checksum type.
            request.Response.Headers["x-amz-checksum-algorithm"] = created.ToUpperInvariant();
            request.Response.Headers["x-amz-checksum-type"] = upload.ChecksumType;
        }

        await WriteXmlAsync(request, new S3Xml("InitiateMultipartUploadResult")
            .Element("Bucket", request.Bucket).Element("Key", request.Key).Element("UploadId", upload.Id)
            .Finish("InitiateMultipartUploadResult"));
    }

    /// <summary>
    /// Whether an upload of <paramref name="algorithm"/> gives a FULL_OBJECT checksum, by S3's rules: x-amz-checksum-type
    /// needs an algorithm; FULL_OBJECT only for the CRCs, COMPOSITE not for CRC-64/NVME, which is always full-object;
    /// CRC32 and CRC32C are composite unless asked. S3's words for each refusal.
    /// </summary>
    private static bool FullObjectType(S3Request request, string algorithm)
    {
        var type = request.Request.Headers["x-amz-checksum-type"].ToString();
        if (type.Length == 0)
        {
            return algorithm == "crc64nvme";
        }

        if (type is not ("COMPOSITE" or "FULL_OBJECT"))
        {
            throw S3Errors.InvalidRequest("Value for x-amz-checksum-type header is invalid.");
        }

        if (algorithm.Length == 0)
        {
            throw S3Errors.InvalidRequest("The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.");
        }

        var fullObject = type == "FULL_OBJECT";
        if (fullObject ? algorithm is "sha1" or "sha256" : algorithm == "crc64nvme")
        {
            throw S3Errors.InvalidRequest($"The {type} checksum type cannot be used with the {algorithm} checksum algorithm.");
        }

        return fullObject;
    }

    private async Task UploadPartAsync(S3Request request, string? copySource)
    {
        var partNumber = ParseInt(request.Param("partNumber") ?? throw S3Errors.InvalidArgument("UploadPart needs partNumber."), "partNumber", 1, 1, int.MaxValue);
        if (partNumber > MaxPartNumber)
        {
            throw S3Errors.InvalidArgument($"partNumber must be an integer between 1 and {MaxPartNumber}.");
        }

        Authorize(request, request.Bucket, request.Key, isWrite: true);
        var bucket = _store.GetBucket(request.Bucket);
        var upload = ObjectStore.GetUpload(bucket, request.Param("uploadId")!, request.Key);
        CheckCustomerKey(request.Request.Headers, upload.Headers);
        await using var pending = _store.BeginWrite();
        if (upload.ChecksumAlgorithm is { } algorithm)
        {
            pending.ComputeChecksum(algorithm);
        }

        if (copySource is null)
        {
            var declared = await ReceiveBodyAsync(request, pending.WriteAsync, pending.Md5Hex);
            if (declared is not null && upload.ChecksumAlgorithm is { } expected && declared.Algorithm != expected)
            {
                // S3's words: a part's checksum must be of the algorithm its upload was created with. On an upload
                // created without one, S3 (since its 2025 default checksums, which SDKs send on every part) takes a
                // part's checksum, checked, without keeping it for a composite.
                throw S3Errors.InvalidRequest($"Checksum Type mismatch occurred, expected checksum Type: {expected}, actual checksum Type: {declared.Algorithm}");
            }

            var checksum = pending.ComputedChecksum();
            var etag = _store.CommitPart(bucket, upload, partNumber, pending, checksum);
            request.Response.Headers.ETag = Quote(etag);
            WriteEncryption(request.Response, upload.Headers);
            if ((checksum ?? declared) is { } answered)
            {
                // As S3: the part's answer carries the part's checksum.
                request.Response.Headers[answered.HeaderName] = answered.Value;
            }

            return;
        }

        var (sourceBucketName, sourceKey) = ParseCopySource(copySource);
        Authorize(request, sourceBucketName, sourceKey, isWrite: false);
        using var source = _store.OpenObject(_store.GetBucket(sourceBucketName), sourceKey) ?? throw S3Errors.NoSuchKey(sourceKey);
        CheckCustomerKey(request.Request.Headers, source.Info.Headers, copySource: true);
        CheckCopySourceConditions(request, source.Info);
        long offset = 0, count = source.Info.Size;
        var range = request.Request.Headers["x-amz-copy-source-range"].ToString();
        if (range.Length > 0)
        {
            (offset, count) = RangeHeader.ParseCopySourceRange(range, source.Info.Size);
        }

        await source.CopyToAsync(pending, offset, count, request.Aborted);
        var copiedChecksum = pending.ComputedChecksum();
        var copied = _store.CommitPart(bucket, upload, partNumber, pending, copiedChecksum);
        WriteEncryption(request.Response, upload.Headers);
        var result = new S3Xml("CopyPartResult").Element("LastModified", _options.TimeProvider.GetUtcNow()).Element("ETag", Quote(copied));
        WriteChecksumElement(result, copiedChecksum);
        await WriteXmlAsync(request, result.Finish("CopyPartResult"));
    }

    private async Task CompleteUploadAsync(S3Request request, string uploadId)
    {
        Authorize(request, request.Bucket, request.Key, isWrite: true);
        var bucket = _store.GetBucket(request.Bucket);
        var upload = ObjectStore.GetUpload(bucket, uploadId, request.Key);
        // The completion's x-amz-checksum-* states the object's checksum, not its XML body's.
        var stated = StatedObjectChecksum(request);
        using var body = await ReceiveSmallBodyAsync(request, "CompleteMultipartUpload", objectChecksumHeaders: true);
        var root = await S3Xml.ReadAsync(body, MaxXmlBody, "CompleteMultipartUpload", request.Aborted);
        if (root.Name.LocalName != "CompleteMultipartUpload")
        {
            throw S3Errors.MalformedXml($"expected a <CompleteMultipartUpload> document, got <{root.Name.LocalName}>.");
        }

        var parts = new List<RequestedPart>();
        foreach (var part in root.Elements())
        {
            if (part.Name.LocalName != "Part")
            {
                continue;
            }

            string? number = null, etag = null;
            ObjectChecksum? checksum = null;
            foreach (var field in part.Elements())
            {
                var name = field.Name.LocalName;
                switch (name)
                {
                    case "PartNumber": number = field.Value.Trim(); break;
                    case "ETag": etag = field.Value.Trim(); break;
                    default:
                        if (name.StartsWith("Checksum", StringComparison.Ordinal) && S3Checksum.IsSupported(name["Checksum".Length..].ToLowerInvariant()))
                        {
                            checksum = new ObjectChecksum(name["Checksum".Length..].ToLowerInvariant(), field.Value.Trim());
                        }

                        break;
                }
            }

            if (number is null || etag is null || !int.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n is < 1 or > MaxPartNumber)
            {
                throw S3Errors.MalformedXml("every <Part> needs a <PartNumber> (1..10000) and an <ETag>.");
            }

            parts.Add(new RequestedPart(n, etag, checksum));
        }

        var statedType = request.Request.Headers["x-amz-checksum-type"].ToString();
        if (statedType.Length > 0 && statedType != (upload.ChecksumAlgorithm is null ? "FULL_OBJECT" : upload.ChecksumType))
        {
            throw S3Errors.BadDigest("x-amz-checksum-type");
        }

        var (entry, objectChecksum) = await _store.CompleteUploadAsync(bucket, upload, parts, stated, WriteCondition(request.Request.Headers, request.Key), request.Aborted);
        WriteEncryption(request.Response, upload.Headers);
        var xml = new S3Xml("CompleteMultipartUploadResult")
            .Element("Location", $"{request.Request.Scheme}://{request.Request.Host}/{request.Bucket}/{SigV4.UriEncode(request.Key, keepSlash: true)}")
            .Element("Bucket", request.Bucket).Element("Key", request.Key).Element("ETag", Quote(entry.ETag));
        if (upload.ChecksumAlgorithm is not null)
        {
            // As S3: the checksum of an upload created with an algorithm, composite ("-N") or of the whole object.
            WriteChecksumElement(xml, objectChecksum);
            xml.Element("ChecksumType", upload.ChecksumType);
        }

        await WriteXmlAsync(request, xml.Finish("CompleteMultipartUploadResult"));
    }

    private async Task ListPartsAsync(S3Request request)
    {
        Authorize(request, request.Bucket, request.Key, isWrite: false);
        var bucket = _store.GetBucket(request.Bucket);
        var upload = ObjectStore.GetUpload(bucket, request.Param("uploadId")!, request.Key);
        var marker = ParseInt(request.Param("part-number-marker"), "part-number-marker", 0, 0, MaxPartNumber);
        var maxParts = ParseInt(request.Param("max-parts"), "max-parts", 1000, 0, 1000);
        var xml = new S3Xml("ListPartsResult").Element("Bucket", request.Bucket).Element("Key", request.Key).Element("UploadId", upload.Id)
            .Element("PartNumberMarker", marker).Element("MaxParts", maxParts).Element("StorageClass", "STANDARD");
        if (upload.ChecksumAlgorithm is { } algorithm)
        {
            xml.Element("ChecksumAlgorithm", algorithm.ToUpperInvariant()).Element("ChecksumType", upload.ChecksumType);
        }

        var count = 0;
        var truncated = false;
        var last = marker;
        foreach (var part in _store.ListParts(bucket, upload))
        {
            if (part.PartNumber <= marker)
            {
                continue;
            }

            if (count == maxParts)
            {
                truncated = true;
                break;
            }

            xml.Open("Part").Element("PartNumber", part.PartNumber).Element("LastModified", part.LastModified).Element("ETag", Quote(part.ETag)).Element("Size", part.Size);
            WriteChecksumElement(xml, part.Checksum);
            xml.Close("Part");
            last = part.PartNumber;
            count++;
        }

        xml.Element("IsTruncated", truncated);
        if (truncated)
        {
            xml.Element("NextPartNumberMarker", last);
        }

        await WriteXmlAsync(request, xml.Finish("ListPartsResult"));
    }

    /// <summary>The one x-amz-checksum-ALGO header a CompleteMultipartUpload may send (the whole object's checksum), or null.</summary>
    private static ObjectChecksum? StatedObjectChecksum(S3Request request)
    {
        ObjectChecksum? stated = null;
        foreach (var (name, value) in request.Request.Headers)
        {
            if (IsChecksumValueHeader(name))
            {
                var algorithm = name["x-amz-checksum-".Length..].ToLowerInvariant();
                if (stated is not null || !S3Checksum.IsSupported(algorithm))
                {
                    throw S3Errors.InvalidRequest($"Unsupported or duplicate checksum header '{name}'; one x-amz-checksum-* header is allowed.");
                }

                stated = new ObjectChecksum(algorithm, value.ToString().Trim());
            }
        }

        return stated;
    }

    /// <summary>A part's or an object's checksum as an XML element (ChecksumSHA256, ChecksumCRC32, ...), when it has one.</summary>
    private static void WriteChecksumElement(S3Xml xml, ObjectChecksum? checksum)
    {
        if (checksum is not null)
        {
            xml.Element(checksum.ElementName, checksum.Value);
        }
    }
}
