// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Image;

/// <summary>Where the image cache lives, where the runtime files come from, and which Debian mirror to use.</summary>
public sealed record ImageOptions
{
    /// <summary>The default cache: NEXUS_IMAGE_CACHE, else /var/cache/nexus/images.</summary>
    public static string DefaultCacheDirectory =>
        Environment.GetEnvironmentVariable("NEXUS_IMAGE_CACHE") is { Length: > 0 } dir ? dir : "/var/cache/nexus/images";

    /// <summary>Holds base/, images/, tmp/ and the build lock.</summary>
    public string CacheDirectory { get; init; } = DefaultCacheDirectory;

    /// <summary>The repository's runtime/ folder as copied next to the binaries at build time.</summary>
    public string RuntimeSourceDirectory { get; init; } = Path.Combine(AppContext.BaseDirectory, "runtime");

    /// <summary>Debian mirror for debootstrap; null means the host's apt sources, else deb.debian.org.</summary>
    public string? Mirror { get; init; }
}
