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

    [KvmFact]
    public void ProcessOverheadExcludesGuestRam()
    {
        // The bench guest touches 64 MiB of its 128: a measurement that counted guest RAM would exceed that.
        var figure = Assert.Single(ProcessOverhead.Measure([new VmmProcess("nexus-vmm, JIT", "dotnet", [HostRequirements.VmmHostDll])], BenchGuest.Write(_dir), 128, _ => { }));
        Assert.InRange(figure.Value, 0.5, 60);
        Assert.Contains("RSS", figure.Note, StringComparison.Ordinal);
    }
}
