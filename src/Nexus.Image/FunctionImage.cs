// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Image;

/// <summary>
/// A complete, immutable function image: a Debian rootfs with the runtime and frontend in /opt/nexus.
/// Sandboxes mount it read-only; nothing may write into it (its files are hard links shared with the base rootfs).
/// </summary>
public sealed record FunctionImage(string RootfsPath, string ContentHash);

/// <summary>What a cache entry is.</summary>
public enum CachedImageKind
{
    /// <summary>A debootstrap rootfs, the input of function images.</summary>
    Base,

    /// <summary>A function image (base + runtime files).</summary>
    Image,
}

/// <summary>One complete entry of the image cache, as <c>nexus image ls</c> shows it.</summary>
public sealed record CachedImage(CachedImageKind Kind, string ContentHash, string RootfsPath, DateTimeOffset Created, long SizeBytes, bool IsCurrent);
