// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Interop;

namespace Nexus.Image;

/// <summary>
/// Builds and caches the function image. Two cache levels keyed by content hashes of their inputs:
/// <c>base/&lt;hash&gt;</c> (the debootstrap rootfs) and <c>images/&lt;hash&gt;</c> (base + runtime files), so a runtime
/// change never re-runs debootstrap. Every entry is built under <c>tmp/</c> and renamed into place only when
/// complete, under an exclusive lock; an interrupted build is never used and is cleaned up by the next one.
/// </summary>
public sealed class ImageBuilder
{
    internal const string LockFileName = ".lock";

    private readonly ImageOptions _options;
    private readonly Bootstrap _bootstrap;
    private readonly Func<string?> _missingPrerequisite;
    private readonly string _aptDirectory;
    private string? _mirror;

    public ImageBuilder(ImageOptions options)
        : this(options, BaseRootfs.DebootstrapAsync, MissingPrerequisite, "/etc/apt")
    {
    }

    /// <summary>For tests: a stand-in for debootstrap, the prerequisite check, and the apt folder the mirror is read from.</summary>
    internal ImageBuilder(ImageOptions options, Bootstrap bootstrap, Func<string?> missingPrerequisite, string aptDirectory)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.CacheDirectory) || !Path.IsPathFullyQualified(options.CacheDirectory))
        {
            throw new ImageBuildException($"image cache directory '{options.CacheDirectory}' must be an absolute path");
        }

        _options = options;
        _bootstrap = bootstrap;
        _missingPrerequisite = missingPrerequisite;
        _aptDirectory = aptDirectory;
    }

    /// <summary>Fills an empty directory with a Debian rootfs.</summary>
    internal delegate Task Bootstrap(string rootfs, string mirror, IProgress<string>? progress, CancellationToken cancellationToken);

    /// <summary>The Debian mirror used: ImageOptions.Mirror, else the host's apt sources, else deb.debian.org.</summary>
    public string Mirror => _mirror ??= _options.Mirror is { } configured
        ? AptSources.ValidateMirror(configured)
        : AptSources.DetectMirror(ImageRecipe.Suite, _aptDirectory);

    private string BaseDirectory => Path.Combine(_options.CacheDirectory, "base");

    private string ImagesDirectory => Path.Combine(_options.CacheDirectory, "images");

    private string TempDirectory => Path.Combine(_options.CacheDirectory, "tmp");

    /// <summary>
    /// Null when this host can build images; else what is missing and how to get it.
    /// Only building needs these (a cached image needs nothing).
    /// </summary>
    public static string? MissingPrerequisite() =>
        MissingPrerequisite(Environment.IsPrivilegedProcess, HostTool.Find);

    internal static string? MissingPrerequisite(bool isRoot, Func<string, string?> findTool)
    {
        var missing = new List<string>();
        if (!isRoot)
        {
            missing.Add("building the function image needs root (debootstrap creates device nodes and chroots): run as root, e.g. with sudo");
        }

        if (findTool("debootstrap") is null)
        {
            missing.Add("debootstrap is not installed: run `apt-get install debootstrap`");
        }

        if (findTool("chroot") is null)
        {
            missing.Add("chroot is not installed: run `apt-get install coreutils`");
        }

        return missing.Count == 0 ? null : string.Join("; ", missing);
    }

    /// <summary>The base and image hashes for the current inputs (runtime files as they are now).</summary>
    internal ImageInputs ComputeHashes()
    {
        var files = ImageRecipe.RuntimeFiles(_options.RuntimeSourceDirectory);
        var baseHash = ImageRecipe.BaseHash(Mirror);
        var runtimeHash = ImageRecipe.RuntimeHash(files);
        return new ImageInputs(baseHash, runtimeHash, ImageRecipe.ImageHash(baseHash, runtimeHash), files);
    }

    /// <summary>The current image if it is already built, without building anything.</summary>
    public FunctionImage? TryGetCached()
    {
        var imageHash = ComputeHashes().ImageHash;
        return Complete(ImagesDirectory, imageHash) is { } rootfs ? new FunctionImage(rootfs, imageHash) : null;
    }

    /// <summary>Returns the image for the current inputs, building what is missing (progress lines go to <paramref name="progress"/>).</summary>
    public async Task<FunctionImage> EnsureAsync(IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var inputs = ComputeHashes();
        var (baseHash, imageHash) = (inputs.BaseHash, inputs.ImageHash);
        if (Complete(ImagesDirectory, imageHash) is { } cached)
        {
            progress?.Report($"image {Short(imageHash)} (cached)");
            return new FunctionImage(cached, imageHash);
        }

        // Building anything needs root (debootstrap, chroot for the bytecode); a cache hit above needed nothing.
        if (_missingPrerequisite() is { } missing)
        {
            throw new ImageBuildException(missing);
        }

        Directory.CreateDirectory(_options.CacheDirectory);
        using var cacheLock = await CacheLock.AcquireAsync(Path.Combine(_options.CacheDirectory, LockFileName), progress, cancellationToken);

        // Another holder of the lock may have built it while we waited.
        if (Complete(ImagesDirectory, imageHash) is { } builtMeanwhile)
        {
            progress?.Report($"image {Short(imageHash)} (built by another process)");
            return new FunctionImage(builtMeanwhile, imageHash);
        }

        // Under the lock nobody else is building: whatever is in tmp/ is left over from an interrupted build.
        await HostTools.RemoveTreeAsync(TempDirectory);
        Directory.CreateDirectory(TempDirectory);

        var baseRootfs = Complete(BaseDirectory, baseHash) ?? await BuildBaseAsync(baseHash, progress, cancellationToken);
        var rootfs = await BuildImageAsync(inputs, baseRootfs, progress, cancellationToken);
        return new FunctionImage(rootfs, imageHash);
    }

    /// <summary>Every complete entry of the cache; <see cref="CachedImage.IsCurrent"/> marks the ones the current inputs use.</summary>
    public IReadOnlyList<CachedImage> ListCached()
    {
        string? baseHash = null;
        string? imageHash = null;
        try
        {
            var inputs = ComputeHashes();
            (baseHash, imageHash) = (inputs.BaseHash, inputs.ImageHash);
        }
        catch (ImageBuildException)
        {
            // Without runtime files nothing is current; the listing is still useful.
        }

        var result = new List<CachedImage>();
        foreach (var (kind, dir, current) in new[] { (CachedImageKind.Base, BaseDirectory, baseHash), (CachedImageKind.Image, ImagesDirectory, imageHash) })
        {
            if (!Directory.Exists(dir))
            {
                continue;
            }

            foreach (var entry in Directory.EnumerateDirectories(dir).Order(StringComparer.Ordinal))
            {
                if (ImageMetadata.TryRead(entry) is { } meta && Directory.Exists(Path.Combine(entry, "rootfs")))
                {
                    result.Add(new CachedImage(kind, meta.ContentHash, Path.Combine(entry, "rootfs"), meta.Created, meta.SizeBytes, meta.ContentHash == current));
                }
            }
        }

        return result;
    }

    /// <summary>
    /// Deletes every cache entry the current inputs do not use, and leftovers of interrupted builds; returns what was
    /// removed. Only while no node runs from this cache: a running sandbox's rootfs would lose its files.
    /// </summary>
    public async Task<IReadOnlyList<CachedImage>> PruneAsync(CancellationToken cancellationToken)
    {
        // Throws when the runtime files are missing: without current hashes everything would look unused.
        ComputeHashes();
        Directory.CreateDirectory(_options.CacheDirectory);
        using var cacheLock = await CacheLock.AcquireAsync(Path.Combine(_options.CacheDirectory, LockFileName), null, cancellationToken);
        await HostTools.RemoveTreeAsync(TempDirectory);
        Directory.CreateDirectory(TempDirectory);

        var removed = new List<CachedImage>();
        foreach (var entry in ListCached().Where(e => !e.IsCurrent))
        {
            // Renamed out first, so the entry vanishes whole even if the removal is interrupted.
            var doomed = Path.Combine(TempDirectory, "prune-" + entry.ContentHash);
            Directory.Move(Path.GetDirectoryName(entry.RootfsPath)!, doomed);
            await HostTools.RemoveTreeAsync(doomed);
            removed.Add(entry);
        }

        return removed;
    }

    private async Task<string> BuildBaseAsync(string baseHash, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        progress?.Report($"base rootfs {Short(baseHash)}: building");
        var work = Path.Combine(TempDirectory, "base-" + Short(baseHash) + "-" + Guid.NewGuid().ToString("N")[..8]);
        var rootfs = Path.Combine(work, "rootfs");
        try
        {
            Directory.CreateDirectory(rootfs);
            await _bootstrap(rootfs, Mirror, progress, cancellationToken);
            cancellationToken.ThrowIfCancellationRequested();
            progress?.Report("trimming docs, man pages, locales and apt lists; adding mount points");
            BaseRootfs.Finish(rootfs);
            new ImageMetadata(CachedImageKind.Base, baseHash, Mirror, null, null, DateTimeOffset.UtcNow, Tree.Size(rootfs)).Write(work);
            return Publish(work, BaseDirectory, baseHash);
        }
        finally
        {
            await HostTools.RemoveTreeAsync(work);
        }
    }

    private async Task<string> BuildImageAsync(ImageInputs inputs, string baseRootfs, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var (baseHash, imageHash, files) = (inputs.BaseHash, inputs.ImageHash, inputs.Files);
        progress?.Report($"image {Short(imageHash)}: base {Short(baseHash)} + {files.Count} runtime files");
        var work = Path.Combine(TempDirectory, "image-" + Short(imageHash) + "-" + Guid.NewGuid().ToString("N")[..8]);
        var rootfs = Path.Combine(work, "rootfs");
        try
        {
            Directory.CreateDirectory(work);

            // Hard links: the image shares the base's files (no second 500 MB). Only new files are added below,
            // and sandboxes mount the image read-only, so the base is never changed through them.
            await HostTools.RunCheckedAsync("cp", ["-al", "--", baseRootfs, rootfs], cancellationToken);
            InstallRuntime(rootfs, files);

            // Precompiled bytecode, because the read-only rootfs keeps Python from caching it at every cold start.
            progress?.Report("compiling runtime bytecode");
            await CompileBytecodeAsync(rootfs, cancellationToken);

            new ImageMetadata(CachedImageKind.Image, imageHash, Mirror, baseHash, inputs.RuntimeHash, DateTimeOffset.UtcNow, Tree.Size(rootfs)).Write(work);
            var published = Publish(work, ImagesDirectory, imageHash);
            progress?.Report($"image {Short(imageHash)}: ready at {published}");
            return published;
        }
        finally
        {
            await HostTools.RemoveTreeAsync(work);
        }
    }

    private static void InstallRuntime(string rootfs, IReadOnlyList<RuntimeFile> files)
    {
        // Readable by any uid: sandboxes may run the runtime as an unprivileged user.
        foreach (var file in files)
        {
            var target = Path.Combine(rootfs, file.ImagePath);
            CreateDirectories(rootfs, Path.GetDirectoryName(file.ImagePath)!);
            File.Copy(file.SourcePath, target, overwrite: false);
            UnixModes.Set(target, UnixModes.File);
        }

        CreateDirectories(rootfs, "opt/nexus/runtime");
        CreateDirectories(rootfs, "opt/nexus/frontend");
    }

    /// <summary>Creates each missing folder of a relative path with mode 0755 (a host umask must not leak into the image).</summary>
    private static void CreateDirectories(string rootfs, string relative)
    {
        var path = rootfs;
        foreach (var segment in relative.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            path = Path.Combine(path, segment);
            if (!Directory.Exists(path))
            {
                Directory.CreateDirectory(path);
                UnixModes.Set(path, UnixModes.Directory);
            }
        }
    }

    private static async Task CompileBytecodeAsync(string rootfs, CancellationToken cancellationToken)
    {
        if (!File.Exists(Path.Combine(rootfs, "usr/bin/python3")))
        {
            // A stand-in base without Python (unit tests) has nothing to compile with.
            return;
        }

        await HostTools.RunCheckedAsync("chroot", [rootfs, "/usr/bin/python3", "-m", "compileall", "-q", "/opt/nexus"], cancellationToken);
    }

    /// <summary>Renames a finished work folder into the cache; the rename is atomic, so readers see all or nothing.</summary>
    private static string Publish(string work, string parent, string hash)
    {
        Directory.CreateDirectory(parent);
        var final = Path.Combine(parent, hash);
        if (!Directory.Exists(final))
        {
            Directory.Move(work, final);
        }

        return Path.Combine(final, "rootfs");
    }

    /// <summary>The rootfs of a complete cache entry, or null (an entry is complete once renamed in: meta.json is written before).</summary>
    private static string? Complete(string parent, string hash)
    {
        var entry = Path.Combine(parent, hash);
        return File.Exists(Path.Combine(entry, ImageMetadata.FileName)) && Directory.Exists(Path.Combine(entry, "rootfs"))
            ? Path.Combine(entry, "rootfs")
            : null;
    }

    internal static string Short(string hash) => hash[..12];
}

/// <summary>The hashes of one image's inputs, and the runtime files that went into them.</summary>
internal sealed record ImageInputs(string BaseHash, string RuntimeHash, string ImageHash, IReadOnlyList<RuntimeFile> Files);
