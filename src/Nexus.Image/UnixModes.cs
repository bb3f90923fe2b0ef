// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Image;

/// <summary>
/// File modes in the image. Images exist only on Linux; the guard keeps the platform analyzer from marking
/// the whole public API (and so every caller) Linux-only.
/// </summary>
internal static class UnixModes
{
    public const UnixFileMode Directory = (UnixFileMode)0b111_101_101;

    public const UnixFileMode File = (UnixFileMode)0b110_100_100;

    public const UnixFileMode StickyWorldWritable = (UnixFileMode)0b1_111_111_111;

    public static void Set(string path, UnixFileMode mode)
    {
        if (!OperatingSystem.IsWindows())
        {
            System.IO.File.SetUnixFileMode(path, mode);
        }
    }
}
