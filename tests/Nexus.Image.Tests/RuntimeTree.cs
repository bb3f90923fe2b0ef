// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Image.Tests;

/// <summary>A small runtime/ folder shaped like the repository's: the runtime package, the channel and frontend import roots.</summary>
internal sealed class RuntimeTree : IDisposable
{
    private readonly TempDir _dir = new();

    public string Path => _dir.Path;

    public static RuntimeTree Create()
    {
        var tree = new RuntimeTree();
        tree.Write("nexus_runtime/__init__.py", "");
        tree.Write("nexus_runtime/__main__.py", "print('runtime')\n");
        tree.Write("nexus_channel/nexus_channel/__init__.py", "CHANNEL = 1\n");
        tree.Write("frontend/boto3/__init__.py", "FRONTEND = 1\n");
        return tree;
    }

    public void Write(string relative, string content)
    {
        var path = _dir.Combine(relative.Split('/'));
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    public void Dispose() => _dir.Dispose();
}
