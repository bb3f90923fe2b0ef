// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.IO.Compression;
using System.Text;

namespace Nexus.Node.Tests;

/// <summary>Function packages (the zip a deploy uploads) made from file texts.</summary>
internal static class FunctionPackages
{
    public static byte[] Zip(params (string Path, string Text)[] files)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (path, text) in files)
            {
                using var entry = zip.CreateEntry(path).Open();
                entry.Write(Encoding.UTF8.GetBytes(text));
            }
        }

        return buffer.ToArray();
    }
}
