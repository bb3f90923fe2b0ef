// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;
using Nexus.Interop;

namespace Nexus.Store;

/// <summary>What a listing shows of one object; the in-memory index holds one per key.</summary>
internal sealed record ObjectEntry(string Key, long Size, string ETag, DateTimeOffset LastModified, string StorageClass = "STANDARD")
{
    public static ObjectEntry Of(ObjectInfo info) => new(info.Key, info.Size, info.ETag, info.LastModified, info.StorageClass);
}

/// <summary>One multipart upload in progress.</summary>
internal sealed record Upload(string Id, string Key, DateTimeOffset Initiated, string ContentType, IReadOnlyList<KeyValuePair<string, string>> Headers, IReadOnlyList<KeyValuePair<string, string>> Metadata, IReadOnlyList<KeyValuePair<string, string>> Tags);

/// <summary>One stored part of a multipart upload.</summary>
internal sealed record PartEntry(int PartNumber, long Size, string ETag, DateTimeOffset LastModified);

/// <summary>A bucket: its directory, its sorted key index and its uploads; <see cref="Sync"/> orders commits.</summary>
internal sealed class Bucket(string name, DateTimeOffset created, string directory)
{
    public string Name { get; } = name;

    public DateTimeOffset Created { get; } = created;

    public string Directory { get; } = directory;

    public Lock Sync { get; } = new();

    /// <summary>Sorted by <see cref="Utf8KeyComparer"/>; guarded by <see cref="Sync"/>.</summary>
    public List<ObjectEntry> Objects { get; } = [];

    /// <summary>Guarded by <see cref="Sync"/>.</summary>
    public Dictionary<string, Upload> Uploads { get; } = new(StringComparer.Ordinal);

    public bool Deleted { get; set; }

    /// <summary>Index of <paramref name="key"/> in <see cref="Objects"/>, or its complement (insertion point).</summary>
    public int Find(string key)
    {
        int lo = 0, hi = Objects.Count - 1;
        while (lo <= hi)
        {
            var mid = lo + ((hi - lo) >> 1);
            var c = Utf8KeyComparer.Instance.Compare(Objects[mid].Key, key);
            if (c == 0)
            {
                return mid;
            }

            if (c < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return ~lo;
    }
}

/// <summary>
/// The store's files. Layout under the data directory:
///   tmp/                                  everything being written; emptied at start-up
///   buckets/NAME/bucket                   creation time
///   buckets/NAME/objects/HH/SHA256(key)   one object file (body + metadata trailer, see ObjectFile)
///   buckets/NAME/uploads/ID/upload        a multipart upload's key and metadata
///   buckets/NAME/uploads/ID/part-NNNNN    its parts (object files)
/// Every file and directory is built under tmp/, fsynced, renamed into place and the parent directory fsynced.
/// </summary>
internal sealed class ObjectStore
{
    private const int SmallObject = 64 * 1024;

    private readonly StoreOptions _options;
    private readonly ILogger _logger;
    private readonly string _tmp;
    private readonly string _buckets;
    private readonly string _damaged;
    private readonly Lock _sync = new();
    private readonly Dictionary<string, Bucket> _bucketsByName = new(StringComparer.Ordinal);

    /// <summary>
    /// Raised with (bucket, key) after an object was written or deleted and the change is visible to readers, so that
    /// copies held elsewhere (the backend's prefetched inputs) can be dropped. Handlers must be quick and not throw.
    /// </summary>
    public event Action<string, string>? ObjectChanged;

    public ObjectStore(StoreOptions options, ILogger logger)
    {
        _options = options;
        _logger = logger;
        var root = Path.GetFullPath(options.DataDirectory);
        _tmp = Path.Combine(root, "tmp");
        _buckets = Path.Combine(root, "buckets");
        _damaged = Path.Combine(root, "damaged");
    }

    public StoreOptions Options => _options;

    /// <summary>Creates the layout, drops what interrupted writes left in tmp/, and rebuilds the index from disk.</summary>
    public void Open()
    {
        Directory.CreateDirectory(_buckets);
        Directory.CreateDirectory(_tmp);
        var stale = 0;
        foreach (var entry in new DirectoryInfo(_tmp).EnumerateFileSystemInfos())
        {
            DeleteTree(entry.FullName);
            stale++;
        }

        if (stale > 0)
        {
            _logger.LogInformation("Store: removed {Count} unfinished write(s) from {Tmp}", stale, _tmp);
        }

        foreach (var dir in Directory.EnumerateDirectories(_buckets))
        {
            var name = Path.GetFileName(dir);
            if (S3Names.BucketNameProblem(name) is not null || !File.Exists(Path.Combine(dir, "bucket")))
            {
                _logger.LogWarning("Store: ignoring {Dir}: not a bucket directory", dir);
                continue;
            }

            var created = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(File.ReadAllText(Path.Combine(dir, "bucket")), CultureInfo.InvariantCulture));
            var bucket = new Bucket(name, created, dir);
            LoadObjects(bucket);
            LoadUploads(bucket);
            _bucketsByName.Add(name, bucket);
        }
    }

    private void LoadObjects(Bucket bucket)
    {
        // A list, not a lazy enumeration: damaged files are moved away during the loop.
        foreach (var file in Directory.GetFiles(Path.Combine(bucket.Directory, "objects"), "*", SearchOption.AllDirectories))
        {
            try
            {
                using var handle = File.OpenHandle(file);
                var info = ObjectFile.ReadInfo(handle, RandomAccess.GetLength(handle), file);
                if (Path.GetFileName(file) != KeyHash(info.Key))
                {
                    throw new InvalidDataException($"{file}: named for another key than '{info.Key}'.");
                }

                bucket.Objects.Add(ObjectEntry.Of(info));
            }
            catch (Exception e) when (e is InvalidDataException or IOException)
            {
                // Out of objects/ (a read of its key would find it by name and fail) but kept for whoever investigates.
                _logger.LogWarning("Store: unreadable object file moved to {Damaged}: {Error}", _damaged, e.Message);
                Directory.CreateDirectory(_damaged);
                File.Move(file, Path.Combine(_damaged, $"{bucket.Name}-{Path.GetFileName(file)}-{Guid.NewGuid():N}"));
            }
        }

        bucket.Objects.Sort((a, b) => Utf8KeyComparer.Instance.Compare(a.Key, b.Key));
    }

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
                bucket.Uploads.Add(id, new Upload(id, info.Key, info.LastModified, info.ContentType, info.Headers, info.Metadata, info.Tags));
            }
            catch (Exception e) when (e is InvalidDataException or IOException)
            {
                _logger.LogWarning("Store: skipping unreadable upload {Dir}: {Error}", dir, e.Message);
            }
        }
    }

    public List<Bucket> ListBuckets()
    {
        lock (_sync)
        {
            var list = _bucketsByName.Values.ToList();
            list.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
            return list;
        }
    }

    public Bucket GetBucket(string name)
    {
        lock (_sync)
        {
            return _bucketsByName.TryGetValue(name, out var bucket) ? bucket : throw S3Errors.NoSuchBucket(name);
        }
    }

    public void CreateBucket(string name)
    {
        lock (_sync)
        {
            if (_bucketsByName.ContainsKey(name))
            {
                throw S3Errors.BucketAlreadyOwnedByYou(name);
            }

            var staging = NewTempPath();
            Directory.CreateDirectory(staging);
            var created = _options.TimeProvider.GetUtcNow();
            WriteSmallFile(Path.Combine(staging, "bucket"), Encoding.ASCII.GetBytes(created.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)));
            var objects = Path.Combine(staging, "objects");
            for (var i = 0; i < 256; i++)
            {
                Directory.CreateDirectory(Path.Combine(objects, i.ToString("x2", CultureInfo.InvariantCulture)));
            }

            Directory.CreateDirectory(Path.Combine(staging, "uploads"));
            SyncDirectory(objects);
            SyncDirectory(staging);
            var final = Path.Combine(_buckets, name);
            Directory.Move(staging, final);
            SyncDirectory(_buckets);
            _bucketsByName.Add(name, new Bucket(name, created, final));
        }
    }

    public void DeleteBucket(string name)
    {
        Bucket bucket;
        var doomed = NewTempPath();
        lock (_sync)
        {
            bucket = _bucketsByName.TryGetValue(name, out var found) ? found : throw S3Errors.NoSuchBucket(name);
            lock (bucket.Sync)
            {
                if (bucket.Objects.Count > 0)
                {
                    throw S3Errors.BucketNotEmpty(name);
                }

                bucket.Deleted = true;
                Directory.Move(bucket.Directory, doomed);
                SyncDirectory(_buckets);
                _bucketsByName.Remove(name);
            }
        }

        DeleteTree(doomed);
    }

    /// <summary>Starts writing a new object (or part) into tmp/.</summary>
    public PendingObject BeginWrite(bool computeMd5 = true) => new(NewTempPath(), _options.MaxObjectSize, _options.Durable, computeMd5);

    /// <summary>Starts assembling a multipart object: up to 10000 parts, so the single-PUT limit does not apply.</summary>
    private PendingObject BeginAssembly() => new(NewTempPath(), _options.MaxObjectSize * 10000, _options.Durable, computeMd5: false);

    /// <summary>
    /// Renames a finished write into place and indexes it. <paramref name="precondition"/> is checked against
    /// the current version (null: none) under the commit lock; false → 412.
    /// </summary>
    public ObjectEntry CommitObject(Bucket bucket, PendingObject pending, ObjectInfo info, Func<ObjectEntry?, bool>? precondition = null) =>
        TryCommitObject(bucket, pending, info, precondition) ?? throw S3Errors.PreconditionFailed("If-Match / If-None-Match on PUT");

    /// <summary>As <see cref="CommitObject"/>, but a failed precondition returns null (and the write is dropped).</summary>
    private ObjectEntry? TryCommitObject(Bucket bucket, PendingObject pending, ObjectInfo info, Func<ObjectEntry?, bool>? precondition)
    {
        var temp = pending.Finish(info);
        var (dir, path) = ObjectPath(bucket, info.Key);
        var entry = ObjectEntry.Of(info);
        lock (bucket.Sync)
        {
            if (bucket.Deleted)
            {
                throw S3Errors.NoSuchBucket(bucket.Name);
            }

            var index = bucket.Find(info.Key);
            if (precondition is not null && !precondition(index >= 0 ? bucket.Objects[index] : null))
            {
                return null;
            }

            File.Move(temp, path, overwrite: true);
            if (index >= 0)
            {
                bucket.Objects[index] = entry;
            }
            else
            {
                bucket.Objects.Insert(~index, entry);
            }
        }

        pending.Committed();
        SyncDirectory(dir);
        ObjectChanged?.Invoke(bucket.Name, info.Key);
        return entry;
    }

    /// <summary>
    /// Replaces an object's tag set (PutObjectTagging / DeleteObjectTagging). Tags live in the object file with the
    /// rest of its metadata, so the file is rewritten (body copied, same ETag and Last-Modified, as S3 keeps them) and
    /// committed like a PUT: atomic and durable. The commit only replaces the version that was copied; when another
    /// write lands in between, the copy is redone on the new version. Returns false when the key does not exist.
    /// </summary>
    public async Task<bool> ReplaceTagsAsync(Bucket bucket, string key, IReadOnlyList<KeyValuePair<string, string>> tags, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var source = OpenObject(bucket, key);
            if (source is null)
            {
                return false;
            }

            var copied = ObjectEntry.Of(source.Info);
            await using var pending = BeginWrite(computeMd5: false);
            await source.CopyToAsync(pending, 0, source.Info.Size, cancellationToken);
            if (TryCommitObject(bucket, pending, source.Info with { Tags = tags }, current => SameVersion(current, copied)) is not null)
            {
                return true;
            }

            if (attempt == 8)
            {
                throw new S3Exception(409, "OperationAborted", $"'{key}' kept changing while its tags were replaced; try again.");
            }
        }
    }

    // The index holds the commit time at full precision, the object file in milliseconds.
    private static bool SameVersion(ObjectEntry? current, ObjectEntry copied) =>
        current is not null && current.ETag == copied.ETag && current.Size == copied.Size
        && current.LastModified.ToUnixTimeMilliseconds() == copied.LastModified.ToUnixTimeMilliseconds();

    public bool DeleteObject(Bucket bucket, string key)
    {
        var (dir, path) = ObjectPath(bucket, key);
        lock (bucket.Sync)
        {
            var index = bucket.Find(key);
            if (index < 0 || bucket.Deleted)
            {
                return false;
            }

            File.Delete(path);
            bucket.Objects.RemoveAt(index);
        }

        SyncDirectory(dir);
        ObjectChanged?.Invoke(bucket.Name, key);
        return true;
    }

    /// <summary>Opens an object for reading; null when the key is absent. The open handle pins this version.</summary>
    public StoredObject? OpenObject(Bucket bucket, string key)
    {
        var (_, path) = ObjectPath(bucket, key);
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }

        try
        {
            var length = RandomAccess.GetLength(handle);
            ObjectInfo info;
            byte[]? whole = null;
            if (length <= SmallObject)
            {
                whole = new byte[length];
                var read = RandomAccess.Read(handle, whole, 0);
                if (read != length)
                {
                    throw new InvalidDataException($"{path}: short read.");
                }

                info = ObjectFile.ReadInfo(whole, path);
            }
            else
            {
                info = ObjectFile.ReadInfo(handle, length, path);
            }

            if (info.Key != key)
            {
                handle.Dispose();
                return null;
            }

            return new StoredObject(handle, info, whole);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    public Upload CreateUpload(Bucket bucket, string key, string contentType, IReadOnlyList<KeyValuePair<string, string>> headers, IReadOnlyList<KeyValuePair<string, string>> metadata, IReadOnlyList<KeyValuePair<string, string>> tags)
    {
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var upload = new Upload(id, key, _options.TimeProvider.GetUtcNow(), contentType, headers, metadata, tags);
        var staging = NewTempPath();
        Directory.CreateDirectory(staging);
        WriteSmallFile(Path.Combine(staging, "upload"), ObjectFile.EncodeTrailer(new ObjectInfo(key, 0, string.Empty, upload.Initiated, contentType, headers, metadata, tags)));
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

    public string CommitPart(Bucket bucket, Upload upload, int partNumber, PendingObject pending)
    {
        var etag = pending.Md5Hex();
        var temp = pending.Finish(new ObjectInfo(upload.Key, pending.Length, etag, _options.TimeProvider.GetUtcNow(), string.Empty, [], [], []));
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
                    parts.Add(new PartEntry(number, info.Size, info.ETag, info.LastModified));
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

    /// <summary>Validates the client's part list, assembles the object from the parts and commits it.</summary>
    public async Task<ObjectEntry> CompleteUploadAsync(Bucket bucket, Upload upload, IReadOnlyList<(int PartNumber, string ETag)> requested, CancellationToken cancellationToken)
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
            var (number, etag) = requested[i];

            if (!stored.TryGetValue(number, out var part) || !string.Equals(part.ETag, etag.Trim('"'), StringComparison.OrdinalIgnoreCase))
            {
                throw new S3Exception(400, "InvalidPart", $"Part {number} with ETag {etag} was not uploaded, or its ETag does not match.");
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
            var info = new ObjectInfo(upload.Key, pending.Length, etag, _options.TimeProvider.GetUtcNow(), upload.ContentType, upload.Headers, upload.Metadata, upload.Tags);
            lock (bucket.Sync)
            {
                if (!bucket.Uploads.ContainsKey(upload.Id))
                {
                    throw S3Errors.NoSuchUpload(upload.Id);
                }
            }

            var entry = CommitObject(bucket, pending, info);
            RemoveUpload(bucket, upload.Id);
            return entry;
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

    private static string PartName(int partNumber) => "part-" + partNumber.ToString("D5", CultureInfo.InvariantCulture);

    private (string Directory, string Path) ObjectPath(Bucket bucket, string key)
    {
        var hash = KeyHash(key);
        var dir = Path.Combine(bucket.Directory, "objects", hash[..2]);
        return (dir, Path.Combine(dir, hash));
    }

    /// <summary>Keys are never used as paths: a key's file is named by the hex SHA-256 of its UTF-8 bytes.</summary>
    internal static string KeyHash(string key)
    {
        Span<byte> hash = stackalloc byte[32];
        var max = Encoding.UTF8.GetMaxByteCount(key.Length);
        var rented = max <= 4096 ? null : ArrayPool<byte>.Shared.Rent(max);
        Span<byte> utf8 = rented ?? stackalloc byte[max];
        var length = Encoding.UTF8.GetBytes(key, utf8);
        SHA256.HashData(utf8[..length], hash);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        return Convert.ToHexStringLower(hash);
    }

    private string NewTempPath() => Path.Combine(_tmp, Guid.NewGuid().ToString("N"));

    private void WriteSmallFile(string path, byte[] content)
    {
        using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1);
        file.Write(content);
        file.Flush(_options.Durable);
    }

    private void SyncDirectory(string path)
    {
        if (_options.Durable)
        {
            DirectorySync.Fsync(path);
        }
    }

    private void DeleteTree(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
            else
            {
                File.Delete(path);
            }
        }
        catch (IOException e)
        {
            _logger.LogWarning("Store: could not remove {Path}: {Error}", path, e.Message);
        }
    }
}

/// <summary>An object open for reading: its metadata and a handle that keeps this version readable.</summary>
internal sealed class StoredObject(SafeFileHandle handle, ObjectInfo info, byte[]? whole) : IDisposable
{
    public ObjectInfo Info { get; } = info;

    /// <summary>Copies body bytes [offset, offset+count) to <paramref name="destination"/>.</summary>
    public async Task CopyToAsync(System.IO.Pipelines.PipeWriter destination, long offset, long count, CancellationToken cancellationToken)
    {
        if (whole is not null)
        {
            await destination.WriteAsync(whole.AsMemory((int)offset, (int)count), cancellationToken);
            return;
        }

        while (count > 0)
        {
            var memory = destination.GetMemory(64 * 1024);
            var want = (int)Math.Min(memory.Length, count);
            var n = await RandomAccess.ReadAsync(handle, memory[..want], offset, cancellationToken);
            if (n == 0)
            {
                throw new InvalidDataException("object file ended early");
            }

            destination.Advance(n);
            offset += n;
            count -= n;
            var flushed = await destination.FlushAsync(cancellationToken);
            if (flushed.IsCanceled || flushed.IsCompleted)
            {
                return;
            }
        }
    }

    /// <summary>Copies body bytes [offset, offset+count) into a pending write (CopyObject).</summary>
    public async Task CopyToAsync(PendingObject destination, long offset, long count, CancellationToken cancellationToken)
    {
        if (whole is not null)
        {
            await destination.WriteAsync(whole.AsMemory((int)offset, (int)count), cancellationToken);
            return;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(256 * 1024);
        try
        {
            while (count > 0)
            {
                var n = await RandomAccess.ReadAsync(handle, buffer.AsMemory(0, (int)Math.Min(buffer.Length, count)), offset, cancellationToken);
                if (n == 0)
                {
                    throw new InvalidDataException("object file ended early");
                }

                await destination.WriteAsync(buffer.AsMemory(0, n), cancellationToken);
                offset += n;
                count -= n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public void Dispose() => handle.Dispose();
}

/// <summary>A new object or part being written under tmp/; deleted on dispose unless committed.</summary>
internal sealed class PendingObject : IAsyncDisposable
{
    private readonly string _path;
    private readonly long _max;
    private readonly bool _durable;
    private readonly IncrementalHash? _md5;
    private FileStream? _file;
    private bool _committed;

    public PendingObject(string path, long max, bool durable, bool computeMd5)
    {
        _path = path;
        _max = max;
        _durable = durable;
        _md5 = computeMd5 ? IncrementalHash.CreateHash(HashAlgorithmName.MD5) : null;
        _file = new FileStream(path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 0 });
    }

    public long Length { get; private set; }

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        Length += data.Length;
        if (Length > _max)
        {
            throw S3Errors.EntityTooLarge(_max);
        }

        _md5?.AppendData(data.Span);
        await _file!.WriteAsync(data, cancellationToken);
    }

    /// <summary>Hex MD5 of everything written (the S3 ETag of a single PUT or part).</summary>
    public string Md5Hex() => Convert.ToHexStringLower(_md5!.GetCurrentHash());

    /// <summary>Appends the metadata trailer, fsyncs and closes; returns the temp path to rename.</summary>
    public string Finish(ObjectInfo info)
    {
        var file = _file!;
        file.Write(ObjectFile.EncodeTrailer(info));
        file.Flush(_durable);
        file.Dispose();
        _file = null;
        return _path;
    }

    public void Committed() => _committed = true;

    public async ValueTask DisposeAsync()
    {
        _md5?.Dispose();
        if (_file is not null)
        {
            await _file.DisposeAsync();
        }

        if (!_committed)
        {
            File.Delete(_path);
        }
    }
}
