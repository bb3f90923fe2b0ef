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
internal sealed partial class ObjectStore
{
    private const int SmallObject = 64 * 1024;

    private readonly StoreOptions _options;
    private readonly ILogger _logger;
    private readonly string _root;
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
        _root = root;
        _tmp = Path.Combine(root, "tmp");
        _buckets = Path.Combine(root, "buckets");
        _damaged = Path.Combine(root, "damaged");
    }

    public StoreOptions Options => _options;

    /// <summary>Creates the layout, drops what interrupted writes left in tmp/, and rebuilds the index from disk.</summary>
    public void Open()
    {
        // The objects are the store's to serve: no other local user reads them past its access control.
        Directory.CreateDirectory(_root);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(_root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
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

    /// <summary>
    /// Renames a finished write into place and indexes it. <paramref name="precondition"/> is checked against
    /// the current version (null: none) under the commit lock; false → 412.
    /// </summary>
    public ObjectEntry CommitObject(Bucket bucket, PendingObject pending, ObjectInfo info, Func<ObjectEntry?, bool>? precondition = null) =>
        TryCommitObject(bucket, pending, info, precondition) ?? throw S3Errors.PreconditionFailed("If-Match / If-None-Match");

    /// <summary>As <see cref="CommitObject"/>, but a failed precondition returns null (and the write is dropped).</summary>
    private ObjectEntry? TryCommitObject(Bucket bucket, PendingObject pending, ObjectInfo info, Func<ObjectEntry?, bool>? precondition)
    {
        info = info.Checksum is null ? info with { Checksum = pending.Crc64NvmeChecksum() } : info;
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

    /// <summary>
    /// Deletes <paramref name="key"/>; false when it does not exist. <paramref name="precondition"/> is checked against
    /// the current version under the commit lock; false → 412 PreconditionFailed and nothing deleted.
    /// </summary>
    public bool DeleteObject(Bucket bucket, string key, Func<ObjectEntry, bool>? precondition = null)
    {
        var (dir, path) = ObjectPath(bucket, key);
        lock (bucket.Sync)
        {
            var index = bucket.Find(key);
            if (index < 0 || bucket.Deleted)
            {
                return false;
            }

            if (precondition is not null && !precondition(bucket.Objects[index]))
            {
                throw S3Errors.PreconditionFailed("If-Match / x-amz-if-match-size / x-amz-if-match-last-modified-time");
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
