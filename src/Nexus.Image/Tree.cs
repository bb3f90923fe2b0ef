// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Image;

/// <summary>
/// Walks a rootfs without ever following a symbolic link. A Debian tree is full of them (/lib -> usr/lib), and an
/// absolute one seen from the host points into the host's own files, which a build must never read or delete.
/// </summary>
internal static class Tree
{
    private static readonly EnumerationOptions s_oneLevel = new() { RecurseSubdirectories = false, AttributesToSkip = 0, IgnoreInaccessible = false };

    /// <summary>Every entry below <paramref name="root"/>, children before their folder; links are entries, never descended into.</summary>
    public static IEnumerable<FileSystemInfo> PostOrder(string root)
    {
        var dir = new DirectoryInfo(root);
        if (!dir.Exists || dir.LinkTarget is not null)
        {
            yield break;
        }

        foreach (var entry in dir.EnumerateFileSystemInfos("*", s_oneLevel))
        {
            if (entry is DirectoryInfo sub && sub.LinkTarget is null)
            {
                foreach (var inner in PostOrder(sub.FullName))
                {
                    yield return inner;
                }
            }

            yield return entry;
        }
    }

    /// <summary>Deletes what is below <paramref name="root"/> (folders too when <paramref name="folders"/>) whose name <paramref name="delete"/> picks.</summary>
    public static void Delete(string root, Func<string, bool> delete, bool folders)
    {
        foreach (var entry in PostOrder(root).ToList())
        {
            if (entry is DirectoryInfo dir && dir.LinkTarget is null)
            {
                if (folders && delete(entry.Name))
                {
                    dir.Delete(recursive: false);
                }
            }
            else if (delete(entry.Name))
            {
                // A link is removed itself (unlink), whatever it points to.
                File.Delete(entry.FullName);
            }
        }
    }

    /// <summary>Apparent size of the regular files below <paramref name="root"/> (a hard-linked file counts at each of its paths).</summary>
    public static long Size(string root) =>
        PostOrder(root).OfType<FileInfo>().Where(f => f.LinkTarget is null).Sum(f => f.Length);
}
