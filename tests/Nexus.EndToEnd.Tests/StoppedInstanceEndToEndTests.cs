// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text;
using Nexus.Node;
using Nexus.Testing;

namespace Nexus.EndToEnd.Tests;

/// <summary>An idle instance stopped from outside (SIGSTOP, a debugger) is replaced when work comes, on a real node with runc.</summary>
public sealed class StoppedInstanceEndToEndTests
{
    /// <summary>
    /// Guards the pool's check of an instance idle for a while before it is handed an invocation
    /// (<c>ISandboxInstance.IsStopped</c>): the warm instance's processes are stopped with SIGSTOP, and the next call is
    /// served by a new instance instead of waiting out its 5 s timeout on the frozen one (found by a chaos review).
    /// </summary>
    [RootFact]
    public async Task An_idle_instance_stopped_with_sigstop_is_replaced_not_waited_on()
    {
        var home = Directory.CreateTempSubdirectory("nexus-e2e-stopped-").FullName;
        try
        {
            await using var node = await NexusNode.StartAsync(NodeFixture.Options(home));
            var function = await NodeFixture.DeployAsync(node, "name: frozen\nhandler: handler.handler\nio: baseline\ntimeout: 5\n", "def handler(event, context):\n    return 'ok'\n");
            var first = await node.InvokeAsync(function, "{}"u8.ToArray(), "first", CancellationToken.None);
            Assert.Equal("success", first.Outcome);

            var stopped = ProcessesOf(first.InstanceId);
            Assert.NotEmpty(stopped);
            using (var kill = System.Diagnostics.Process.Start("kill", ["-STOP", .. stopped.Select(p => p.ToString(System.Globalization.CultureInfo.InvariantCulture))]))
            {
                await kill.WaitForExitAsync();
                Assert.Equal(0, kill.ExitCode);
            }

            await Task.Delay(s_poolIdleCheck + TimeSpan.FromMilliseconds(300));
            var second = await node.InvokeAsync(function, "{}"u8.ToArray(), "second", CancellationToken.None);
            Assert.True(second.Outcome == "success", Encoding.UTF8.GetString(second.Result.Payload.Span));
            Assert.NotEqual(first.InstanceId, second.InstanceId);
            Assert.True(second.ColdStart);
            Assert.True(second.Duration < TimeSpan.FromSeconds(5), $"served after {second.Duration.TotalSeconds:0.0} s");
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    private static readonly TimeSpan s_poolIdleCheck = TimeSpan.FromSeconds(1);

    /// <summary>The host pids of an instance's processes: those whose environment names it as their log stream.</summary>
    private static List<int> ProcessesOf(string instanceId)
    {
        var marker = Encoding.ASCII.GetBytes("AWS_LAMBDA_LOG_STREAM_NAME=" + instanceId + "\0");
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var pid))
            {
                try
                {
                    if (File.ReadAllBytes(Path.Combine(dir, "environ")).AsSpan().IndexOf(marker) >= 0)
                    {
                        found.Add(pid);
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                }
            }
        }

        return found;
    }
}
