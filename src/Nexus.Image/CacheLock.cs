// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Image;

/// <summary>
/// An exclusive lock on the image cache, so two processes (or two callers in one process) never build at once.
/// It is an advisory flock on a lock file (.NET takes one for FileShare.None on Unix): the kernel drops it
/// when the holder dies, so a crashed build never leaves the cache locked.
/// </summary>
internal sealed class CacheLock : IDisposable
{
    private static readonly TimeSpan s_pollInterval = TimeSpan.FromMilliseconds(200);

    private readonly FileStream _stream;

    private CacheLock(FileStream stream)
    {
        _stream = stream;
    }

    public static async Task<CacheLock> AcquireAsync(string path, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var told = false;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (TryAcquire(path) is { } acquired)
            {
                return acquired;
            }

            if (!told)
            {
                progress?.Report($"waiting for another image build to finish (lock {path})");
                told = true;
            }

            await Task.Delay(s_pollInterval, cancellationToken);
        }
    }

    /// <summary>The lock, or null when another holder has it.</summary>
    public static CacheLock? TryAcquire(string path)
    {
        try
        {
            return new CacheLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException and not PathTooLongException
            && File.Exists(path))
        {
            // The file is there and could not be locked: someone holds it.
            return null;
        }
    }

    public void Dispose() => _stream.Dispose();
}
