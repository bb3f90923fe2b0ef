// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using Nexus.Node;
using Nexus.Sandbox.Oci;
using Nexus.Testing;

namespace Nexus.EndToEnd.Tests;

public sealed class RestartAndCleanupTests
{
    [RootFact]
    public async Task RestartKeepsFunctionsAndShutdownLeavesNothingBehind()
    {
        var home = Directory.CreateTempSubdirectory("nexus-e2e-restart-").FullName;
        try
        {
            string instanceId;
            var cpuOrigin = NodeCpuGroup.OwnCpuCgroup();
            await using (var node = await NexusNode.StartAsync(NodeFixture.Options(home)))
            {
                var dir = Directory.CreateTempSubdirectory("nexus-fn-").FullName;
                await File.WriteAllTextAsync(Path.Combine(dir, "function.yaml"), "name: e2e-keep\nhandler: handler.handler\nio: baseline\n");
                await File.WriteAllTextAsync(Path.Combine(dir, "handler.py"), "def handler(event, context):\n    return 'kept'\n");
                var function = await node.DeployAsync(new MemoryStream(NodeFixture.Zip(dir)), CancellationToken.None);
                Directory.Delete(dir, recursive: true);
                var outcome = await node.InvokeAsync(function, "{}"u8.ToArray(), "r1", CancellationToken.None);
                Assert.Equal("success", outcome.Outcome);
                instanceId = outcome.InstanceId;
                Assert.Contains(instanceId, await RunAsync("runc", "--root", "/run/nexus/runc", "list"), StringComparison.Ordinal);

                // A second node (another home) refuses before it touches the host: it cleared the first one's sandboxes,
                // and its failed start removed the service link and the firewall table under it (an operator's review).
                var other = Directory.CreateTempSubdirectory("nexus-e2e-other-").FullName;
                try
                {
                    var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => NexusNode.StartAsync(NodeFixture.Options(other)));
                    Assert.Contains($"another Nexus node runs on this host (pid {Environment.ProcessId}, home {home})", refused.Message, StringComparison.Ordinal);
                }
                finally
                {
                    Directory.Delete(other, recursive: true);
                }

                Assert.True(Directory.Exists("/sys/class/net/nexus0"), "the second node removed the service link");
                Assert.Contains("table inet nexus\n", await RunAsync("nft", "list", "tables") + "\n", StringComparison.Ordinal);
                var warm = await node.InvokeAsync(function, "{}"u8.ToArray(), "r1b", CancellationToken.None);
                Assert.Equal((instanceId, false), (warm.InstanceId, warm.ColdStart));
            }

            // Nothing of the instance is left: container, network namespace, cgroups.
            Assert.DoesNotContain(instanceId, await RunAsync("runc", "--root", "/run/nexus/runc", "list"), StringComparison.Ordinal);
            Assert.DoesNotContain(instanceId, await RunAsync("ip", "netns", "list"), StringComparison.Ordinal);
            foreach (var controller in new[] { "memory", "cpu", "pids" })
            {
                Assert.False(Directory.Exists($"/sys/fs/cgroup/{controller}/nexus/{instanceId}"), $"{controller} cgroup of {instanceId} left behind");
            }

            // The process is back in the cpu cgroup it started in, and the node's group is gone (docs/node.md#cpu).
            Assert.Equal(cpuOrigin, NodeCpuGroup.OwnCpuCgroup());
            Assert.False(Directory.Exists(Path.Combine("/sys/fs/cgroup/cpu", NodeCpuGroup.DefaultName)), "the node's cpu cgroup was left behind");

            // Nor of the node's host network: the service link and the sandbox firewall table go with it.
            Assert.False(Directory.Exists("/sys/class/net/nexus0"), "the service link nexus0 was left behind");
            Assert.DoesNotContain("table inet nexus\n", await RunAsync("nft", "list", "tables") + "\n", StringComparison.Ordinal);

            await using (var node = await NexusNode.StartAsync(NodeFixture.Options(home)))
            {
                Assert.True(node.TryGetFunction("e2e-keep", out var kept));
                var outcome = await node.InvokeAsync(kept, "{}"u8.ToArray(), "r2", CancellationToken.None);
                Assert.Equal("\"kept\"", System.Text.Encoding.UTF8.GetString(outcome.Result.Payload.Span));
            }
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    private static async Task<string> RunAsync(string tool, params string[] args)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return output;
    }
}
