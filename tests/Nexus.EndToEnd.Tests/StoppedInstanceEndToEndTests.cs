// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Text;
using Nexus.Node;
using Nexus.Testing;

namespace Nexus.EndToEnd.Tests;

/// <summary>An idle instance stopped or frozen from outside (SIGSTOP, a debugger, <c>runc pause</c>) is replaced when work comes, on a real node with runc.</summary>
public sealed class StoppedInstanceEndToEndTests
{
    /// <summary>
    /// Guards the pool's check of an instance idle for a while before it is handed an invocation
    /// (<c>ISandboxInstance.IsStopped</c>): the warm instance's processes are stopped with SIGSTOP, and the next call is
    /// served by a new instance instead of waiting out its 5 s timeout on the frozen one (found by a chaos review).
    /// </summary>
    [RootFact]
    public Task An_idle_instance_stopped_with_sigstop_is_replaced_not_waited_on() =>
        ReplacedAfterAsync("stopped", async processes =>
        {
            using var kill = System.Diagnostics.Process.Start("kill", ["-STOP", .. processes.Select(p => p.ToString(CultureInfo.InvariantCulture))]);
            await kill.WaitForExitAsync();
            Assert.Equal(0, kill.ExitCode);
        });

    /// <summary>
    /// Guards the same check's look at the cgroup freezer (<c>ProcessFiles.IsStoppedOrFrozen</c>): the warm instance's
    /// freezer cgroup is frozen, as <c>runc pause</c> does on cgroup v1 (its tasks then show D, not T), and the next call
    /// is served by a new instance; the frozen one is stopped, not left behind.
    /// </summary>
    [RootFact]
    public Task An_idle_instance_frozen_in_its_cgroup_is_replaced_not_waited_on() =>
        ReplacedAfterAsync("frozen", processes =>
        {
            var freezer = File.ReadAllLines($"/proc/{processes[0]}/cgroup").Select(l => l.Split(':', 3)).Single(f => f[1] == "freezer")[2];
            File.WriteAllText(Path.Combine("/sys/fs/cgroup/freezer", freezer.TrimStart('/'), "freezer.state"), "FROZEN");
            return Task.CompletedTask;
        });

    private static async Task ReplacedAfterAsync(string name, Func<List<int>, Task> halt)
    {
        var home = Directory.CreateTempSubdirectory($"nexus-e2e-{name}-").FullName;
        try
        {
            await using var node = await NexusNode.StartAsync(NodeFixture.Options(home));
            var function = await NodeFixture.DeployAsync(node, $"name: {name}\nhandler: handler.handler\nio: baseline\ntimeout: 5\n", "def handler(event, context):\n    return 'ok'\n");
            var first = await node.InvokeAsync(function, "{}"u8.ToArray(), "first", CancellationToken.None);
            Assert.Equal("success", first.Outcome);

            var halted = ProcessesOf(first.InstanceId);
            Assert.NotEmpty(halted);
            await halt(halted);

            await Task.Delay(s_poolIdleCheck + TimeSpan.FromMilliseconds(300));
            var second = await node.InvokeAsync(function, "{}"u8.ToArray(), "second", CancellationToken.None);
            Assert.True(second.Outcome == "success", Encoding.UTF8.GetString(second.Result.Payload.Span));
            Assert.NotEqual(first.InstanceId, second.InstanceId);
            Assert.True(second.ColdStart);
            Assert.True(second.Duration < TimeSpan.FromSeconds(5), $"served after {second.Duration.TotalSeconds:0.0} s");

            // The halted instance is stopped, not left holding memory: its processes are gone within a few seconds.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (halted.Any(p => Directory.Exists($"/proc/{p}")) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }

            Assert.DoesNotContain(halted, p => Directory.Exists($"/proc/{p}"));
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
