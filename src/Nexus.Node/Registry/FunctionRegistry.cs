// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Collections.Concurrent;
using System.IO.Compression;
using System.Security.Cryptography;
using Nexus.Functions;

namespace Nexus.Node.Registry;

/// <summary>
/// The functions deployed on this node, persisted under <c>$NEXUS_HOME/functions</c>. Each deploy unpacks into a
/// fresh revision directory <c>.revisions/&lt;name&gt;.&lt;rev&gt;</c>; <c>functions/&lt;name&gt;</c> is a symlink to the
/// live one, replaced by rename(2) so a reader or a crash sees the old revision or the new one, never a mix.
/// </summary>
public sealed class FunctionRegistry
{
    /// <summary>Bounds on an uploaded function package (zip): what a sane Python function folder needs.</summary>
    public const long MaxPackageBytes = 64L * 1024 * 1024;
    public const long MaxUnpackedBytes = 256L * 1024 * 1024;
    public const int MaxFiles = 10_000;

    private readonly string _root;
    private readonly string _revisions;
    private readonly ConcurrentDictionary<string, DeployedFunction> _functions = new(StringComparer.Ordinal);
    private readonly Lock _deployLock = new();

    public FunctionRegistry(string functionsDirectory)
    {
        _root = functionsDirectory;
        _revisions = Path.Combine(_root, ".revisions");
        Directory.CreateDirectory(_revisions);
    }

    public IReadOnlyCollection<DeployedFunction> All => [.. _functions.Values.OrderBy(f => f.Name, StringComparer.Ordinal)];

    public bool TryGet(string name, out DeployedFunction function) => _functions.TryGetValue(name, out function!);

    /// <summary>
    /// Loads every deployed function after a (re)start and removes debris of interrupted deploys: staging
    /// directories and revisions no link points to. Returns the functions whose manifests no longer load, with why.
    /// </summary>
    public IReadOnlyList<string> Load()
    {
        var problems = new List<string>();
        var live = new HashSet<string>(StringComparer.Ordinal);
        foreach (var link in Directory.EnumerateFileSystemEntries(_root))
        {
            var name = Path.GetFileName(link);
            if (name.StartsWith('.'))
            {
                continue;
            }

            var target = new FileInfo(link).LinkTarget;
            if (target is null)
            {
                problems.Add($"{link}: not a revision link; ignored");
                continue;
            }

            var revisionDir = Path.GetFullPath(target, _root);
            try
            {
                var function = Describe(ManifestParser.LoadFolder(revisionDir), revisionDir);
                if (function.Name != name)
                {
                    throw new ManifestException($"{link}: holds function '{function.Name}'");
                }

                _functions[name] = function;
                live.Add(revisionDir);
            }
            catch (Exception e) when (e is ManifestException or IOException)
            {
                problems.Add($"{name}: {e.Message}");
            }
        }

        foreach (var dir in Directory.EnumerateDirectories(_revisions))
        {
            if (!live.Contains(Path.GetFullPath(dir)))
            {
                Directory.Delete(dir, recursive: true);
            }
        }

        return problems;
    }

    /// <summary>
    /// Validates and installs a zipped function folder; replaces an earlier deploy of the same name atomically.
    /// Throws <see cref="ManifestException"/> (bad manifest) or <see cref="InvalidDataException"/> (bad package).
    /// </summary>
    public DeployedFunction Deploy(Stream zip)
    {
        var staging = Path.Combine(_revisions, ".staging-" + Guid.NewGuid().ToString("N"));
        try
        {
            Directory.CreateDirectory(staging);
            Unpack(zip, staging);
            var manifest = ManifestParser.LoadFolder(staging);
            lock (_deployLock)
            {
                var revision = DateTimeOffset.UtcNow.ToString("yyyyMMddHHmmssfff", System.Globalization.CultureInfo.InvariantCulture) + "-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
                var revisionDir = Path.Combine(_revisions, $"{manifest.Name}.{revision}");
                Directory.Move(staging, revisionDir);
                var link = Path.Combine(_root, manifest.Name);
                var tempLink = Path.Combine(_root, $".link-{manifest.Name}-{Guid.NewGuid():N}");
                File.CreateSymbolicLink(tempLink, Path.GetRelativePath(_root, revisionDir));
                Nexus.Interop.DirectorySync.Fsync(_revisions);
                File.Move(tempLink, link, overwrite: true);
                Nexus.Interop.DirectorySync.Fsync(_root);
                var function = Describe(manifest, revisionDir);
                _functions[manifest.Name] = function;
                return function;
            }
        }
        finally
        {
            TryDelete(staging);
        }
    }

    /// <summary>Removes a function's link; its code goes with <see cref="Prune"/> once no instance runs it.</summary>
    public bool Remove(string name)
    {
        lock (_deployLock)
        {
            if (!_functions.TryRemove(name, out _))
            {
                return false;
            }

            File.Delete(Path.Combine(_root, name));
            return true;
        }
    }

    /// <summary>
    /// Deletes the code of <paramref name="name"/>'s revisions other than the live one. Called after the instances
    /// of older revisions stopped: their sandboxes bind-mount that code.
    /// </summary>
    public void Prune(string name)
    {
        lock (_deployLock)
        {
            var live = _functions.TryGetValue(name, out var current) ? Path.GetFullPath(current.CodeDirectory) : null;
            foreach (var dir in Directory.EnumerateDirectories(_revisions, name + ".*"))
            {
                if (Path.GetFullPath(dir) != live)
                {
                    TryDelete(dir);
                }
            }
        }
    }

    private static DeployedFunction Describe(FunctionManifest manifest, string directory)
    {
        var info = new DirectoryInfo(directory);
        var revision = info.Name[(manifest.Name.Length + 1)..];
        long size = 0;
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in info.EnumerateFiles("*", SearchOption.AllDirectories).OrderBy(f => f.FullName, StringComparer.Ordinal))
        {
            size += file.Length;
            sha.AppendData(System.Text.Encoding.UTF8.GetBytes(Path.GetRelativePath(directory, file.FullName)));
            sha.AppendData(File.ReadAllBytes(file.FullName));
        }

        return new DeployedFunction(manifest, directory, revision, Convert.ToBase64String(sha.GetHashAndReset()), size, info.LastWriteTimeUtc);
    }

    // The package comes from a client: bound its size, its file count, and refuse paths that leave the folder.
    private static void Unpack(Stream zip, string destination)
    {
        using var buffer = new MemoryStream();
        CopyBounded(zip, buffer, MaxPackageBytes, "the package");
        buffer.Position = 0;
        long unpacked = 0;
        ZipArchive archive;
        try
        {
            archive = new ZipArchive(buffer, ZipArchiveMode.Read);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException("the package is not a zip archive: " + e.Message, e);
        }

        using (archive)
        {
            if (archive.Entries.Count > MaxFiles)
            {
                throw new InvalidDataException($"the package holds {archive.Entries.Count} entries; at most {MaxFiles} are allowed");
            }

            var root = Path.GetFullPath(destination) + Path.DirectorySeparatorChar;
            foreach (var entry in archive.Entries)
            {
                var target = Path.GetFullPath(Path.Combine(destination, entry.FullName));
                if (!target.StartsWith(root, StringComparison.Ordinal) || Path.IsPathRooted(entry.FullName))
                {
                    throw new InvalidDataException($"the package entry '{entry.FullName}' points outside the function folder");
                }

                if (entry.FullName.EndsWith('/'))
                {
                    Directory.CreateDirectory(target);
                    continue;
                }

                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                using var input = entry.Open();
                using var output = new FileStream(target, FileMode.CreateNew, FileAccess.Write);
                unpacked += CopyBounded(input, output, MaxUnpackedBytes - unpacked, "the unpacked function folder");

                // A deploy the caller saw succeed must survive a crash.
                output.Flush(flushToDisk: true);
            }
        }
    }

    private static long CopyBounded(Stream input, Stream output, long limit, string what)
    {
        var chunk = new byte[81920];
        long total = 0;
        int n;
        while ((n = input.Read(chunk)) > 0)
        {
            total += n;
            if (total > limit)
            {
                throw new InvalidDataException($"{what} is larger than the limit of {limit} bytes");
            }

            output.Write(chunk, 0, n);
        }

        return total;
    }

    private static void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (IOException)
        {
            // A half-deleted old revision is removed by the next Load.
        }
    }
}
