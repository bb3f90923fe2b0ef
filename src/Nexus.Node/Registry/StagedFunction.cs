// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Node.Registry;

/// <summary>A package unpacked and checked in a staging folder, not yet installed (<see cref="FunctionRegistry.Stage"/>); disposing it deletes that folder unless it was installed.</summary>
public sealed class StagedFunction : IDisposable
{
    internal StagedFunction(string directory, Nexus.Functions.FunctionManifest manifest)
    {
        Directory = directory;
        Manifest = manifest;
    }

    internal string Directory { get; }

    public Nexus.Functions.FunctionManifest Manifest { get; }

    public string Name => Manifest.Name;

    public void Dispose()
    {
        try
        {
            if (System.IO.Directory.Exists(Directory))
            {
                System.IO.Directory.Delete(Directory, recursive: true);
            }
        }
        catch (IOException)
        {
            // A staging folder left behind is removed by the next Load.
        }
    }
}
