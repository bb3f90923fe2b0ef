// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;

namespace Nexus.Store;


/// <summary>
/// One multipart upload in progress. <paramref name="ChecksumAlgorithm"/> (lower case, or null) is the one it was created
/// with: every part keeps that checksum, and the object gets the composite of them (checksum of the part checksums,
/// "-N") or, with <paramref name="FullObject"/> (S3's FULL_OBJECT type: CRCs only), that CRC of its whole body.
/// </summary>
internal sealed record Upload(string Id, string Key, DateTimeOffset Initiated, string ContentType, IReadOnlyList<KeyValuePair<string, string>> Headers, IReadOnlyList<KeyValuePair<string, string>> Metadata, IReadOnlyList<KeyValuePair<string, string>> Tags, string? ChecksumAlgorithm, bool FullObject = false)
{
    /// <summary>S3's name for the object checksum this upload gives, when it has an algorithm.</summary>
    public string ChecksumType => FullObject ? "FULL_OBJECT" : "COMPOSITE";
}

/// <summary>One stored part of a multipart upload, with its checksum when the upload has a checksum algorithm.</summary>
internal sealed record PartEntry(int PartNumber, long Size, string ETag, DateTimeOffset LastModified, ObjectChecksum? Checksum);

/// <summary>One part a CompleteMultipartUpload names: number, ETag and the part checksum it states (or null).</summary>
internal sealed record RequestedPart(int PartNumber, string ETag, ObjectChecksum? Checksum);

/// <summary>The store's multipart uploads: their files under buckets/NAME/uploads/ID, parts, completion and abort.</summary>
internal sealed partial class ObjectStore
{
    /// <summary>The value in an upload file's checksum slot that marks a FULL_OBJECT upload.</summary>
    private const string FullObjectMark = "FULL_OBJECT";

    /// <summary>Starts assembling a multipart object: up to 10000 parts, so the single-PUT limit does not apply.</summary>
    private PendingObject BeginAssembly() => new(NewTempPath(), _options.MaxObjectSize * 10000, _options.Durable, computeMd5: false);

    private void LoadUploads(Bucket bucket)
    {
        foreach (var dir in Directory.EnumerateDirectories(Path.Combine(bucket.Directory, "uploads")))
        {
            try
            {
                var file = Path.Combine(dir, "upload");
                using var handle = File.OpenHandle(file);
                var info = ObjectFile.ReadInfo(handle, RandomAccess.GetLength(handle), file);
                var id = Path.GetFileName(dir);
                bucket.Uploads.Add(id, new Upload(id, info.Key, info.LastModified, info.ContentType, info.Headers, info.Metadata, info.Tags, info.Checksum?.Algorithm, info.Checksum?.Value == FullObjectMark));
            }
            catch (Exception e) when (e is InvalidDataException or IOException)
            {
                _logger.LogWarning("Store: skipping unreadable upload {Dir}: {Error}", dir, e.Message);
            }
        }
    }

    public Upload CreateUpload(Bucket bucket, string key, string contentType, IReadOnlyList<KeyValuePair<string, string>> headers, IReadOnlyList<KeyValuePair<string, string>> metadata, IReadOnlyList<KeyValuePair<string, string>> tags, string? checksumAlgorithm = null, bool fullObject = false)
    {
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var upload = new Upload(id, key, _options.TimeProvider.GetUtcNow(), contentType, headers, metadata, tags, checksumAlgorithm, fullObject);
        var staging = NewTempPath();
        Directory.CreateDirectory(staging);

        // The upload file keeps the algorithm in the trailer's checksum slot, with no value (composite) or the FULL_OBJECT
        // mark (files written before the mark existed read as composite, which they were).
        var trailer = new ObjectInfo(key, 0, string.Empty, upload.Initiated, contentType, headers, metadata, tags)
        {
            Checksum = checksumAlgorithm is null ? null : new ObjectChecksum(checksumAlgorithm, fullObject ? FullObjectMark : string.Empty),
        };
        WriteSmallFile(Path.Combine(staging, "upload"), ObjectFile.EncodeTrailer(trailer));
        SyncDirectory(staging);
        var uploads = Path.Combine(bucket.Directory, "uploads");
        lock (bucket.Sync)
        {
            if (bucket.Deleted)
            {
                throw S3Errors.NoSuchBucket(bucket.Name);
            }

            Directory.Move(staging, Path.Combine(uploads, id));
            bucket.Uploads.Add(id, upload);
        }

        SyncDirectory(uploads);
        return upload;
    }

    public static Upload GetUpload(Bucket bucket, string uploadId, string key)
    {
        lock (bucket.Sync)
        {
            if (bucket.Uploads.TryGetValue(uploadId, out var upload) && upload.Key == key)
            {
                return upload;
            }
        }

        throw S3Errors.NoSuchUpload(uploadId);
    }

    public string CommitPart(Bucket bucket, Upload upload, int partNumber, PendingObject pending, ObjectChecksum? checksum = null)
    {
        var etag = pending.Md5Hex();
        var temp = pending.Finish(new ObjectInfo(upload.Key, pending.Length, etag, _options.TimeProvider.GetUtcNow(), string.Empty, [], [], []) { Checksum = checksum });
        var dir = Path.Combine(bucket.Directory, "uploads", upload.Id);
        lock (bucket.Sync)
        {
            if (!bucket.Uploads.ContainsKey(upload.Id))
            {
                throw S3Errors.NoSuchUpload(upload.Id);
            }

            File.Move(temp, Path.Combine(dir, PartName(partNumber)), overwrite: true);
        }

        pending.Committed();
        SyncDirectory(dir);
        return etag;
    }

    public List<PartEntry> ListParts(Bucket bucket, Upload upload)
    {
        var dir = Path.Combine(bucket.Directory, "uploads", upload.Id);
        var parts = new List<PartEntry>();
        try
        {
            foreach (var file in Directory.EnumerateFiles(dir, "part-*"))
            {
                if (!int.TryParse(Path.GetFileName(file).AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out var number))
                {
                    continue;
                }

                try
                {
                    using var handle = File.OpenHandle(file);
                    var info = ObjectFile.ReadInfo(handle, RandomAccess.GetLength(handle), file);
                    parts.Add(new PartEntry(number, info.Size, info.ETag, info.LastModified, info.Checksum));
                }
                catch (FileNotFoundException)
                {
                    // Replaced or removed while listing: the listing shows what remains.
                }
            }
        }
        catch (DirectoryNotFoundException)
        {
            throw S3Errors.NoSuchUpload(upload.Id);
        }

        parts.Sort((a, b) => a.PartNumber.CompareTo(b.PartNumber));
        return parts;
    }

    /// <summary>
    /// Validates the client's part list (with a composite upload's algorithm, each part's stated checksum), assembles the
    /// object from the parts, checks the whole object's checksum the completion states (<paramref name="stated"/>, or
    /// null; BadDigest) and commits it. Returns it with its checksum (composite, full-object CRC, or the default CRC-64/NVME).
    /// </summary>
    public async Task<(ObjectEntry Entry, ObjectChecksum Checksum)> CompleteUploadAsync(Bucket bucket, Upload upload, IReadOnlyList<RequestedPart> requested, ObjectChecksum? stated, Func<ObjectEntry?, bool>? precondition, CancellationToken cancellationToken)
    {
        if (requested.Count == 0)
        {
            throw S3Errors.MalformedXml("CompleteMultipartUpload must list at least one part.");
        }

        var stored = ListParts(bucket, upload).ToDictionary(p => p.PartNumber);
        var chosen = new List<PartEntry>(requested.Count);
        for (var i = 1; i < requested.Count; i++)
        {
            if (requested[i].PartNumber <= requested[i - 1].PartNumber)
            {
                throw new S3Exception(400, "InvalidPartOrder", $"The list of parts was not in ascending order: part {requested[i].PartNumber} follows part {requested[i - 1].PartNumber}.");
            }
        }

        for (var i = 0; i < requested.Count; i++)
        {
            var (number, etag, checksum) = requested[i];
            if (upload.ChecksumAlgorithm is { } algorithm && !upload.FullObject && checksum?.Algorithm != algorithm)
            {
                // S3's answer, word for word: the composite checksum needs every part's.
                throw S3Errors.InvalidRequest($"The upload was created using a {algorithm} checksum. The complete request must include the checksum for each part. It was missing for part {number} in the request.");
            }

            if (!stored.TryGetValue(number, out var part) || !string.Equals(part.ETag, etag.Trim('"'), StringComparison.OrdinalIgnoreCase)
                || (upload.ChecksumAlgorithm is not null && checksum is not null && part.Checksum?.Value != checksum.Value))
            {
                throw new S3Exception(400, "InvalidPart", $"Part {number} with ETag {etag} was not uploaded, or its ETag or checksum does not match.");
            }

            if (i < requested.Count - 1 && part.Size < _options.MinPartSize)
            {
                throw new S3Exception(400, "EntityTooSmall", $"Part {number} is {part.Size} bytes; every part but the last must be at least {_options.MinPartSize} bytes.");
            }

            chosen.Add(part);
        }

        var dir = Path.Combine(bucket.Directory, "uploads", upload.Id);
        var partHashes = new byte[chosen.Count * 16];
        await using (var pending = BeginAssembly())
        {
            if (upload.FullObject)
            {
                // The full-object CRC is computed over the bytes as they are assembled (not combined from the part CRCs).
                pending.ComputeChecksum(upload.ChecksumAlgorithm!);
            }

            var buffer = ArrayPool<byte>.Shared.Rent(256 * 1024);
            try
            {
                for (var i = 0; i < chosen.Count; i++)
                {
                    Convert.FromHexString(chosen[i].ETag, partHashes.AsSpan(i * 16, 16), out _, out _);
                    using var handle = File.OpenHandle(Path.Combine(dir, PartName(chosen[i].PartNumber)));
                    for (long offset = 0; offset < chosen[i].Size;)
                    {
                        var want = (int)Math.Min(buffer.Length, chosen[i].Size - offset);
                        var n = await RandomAccess.ReadAsync(handle, buffer.AsMemory(0, want), offset, cancellationToken);
                        if (n == 0)
                        {
                            throw new InvalidDataException($"part {chosen[i].PartNumber} of upload {upload.Id} ended early.");
                        }

                        await pending.WriteAsync(buffer.AsMemory(0, n), cancellationToken);
                        offset += n;
                    }
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            var etag = Convert.ToHexStringLower(MD5.HashData(partHashes)) + "-" + chosen.Count.ToString(CultureInfo.InvariantCulture);
            var info = new ObjectInfo(upload.Key, pending.Length, etag, _options.TimeProvider.GetUtcNow(), upload.ContentType, upload.Headers, upload.Metadata, upload.Tags)
            {
                // Without an algorithm the object gets the CRC-64/NVME full-object checksum, as in S3.
                Checksum = upload.ChecksumAlgorithm is not { } algorithm ? pending.Crc64NvmeChecksum()
                    : upload.FullObject ? pending.ComputedChecksum() : CompositeChecksum(algorithm, chosen),

                // Kept for GetObjectAttributes and GET/HEAD ?partNumber; the parts' checksums only when the upload kept them.
                Parts = [.. chosen.Select(p => new ObjectPart(p.PartNumber, p.Size, upload.ChecksumAlgorithm is null ? null : p.Checksum?.Value))],
            };
            if (stated is not null && (stated.Algorithm != info.Checksum!.Algorithm || stated.Value.Split('-')[0] != info.Checksum.Value.Split('-')[0]))
            {
                // The completion's own x-amz-checksum-* states the whole object's checksum (a composite one with or
                // without its "-N"); a mismatch stores nothing and keeps the upload, as a bad part's checksum does.
                throw S3Errors.BadDigest(stated.HeaderName);
            }

            lock (bucket.Sync)
            {
                if (!bucket.Uploads.ContainsKey(upload.Id))
                {
                    throw S3Errors.NoSuchUpload(upload.Id);
                }
            }

            // A failed precondition stores nothing and keeps the upload, as a mismatched checksum does.
            var entry = CommitObject(bucket, pending, info, precondition);
            RemoveUpload(bucket, upload.Id);
            return (entry, info.Checksum!);
        }
    }

    /// <summary>Aborts the upload of <paramref name="key"/>: an upload id of another key is NoSuchUpload, as in S3.</summary>
    public void AbortUpload(Bucket bucket, string uploadId, string key)
    {
        GetUpload(bucket, uploadId, key);
        if (!RemoveUpload(bucket, uploadId))
        {
            throw S3Errors.NoSuchUpload(uploadId);
        }
    }

    private bool RemoveUpload(Bucket bucket, string uploadId)
    {
        var doomed = NewTempPath();
        var uploads = Path.Combine(bucket.Directory, "uploads");
        lock (bucket.Sync)
        {
            if (!bucket.Uploads.Remove(uploadId))
            {
                return false;
            }

            Directory.Move(Path.Combine(uploads, uploadId), doomed);
        }

        SyncDirectory(uploads);
        DeleteTree(doomed);
        return true;
    }

    public static List<Upload> ListUploads(Bucket bucket)
    {
        lock (bucket.Sync)
        {
            var list = bucket.Uploads.Values.ToList();
            list.Sort((a, b) =>
            {
                var byKey = Utf8KeyComparer.Instance.Compare(a.Key, b.Key);
                return byKey != 0 ? byKey : a.Initiated.CompareTo(b.Initiated);
            });
            return list;
        }
    }

    /// <summary>S3's COMPOSITE checksum: the algorithm's checksum of the parts' raw checksums in order, then "-" and the part count.</summary>
    internal static ObjectChecksum CompositeChecksum(string algorithm, IReadOnlyList<PartEntry> parts)
    {
        using var composite = S3Checksum.Create(algorithm);
        foreach (var part in parts)
        {
            composite.Append(Convert.FromBase64String(part.Checksum!.Value));
        }

        return new ObjectChecksum(algorithm, composite.ToBase64() + "-" + parts.Count.ToString(CultureInfo.InvariantCulture));
    }

    private static string PartName(int partNumber) => "part-" + partNumber.ToString("D5", CultureInfo.InvariantCulture);
}
