// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.IO.Compression;
using Nexus.Functions;
using YamlDotNet.RepresentationModel;

namespace Nexus.Bench;

/// <summary>
/// One function folder deployed under another name and I/O mode: the same handler code and the same
/// grants, so the two modes of a comparison differ only in where the fabric runs.
/// </summary>
public static class FunctionVariant
{
    /// <summary>Zips <paramref name="folder"/> with its function.yaml's <c>name</c> and <c>io</c> replaced.</summary>
    public static MemoryStream Package(string folder, string name, IoMode io) => Package(folder, name, io, null, null);

    /// <summary>As <see cref="Package(string, string, IoMode)"/>, also setting <c>writeback</c>, <c>prefetch</c> and <c>sandbox</c> when given.</summary>
    public static MemoryStream Package(string folder, string name, IoMode io, WriteBackMode? writeBack, bool? prefetch, string? sandbox = null)
    {
        var manifestPath = Path.Combine(folder, "function.yaml");
        var yaml = new YamlStream();
        using (var reader = new StreamReader(manifestPath))
        {
            yaml.Load(reader);
        }

        if (yaml.Documents.Count != 1 || yaml.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new InvalidDataException($"{manifestPath}: expected one YAML mapping");
        }

        root.Children[new YamlScalarNode("name")] = new YamlScalarNode(name);
        root.Children[new YamlScalarNode("io")] = new YamlScalarNode(io.ToString().ToLowerInvariant());
        if (writeBack is { } mode)
        {
            root.Children[new YamlScalarNode("writeback")] = new YamlScalarNode(mode.ToString().ToLowerInvariant());
        }

        if (sandbox is not null)
        {
            root.Children[new YamlScalarNode("sandbox")] = new YamlScalarNode(sandbox);
        }

        if (prefetch is { } on)
        {
            root.Children[new YamlScalarNode("prefetch")] = new YamlScalarNode(on ? "true" : "false");
        }

        var package = new MemoryStream();
        using (var zip = new ZipArchive(package, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
            {
                var relative = Path.GetRelativePath(folder, file).Replace('\\', '/');
                if (relative.Contains("__pycache__", StringComparison.Ordinal))
                {
                    continue;
                }

                if (relative == "function.yaml")
                {
                    using var writer = new StreamWriter(zip.CreateEntry(relative).Open());
                    yaml.Save(writer, assignAnchors: false);
                }
                else
                {
                    zip.CreateEntryFromFile(file, relative);
                }
            }
        }

        package.Position = 0;
        return package;
    }
}
