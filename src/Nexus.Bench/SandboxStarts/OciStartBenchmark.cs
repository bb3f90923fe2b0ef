// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using Nexus.Sandbox;
using Nexus.Sandbox.Oci;

namespace Nexus.Bench.SandboxStarts;

/// <summary>The oci driver's cold-start figures for one network setting, in milliseconds.</summary>
public sealed record OciStartResult(SandboxNetwork Network, Percentiles StartReturned, Percentiles FirstLine, Percentiles Teardown);

/// <summary>
/// The oci driver alone (runc, no node): from the <c>StartAsync</c> call to the sandbox's first output line, when
/// <c>StartAsync</c> returned, and the teardown, for a sandbox without and with the veth network. The sandbox runs
/// <c>/bin/sh -c "echo ready; exec sleep 600"</c> in the given rootfs (the function image's by default), so the figure is
/// the driver and runc, not a runtime's start.
/// </summary>
public static class OciStartBenchmark
{
    public static async Task<IReadOnlyList<OciStartResult>> RunAsync(string rootfs, int runs, Action<string> log, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(runs, 1);
        var prefix = "b" + Guid.NewGuid().ToString("N")[..6] + "-";
        var driver = new OciSandboxDriver(new OciDriverOptions { InstancePrefix = prefix });
        await driver.PrepareHostAsync(cancellationToken);
        try
        {
            List<OciStartResult> results = [];
            foreach (var network in new[] { SandboxNetwork.LoopbackOnly, SandboxNetwork.Veth })
            {
                results.Add(await RunNetworkAsync(driver, rootfs, prefix, network, runs, log, cancellationToken));
            }

            return results;
        }
        finally
        {
            await driver.ReleaseHostAsync();
        }
    }

    private static async Task<OciStartResult> RunNetworkAsync(OciSandboxDriver driver, string rootfs, string prefix, SandboxNetwork network, int runs, Action<string> log, CancellationToken cancellationToken)
    {
        List<double> started = [], firstLine = [], teardown = [];

        // One more start than measured: the first warms the JIT and the page cache.
        for (var i = 0; i <= runs; i++)
        {
            var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var spec = new SandboxSpec
            {
                InstanceId = $"{prefix}start-{network.ToString().ToLowerInvariant()}-{i}",
                RootfsPath = rootfs,
                Command = ["/bin/sh", "-c", "echo ready; exec sleep 600"],
                Network = network,
                OnOutput = (text, _) =>
                {
                    if (text == "ready")
                    {
                        ready.TrySetResult();
                    }
                },
            };

            var clock = Stopwatch.StartNew();
            var instance = await driver.StartAsync(spec, cancellationToken);
            var startReturned = clock.Elapsed.TotalMilliseconds;
            try
            {
                await ready.Task.WaitAsync(TimeSpan.FromMinutes(1), cancellationToken);
            }
            catch (TimeoutException)
            {
                await instance.DisposeAsync();
                throw new InvalidOperationException($"sandbox {spec.InstanceId} ({network}) printed no 'ready' line within a minute: is {rootfs} a rootfs with /bin/sh?");
            }

            var firstLineAt = clock.Elapsed.TotalMilliseconds;
            clock.Restart();
            await instance.DisposeAsync();
            var stopped = clock.Elapsed.TotalMilliseconds;
            if (i > 0)
            {
                started.Add(startReturned);
                firstLine.Add(firstLineAt);
                teardown.Add(stopped);
            }
        }

        log($"{network}: {runs} starts measured");
        return new OciStartResult(network, Percentiles.Of(started), Percentiles.Of(firstLine), Percentiles.Of(teardown));
    }
}
