// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Microsoft.Win32.SafeHandles;
using Nexus.Interop;

namespace Nexus.Sandbox.Tests;

public sealed class ChildProcessTests
{
    private static SafeFd MemfdWith(string content)
    {
        var fd = Memory.CreateMemfd("child-test", 64);
        using var stream = new FileStream(new SafeFileHandle(fd.DangerousGetHandle(), ownsHandle: false), FileAccess.ReadWrite);
        stream.Write(System.Text.Encoding.ASCII.GetBytes(content));
        return fd;
    }

    [Fact]
    public async Task InheritedFdsLandAtThreeOnwardInTheGivenOrderAndNothingElseLeaks()
    {
        // Passed against their creation (and numbering) order.
        using var low = MemfdWith("L");
        using var high = MemfdWith("H");
        var result = await RunShAsync("head -c 1 <&3; head -c 1 <&4; echo; ls /proc/self/fd | wc -l", [high, low]);
        Assert.Equal(0, result.ExitCode);
        var lines = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("HL", lines[0]);

        // 0, 1, 2, 3, 4 and the directory ls reads: none of this process's other descriptors leaked.
        Assert.Equal("6", lines[1].Trim());
    }

    [Fact]
    public async Task ExitCodesAndSignalsAreReportedApart()
    {
        var sh = HostTool.Resolve("sh", "test");
        var exited = ChildProcess.Spawn(new ChildStartInfo { Path = sh, Arguments = ["-c", "exit 7"], Environment = HostTool.Environment });
        Assert.Equal(new ChildExitStatus(7, null), await exited.Exited.WaitAsync(TimeSpan.FromMinutes(1)));

        var killed = ChildProcess.Spawn(new ChildStartInfo { Path = sh, Arguments = ["-c", "sleep 600"], Environment = HostTool.Environment });
        Assert.True(killed.Signal(9));
        Assert.Equal(new ChildExitStatus(null, 9), await killed.Exited.WaitAsync(TimeSpan.FromMinutes(1)));
        Assert.False(killed.Signal(9), "signalling a reaped child reports that it is gone");
    }

    [Fact]
    public void ARelativePathIsRefused() =>
        Assert.Throws<ArgumentException>(() => ChildProcess.Spawn(new ChildStartInfo { Path = "sh" }));

    private static async Task<ToolResult> RunShAsync(string script, IReadOnlyList<SafeFd> fds)
    {
        var (stdoutHost, stdoutChild) = ChildProcess.CreateSocketPair();
        ChildProcess child;
        using (stdoutChild)
        {
            child = ChildProcess.Spawn(new ChildStartInfo
            {
                Path = HostTool.Resolve("sh", "test"),
                Arguments = ["-c", script],
                Environment = HostTool.Environment,
                StandardOutput = stdoutChild,
                InheritedFds = fds,
            });
        }

        using var stream = new System.Net.Sockets.NetworkStream(stdoutHost, ownsSocket: true);
        var output = await new StreamReader(stream).ReadToEndAsync();
        var status = await child.Exited.WaitAsync(TimeSpan.FromMinutes(1));
        return new ToolResult(status.ExitCode ?? -1, output, "");
    }
}
