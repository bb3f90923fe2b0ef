// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;

namespace Nexus.Sandbox.Tests;

public sealed class ProcessFilesTests
{
    /// <summary>
    /// The peak RSS (VmHWM, what a microVM's REPORT line says as Max Memory Used) of a real process: at least its RSS now,
    /// it grows by what the process touched, stays there after the process frees it, and is 0 for a process that is gone.
    /// </summary>
    [Fact]
    public async Task PeakRssFollowsWhatAProcessTouchedAndKeepsItsHighWaterMark()
    {
        // python3 touches 64 MiB, frees it, and waits for a line on stdin between each step.
        var start = new ProcessStartInfo("python3", ["-c", "import sys\nsys.stdout.write('ready\\n'); sys.stdout.flush(); sys.stdin.readline()\nb = bytearray(64 << 20)\nsys.stdout.write('touched\\n'); sys.stdout.flush(); sys.stdin.readline()\ndel b\nsys.stdout.write('freed\\n'); sys.stdout.flush(); sys.stdin.readline()"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
        };
        using var python = Process.Start(start)!;
        Assert.Equal("ready", await python.StandardOutput.ReadLineAsync());
        var before = ProcessFiles.PeakRss(python.Id);
        Assert.True(before >= ProcessFiles.SmapsRollup(python.Id).Rss, $"peak {before} below the RSS now");

        await python.StandardInput.WriteLineAsync();
        await python.StandardInput.FlushAsync();
        Assert.Equal("touched", await python.StandardOutput.ReadLineAsync());
        var touched = ProcessFiles.PeakRss(python.Id);
        Assert.InRange(touched - before, 60L << 20, 80L << 20);

        await python.StandardInput.WriteLineAsync();
        await python.StandardInput.FlushAsync();
        Assert.Equal("freed", await python.StandardOutput.ReadLineAsync());
        Assert.True(ProcessFiles.SmapsRollup(python.Id).Rss < touched - (32L << 20), "the 64 MiB were not given back: nothing shows the peak is kept");
        // The kernel records the mark when the memory is unmapped, from RSS counters it batches per CPU: within pages.
        Assert.InRange(ProcessFiles.PeakRss(python.Id), touched - (1L << 20), touched + (1L << 20));

        await python.StandardInput.WriteLineAsync();
        await python.StandardInput.FlushAsync();
        await python.WaitForExitAsync();
        Assert.Equal(0, ProcessFiles.PeakRss(python.Id));
    }

    /// <summary>A running process has not ended; once it exits (a zombie until its parent reaps it, then gone) it has.</summary>
    [Fact]
    public async Task HasEndedIsFalseWhileAProcessRunsAndTrueOnceItExited()
    {
        var child = Nexus.Interop.ChildProcess.Spawn(new Nexus.Interop.ChildStartInfo { Path = "/bin/sleep", Arguments = ["30"] });
        Assert.False(ProcessFiles.HasEnded(child.Pid));
        Assert.False(ProcessFiles.HasEnded(Environment.ProcessId));
        child.Signal(9);
        await child.Exited.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(ProcessFiles.HasEnded(child.Pid));
    }
}
