// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.Versioning;

namespace Nexus.Image.Tests;

/// <summary>The cache, lock and publish logic, with a stand-in for debootstrap that makes a tiny tree.</summary>
[SupportedOSPlatform("linux")]
public sealed class ImageCacheTests : IDisposable
{
    private readonly TempDir _cache = new();
    private readonly TempDir _outside = new();
    private readonly RuntimeTree _runtime = RuntimeTree.Create();
    private int _bootstraps;

    public void Dispose()
    {
        _cache.Dispose();
        _outside.Dispose();
        _runtime.Dispose();
    }

    [Fact]
    public async Task FirstEnsureBuildsSecondIsACacheHit()
    {
        var first = await Builder().EnsureAsync(null, CancellationToken.None);
        var lines = new LineRecorder();
        var second = await Builder().EnsureAsync(lines, CancellationToken.None);

        Assert.Equal(1, _bootstraps);
        Assert.Equal(first, second);
        Assert.Equal(Path.Combine(_cache.Path, "images", first.ContentHash, "rootfs"), first.RootfsPath);
        Assert.Contains(lines.Lines, l => l.EndsWith("(cached)", StringComparison.Ordinal));
        Assert.Equal(first, Builder().TryGetCached());
    }

    [Fact]
    public async Task ImageHoldsBaseAndRuntimeFilesReadableByAnyone()
    {
        var rootfs = (await Builder().EnsureAsync(null, CancellationToken.None)).RootfsPath;

        Assert.Equal("ID=debian\n", File.ReadAllText(Path.Combine(rootfs, "etc/os-release")));
        Assert.Equal("print('runtime')\n", File.ReadAllText(Path.Combine(rootfs, "opt/nexus/runtime/nexus_runtime/__main__.py")));
        Assert.Equal("CHANNEL = 1\n", File.ReadAllText(Path.Combine(rootfs, "opt/nexus/runtime/nexus_channel/__init__.py")));
        Assert.Equal("FRONTEND = 1\n", File.ReadAllText(Path.Combine(rootfs, "opt/nexus/frontend/boto3/__init__.py")));
        Assert.Equal((UnixFileMode)0b110_100_100, File.GetUnixFileMode(Path.Combine(rootfs, "opt/nexus/runtime/nexus_runtime/__main__.py")));
        Assert.Equal((UnixFileMode)0b111_101_101, File.GetUnixFileMode(Path.Combine(rootfs, "opt/nexus/runtime/nexus_channel")));
        Assert.True(Directory.Exists(Path.Combine(rootfs, "var/task")));
    }

    [Fact]
    public async Task BaseIsTrimmedWithoutFollowingLinksOutOfTheTree()
    {
        var rootfs = (await Builder().EnsureAsync(null, CancellationToken.None)).RootfsPath;

        Assert.False(File.Exists(Path.Combine(rootfs, "usr/share/doc/pkg/changelog.gz")));
        Assert.True(File.Exists(Path.Combine(rootfs, "usr/share/doc/pkg/copyright")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(rootfs, "usr/share/man")));
        Assert.Equal([Path.Combine(rootfs, "var/lib/apt/lists/partial")], Directory.EnumerateFileSystemEntries(Path.Combine(rootfs, "var/lib/apt/lists")));
        Assert.Contains("nameserver 127.0.0.1", File.ReadAllText(Path.Combine(rootfs, "etc/resolv.conf")), StringComparison.Ordinal);

        // The tree had absolute links to a host folder (as a Debian tree seen from the host has): its files are untouched.
        Assert.True(File.Exists(_outside.Combine("victim")));
        Assert.True(File.Exists(_outside.Combine("changelog.gz")));
        Assert.Equal("host resolver\n", File.ReadAllText(_outside.Combine("resolv.conf")));
    }

    [Fact]
    public async Task ARuntimeChangeReusesTheBase()
    {
        var first = await Builder().EnsureAsync(null, CancellationToken.None);
        _runtime.Write("nexus_runtime/__main__.py", "print('v2')\n");

        var second = await Builder().EnsureAsync(null, CancellationToken.None);

        Assert.Equal(1, _bootstraps);
        Assert.NotEqual(first.ContentHash, second.ContentHash);
        Assert.Equal("print('v2')\n", File.ReadAllText(Path.Combine(second.RootfsPath, "opt/nexus/runtime/nexus_runtime/__main__.py")));
        Assert.Equal("print('runtime')\n", File.ReadAllText(Path.Combine(first.RootfsPath, "opt/nexus/runtime/nexus_runtime/__main__.py")));

        var listed = Builder().ListCached();
        Assert.Equal(3, listed.Count);
        Assert.Single(listed, i => i.Kind == CachedImageKind.Image && i.IsCurrent && i.ContentHash == second.ContentHash);
        Assert.Single(listed, i => i.Kind == CachedImageKind.Image && !i.IsCurrent && i.ContentHash == first.ContentHash);
        Assert.Single(listed, i => i.Kind == CachedImageKind.Base && i.IsCurrent);
    }

    [Fact]
    public async Task PruneKeepsOnlyWhatTheCurrentInputsUse()
    {
        var old = await Builder().EnsureAsync(null, CancellationToken.None);
        _runtime.Write("nexus_runtime/__main__.py", "print('v2')\n");
        var current = await Builder().EnsureAsync(null, CancellationToken.None);

        var removed = await Builder().PruneAsync(CancellationToken.None);

        Assert.Equal(old.ContentHash, Assert.Single(removed).ContentHash);
        Assert.False(Directory.Exists(old.RootfsPath));
        Assert.True(File.Exists(Path.Combine(current.RootfsPath, "etc/os-release")));
        Assert.Equal(2, Builder().ListCached().Count(e => e.IsCurrent));
        Assert.Empty(await Builder().PruneAsync(CancellationToken.None));
    }

    [Fact]
    public async Task PruneWithoutRuntimeFilesRemovesNothing()
    {
        var image = await Builder().EnsureAsync(null, CancellationToken.None);
        var noRuntime = new ImageBuilder(
            new ImageOptions { CacheDirectory = _cache.Path, RuntimeSourceDirectory = _outside.Path, Mirror = "http://deb.example/debian" },
            FakeDebootstrapAsync,
            () => null,
            _cache.Path);

        await Assert.ThrowsAsync<ImageBuildException>(() => noRuntime.PruneAsync(CancellationToken.None));
        Assert.True(Directory.Exists(image.RootfsPath));
        Assert.Equal(2, noRuntime.ListCached().Count);
    }

    [Fact]
    public async Task AFailedBuildLeavesNothingAndTheNextBuildWorks()
    {
        var failing = Builder((rootfs, _, _, _) =>
        {
            File.WriteAllText(Path.Combine(rootfs, "half-written"), "x");
            throw new ImageBuildException("debootstrap failed (exit 1)");
        });

        await Assert.ThrowsAsync<ImageBuildException>(() => failing.EnsureAsync(null, CancellationToken.None));
        Assert.False(Directory.Exists(Path.Combine(_cache.Path, "base")) && Directory.EnumerateFileSystemEntries(Path.Combine(_cache.Path, "base")).Any());
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_cache.Path, "tmp")));
        Assert.Null(Builder().TryGetCached());

        var image = await Builder().EnsureAsync(null, CancellationToken.None);
        Assert.True(File.Exists(Path.Combine(image.RootfsPath, "etc/os-release")));
        Assert.False(File.Exists(Path.Combine(image.RootfsPath, "half-written")));
    }

    [Fact]
    public async Task ACancelledBuildIsNotPublished()
    {
        using var cts = new CancellationTokenSource();
        var cancelling = Builder(async (rootfs, _, _, ct) =>
        {
            File.WriteAllText(Path.Combine(rootfs, "partial"), "x");
            await cts.CancelAsync();
            ct.ThrowIfCancellationRequested();
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelling.EnsureAsync(null, cts.Token));
        Assert.Null(Builder().TryGetCached());
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_cache.Path, "tmp")));
    }

    [Fact]
    public async Task LeftoversOfAKilledBuildAreRemovedByTheNextBuild()
    {
        var leftover = _cache.Combine("tmp", "base-0123456789ab-deadbeef", "rootfs");
        Directory.CreateDirectory(leftover);
        File.WriteAllText(Path.Combine(leftover, "x"), "x");

        await Builder().EnsureAsync(null, CancellationToken.None);

        Assert.False(Directory.Exists(leftover));
    }

    [Fact]
    public async Task TwoConcurrentEnsuresBuildOnce()
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var slow = Builder(async (rootfs, mirror, progress, ct) =>
        {
            entered.TrySetResult();
            await release.Task.WaitAsync(ct);
            await FakeDebootstrapAsync(rootfs, mirror, progress, ct);
        });

        var first = slow.EnsureAsync(null, CancellationToken.None);
        await entered.Task;

        var waiting = new WaitingRecorder(release);
        var second = Builder().EnsureAsync(waiting, CancellationToken.None);

        var images = await Task.WhenAll(first, second);
        Assert.Equal(images[0], images[1]);
        Assert.Equal(1, _bootstraps);
        Assert.Contains(waiting.Lines, l => l.Contains("built by another process", StringComparison.Ordinal));
    }

    [Fact]
    public void TheLockIsExclusiveUntilReleased()
    {
        var path = _cache.Combine("lock");
        using (var held = CacheLock.TryAcquire(path))
        {
            Assert.NotNull(held);
            Assert.Null(CacheLock.TryAcquire(path));
        }

        using var again = CacheLock.TryAcquire(path);
        Assert.NotNull(again);
    }

    [Fact]
    public void ARelativeCacheDirectoryIsRejected()
    {
        var e = Assert.Throws<ImageBuildException>(() => new ImageBuilder(new ImageOptions { CacheDirectory = "cache" }));
        Assert.Contains("'cache'", e.Message, StringComparison.Ordinal);
    }

    private ImageBuilder Builder(ImageBuilder.Bootstrap? bootstrap = null) =>
        new(
            new ImageOptions { CacheDirectory = _cache.Path, RuntimeSourceDirectory = _runtime.Path, Mirror = "http://deb.example/debian" },
            bootstrap ?? FakeDebootstrapAsync,
            () => null,
            _cache.Path);

    /// <summary>A tiny Debian-like tree, with absolute links that lead out of it (into <see cref="_outside"/>).</summary>
    private Task FakeDebootstrapAsync(string rootfs, string mirror, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _bootstraps);
        Assert.Equal("http://deb.example/debian", mirror);
        void Write(string relative, string content)
        {
            var path = Path.Combine(rootfs, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, content);
        }

        Write("etc/os-release", "ID=debian\n");
        Write("usr/share/doc/pkg/changelog.gz", "log");
        Write("usr/share/doc/pkg/copyright", "MIT");
        Write("usr/share/man/man1/x.1.gz", "man");
        Write("var/lib/apt/lists/deb_Packages", "index");
        Write("var/log/dpkg.log", "log");

        File.WriteAllText(_outside.Combine("victim"), "host file");
        File.WriteAllText(_outside.Combine("changelog.gz"), "host file");
        File.WriteAllText(_outside.Combine("resolv.conf"), "host resolver\n");
        Directory.CreateSymbolicLink(Path.Combine(rootfs, "usr/share/doc/hostdocs"), _outside.Path);
        Directory.CreateSymbolicLink(Path.Combine(rootfs, "var/log/journal"), _outside.Path);
        File.CreateSymbolicLink(Path.Combine(rootfs, "etc/resolv.conf"), _outside.Combine("resolv.conf"));
        progress?.Report("Base system installed successfully.");
        return Task.CompletedTask;
    }

    /// <summary>Releases the first build once the second reports that it waits for the lock.</summary>
    private sealed class WaitingRecorder(TaskCompletionSource release) : IProgress<string>
    {
        private readonly LineRecorder _lines = new();

        public IReadOnlyList<string> Lines => _lines.Lines;

        public void Report(string value)
        {
            _lines.Report(value);
            if (value.StartsWith("waiting for another image build", StringComparison.Ordinal))
            {
                release.TrySetResult();
            }
        }
    }
}
