// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using System.Globalization;
using Nexus.Cli.Commands;
using Nexus.Testing;

namespace Nexus.Cli.Tests;

/// <summary>
/// `flock /tmp/nexus-integration.lock nexus up` must not leave the node daemon holding the lock: the launcher drops
/// the descriptors the CLI inherited (flock's is not close-on-exec) before it becomes the node.
/// </summary>
public sealed class DaemonStartTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nexus-daemon-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task The_daemon_does_not_keep_a_lock_its_caller_held()
    {
        var lockFile = Path.Combine(_dir, "integration.lock");
        var pidFile = Path.Combine(_dir, "daemon.pid");
        var log = Path.Combine(_dir, "node.log");
        File.WriteAllText(lockFile, "");

        // A stand-in node that outlives its launcher: it records its pid and sleeps.
        var start = NodeCommands.DaemonStart(["/bin/sh", "-c", $"echo $$ >'{pidFile}'; exec sleep 60"], log, _dir);

        // flock runs the launcher holding the lock on an inherited descriptor, as `flock LOCK nexus up` runs the CLI.
        var underLock = new List<string> { lockFile, start.FileName };
        underLock.AddRange(start.ArgumentList);
        var (exitCode, _, stderr) = await Processes.RunAsync("flock", underLock, start.Environment.ToDictionary(e => e.Key, e => e.Value!));
        Assert.True(exitCode == 0, stderr);

        var pid = await WaitForPidAsync(pidFile);
        try
        {
            Assert.True(Directory.Exists($"/proc/{pid}"), "the stand-in node is not running");
            var (free, _, _) = await Processes.RunAsync("flock", ["-n", lockFile, "true"]);
            Assert.True(free == 0, "the daemon still holds the lock its caller took");
        }
        finally
        {
            Process.GetProcessById(pid).Kill();
        }
    }

    private static async Task<int> WaitForPidAsync(string pidFile)
    {
        for (var i = 0; i < 100; i++)
        {
            if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                return pid;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"the stand-in node never wrote {pidFile}");
    }
}
