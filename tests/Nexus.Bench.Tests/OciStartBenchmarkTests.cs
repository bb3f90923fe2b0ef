// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Bench.SandboxStarts;
using Nexus.Sandbox;
using Nexus.Testing;

namespace Nexus.Bench.Tests;

/// <summary>
/// <c>nexus bench oci-start</c> on a busybox rootfs, briefly (two starts per setting): both network settings run, every
/// measured start printed its line and was torn down. No timing is asserted beyond order.
/// </summary>
[Collection(RealNodeCollection.Name)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class OciStartBenchmarkTests
{
    [RootFact(runc: true)]
    public async Task Both_network_settings_report_starts_first_lines_and_teardowns()
    {
        using var rootfs = new BusyboxRootfs();
        var results = await OciStartBenchmark.RunAsync(rootfs.Path, runs: 2, _ => { }, CancellationToken.None);

        Assert.Equal([SandboxNetwork.LoopbackOnly, SandboxNetwork.Veth], results.Select(r => r.Network));
        foreach (var r in results)
        {
            Assert.Equal(2, r.FirstLine.Count);
            Assert.Equal(2, r.Teardown.Count);
            Assert.True(r.StartReturned.Min > 0 && r.FirstLine.Min >= r.StartReturned.Min && r.Teardown.Min > 0, r.ToString());
        }
    }
}
