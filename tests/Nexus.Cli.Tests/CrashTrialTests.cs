// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using Nexus.Testing;

namespace Nexus.Cli.Tests;

/// <summary>
/// A short run of `nexus bench crash`: worker processes (embedded store + write-back journal) killed with SIGKILL at
/// random points while they write, each restart checked; no acknowledged write may be lost.
/// </summary>
public sealed class CrashTrialTests
{
    [Fact]
    public async Task Twenty_sigkill_trials_lose_no_acknowledged_write()
    {
        var directory = Directory.CreateTempSubdirectory("nexus-crash-test-").FullName;
        try
        {
            var (exitCode, stdout, stderr) = await NexusCli.RunAsync(["bench", "crash", "--trials", "20", "--seed", "7", "--dir", directory]);
            Assert.True(exitCode == 0, stdout + stderr);
            var row = stdout.Split('\n')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);

            // trials, sandbox kills, kill points, acknowledged, write-back, store, in flight, aborted, keys, lost
            Assert.Equal("20", row[0]);
            Assert.Equal("6", row[1]);
            Assert.True(int.Parse(row[3], CultureInfo.InvariantCulture) > 0, stdout);
            Assert.True(int.Parse(row[4], CultureInfo.InvariantCulture) > 0, stdout);
            Assert.Equal("0", row[9]);
            Assert.DoesNotContain("violation", stdout, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
