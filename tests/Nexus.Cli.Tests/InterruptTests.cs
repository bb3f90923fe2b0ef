// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Nexus.Testing;

namespace Nexus.Cli.Tests;

/// <summary>Ctrl+C in the middle of a long command: it stops its sandboxes, says what it kept, and exits without a trace.</summary>
public sealed partial class InterruptTests
{
    [RootFact]
    public async Task CtrlCDuringADensityReplayStopsCleanly()
    {
        var output = Directory.CreateTempSubdirectory("nexus-cli-interrupt-").FullName;
        try
        {
            var results = Path.Combine(output, "results.json");
            using var process = Process.Start(NexusCli.Start(
            [
                "bench", "density", "--workloads", "hello-s3", "--functions", "2", "--minutes", "2", "--seconds-per-minute", "60",
                "--max-probes", "1", "--examples", Path.Combine(HostRequirements.RepoRoot, "examples"), "--out", results,
            ]))!;
            process.StandardInput.Close();
            var stdout = new StringBuilder();
            var replaying = new TaskCompletionSource();
            process.OutputDataReceived += (_, e) =>
            {
                lock (stdout)
                {
                    stdout.AppendLine(e.Data);
                }

                if (e.Data?.Contains("level 1x:", StringComparison.Ordinal) == true)
                {
                    replaying.TrySetResult();
                }
            };
            process.BeginOutputReadLine();
            var stderr = process.StandardError.ReadToEndAsync();

            // The plan is said before anything starts; then the unloaded runs; then the replay we interrupt.
            await Task.WhenAny(replaying.Task, process.WaitForExitAsync(), Task.Delay(TimeSpan.FromMinutes(4)));
            Assert.True(replaying.Task.IsCompleted, $"the replay did not start:\n{stdout}\n{(process.HasExited ? await stderr : "")}");
            await Task.Delay(TimeSpan.FromSeconds(3));
            Assert.True(Nexus.Interop.ChildProcess.Kill(process.Id, 2), "could not send SIGINT");

            await Task.WhenAny(process.WaitForExitAsync(), Task.Delay(TimeSpan.FromMinutes(2)));
            Assert.True(process.HasExited, "the benchmark did not stop within 2 minutes of Ctrl+C");
            var errors = await stderr;
            Assert.Equal(130, process.ExitCode);
            Assert.Contains("plan: 2 trace functions × 2 minute(s) at 60 s per minute = 2 min per load level", stdout.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain("Exception", errors, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", errors, StringComparison.Ordinal);
            Assert.Contains("nexus: stopped by Ctrl+C", errors, StringComparison.Ordinal);
            var said = InterruptedLine().Match(errors);
            Assert.True(said.Success, errors);
            Assert.False(Directory.Exists(said.Groups["home"].Value), $"the benchmark's node home {said.Groups["home"].Value} was kept");
            Assert.False(File.Exists(results));

            // Nothing of its sandboxes or its host network is left.
            var (_, containers, _) = await Processes.RunAsync("runc", ["--root", "/run/nexus/runc", "list", "-q"]);
            Assert.DoesNotContain(containers.Split('\n', StringSplitOptions.RemoveEmptyEntries), id => id.StartsWith("nx", StringComparison.Ordinal));
            Assert.False(Directory.Exists("/sys/class/net/nexus0"), "the service link nexus0 was left behind");
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    [GeneratedRegex("nexus: bench density interrupted: its node and every sandbox it started are stopped, its node home (?<home>\\S+) is removed; no results were written")]
    private static partial Regex InterruptedLine();
}
