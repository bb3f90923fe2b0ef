// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Bench.Vmm;
using Nexus.Testing;

namespace Nexus.Bench.Tests;

/// <summary>`nexus vmm bench`'s process-overhead figure, measured on the real one-VM <c>nexus-vmm</c> process.</summary>
public sealed class VmmBenchTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nexus-vmm-bench-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>src/Nexus.Vmm.Host/bin/&lt;this configuration&gt;/net10.0/nexus-vmm.dll.</summary>
    private static string HostDll
    {
        get
        {
            var bin = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory))!;
            return Path.Combine(HostRequirements.RepoRoot, "src", "Nexus.Vmm.Host", "bin", Path.GetFileName(bin), "net10.0", "nexus-vmm.dll");
        }
    }

    [KvmFact]
    public void ProcessOverheadExcludesGuestRam()
    {
        // The bench guest touches 64 MiB of its 128: a measurement that counted guest RAM would exceed that.
        var figure = Assert.Single(ProcessOverhead.Measure([new VmmProcess("nexus-vmm, JIT", "dotnet", [HostDll])], BenchGuest.Write(_dir), 128, _ => { }));
        Assert.InRange(figure.Value, 0.5, 60);
        Assert.Contains("RSS", figure.Note, StringComparison.Ordinal);
    }
}
