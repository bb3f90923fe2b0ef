// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Interop;

namespace Nexus.Sandbox.Microvm;

/// <summary>Finds the one-VM VMM executable (src/Nexus.Vmm.Host) that scripts/setup builds in this checkout.</summary>
public static class VmmExecutable
{
    /// <summary>The NativeAOT build (<c>dotnet publish -r linux-x64</c>), relative to the host project's output folder.</summary>
    public const string NativeAotPath = "linux-x64/publish/nexus-vmm";

    /// <summary>
    /// The VMM command: the NativeAOT <c>nexus-vmm</c> when it was published, else <c>dotnet nexus-vmm.dll</c> (the JIT
    /// build), from <c>src/Nexus.Vmm.Host/bin/&lt;configuration&gt;/net10.0</c> of the checkout this program runs from.
    /// </summary>
    public static IReadOnlyList<string> Locate()
    {
        var bin = HostOutputFolder()
            ?? throw new FileNotFoundException($"nexus-vmm not found: no src/Nexus.Vmm.Host/bin/*/net10.0 above {AppContext.BaseDirectory} (run scripts/setup, or set the VMM command)");
        var aot = Path.Combine(bin, NativeAotPath);
        if (File.Exists(aot))
        {
            return [aot];
        }

        var dll = Path.Combine(bin, "nexus-vmm.dll");
        return File.Exists(dll)
            ? [HostTool.Resolve("dotnet", "the .NET runtime for the JIT build of nexus-vmm"), dll]
            : throw new FileNotFoundException($"nexus-vmm not found in {bin} (dotnet build src/Nexus.Vmm.Host -c Release)");
    }

    /// <summary>The host project's output folder for this program's configuration (Release or Debug), walking up from here.</summary>
    public static string? HostOutputFolder()
    {
        var configuration = Path.GetFileName(Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory))) ?? "Release";
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            foreach (var candidate in new[] { configuration, "Release" }.Distinct())
            {
                var bin = Path.Combine(dir.FullName, "src", "Nexus.Vmm.Host", "bin", candidate, "net10.0");
                if (Directory.Exists(bin))
                {
                    return bin;
                }
            }
        }

        return null;
    }
}
