// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Interop;

namespace Nexus.Sandbox.Tests;

public sealed class HostToolTests
{
    private static readonly string s_sh = HostTool.Resolve("sh", "test");

    [Fact]
    public async Task Lines_of_stdout_and_stderr_reach_the_callback_and_the_tail_keeps_the_last_ones()
    {
        var lines = new List<string>();
        var (code, tail) = await HostTool.RunLinesAsync(
            s_sh, ["-c", "echo one; echo two >&2; echo \"$LC_ALL\"; exit 3"], l => { lock (lines) { lines.Add(l); } }, ["LC_ALL=C"], tailLines: 2, CancellationToken.None);

        Assert.Equal(3, code);
        Assert.Equal(["C", "one", "two"], lines.Order());
        Assert.Equal(2, tail.Split('\n').Length);
    }

    [Fact]
    public async Task Cancelling_kills_the_tools_whole_process_group_not_only_the_tool()
    {
        // The tool starts a grandchild (as debootstrap starts wget and dpkg) and waits for it.
        using var cancel = new CancellationTokenSource();
        var grandchild = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var run = HostTool.RunLinesAsync(
            s_sh, ["-c", "sleep 300 & echo $!; wait"], l => grandchild.TrySetResult(int.Parse(l, System.Globalization.CultureInfo.InvariantCulture)), [], 10, cancel.Token);
        var pid = await grandchild.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(IsRunning(pid));

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        for (var i = 0; i < 100 && IsRunning(pid); i++)
        {
            await Task.Delay(20);
        }

        Assert.False(IsRunning(pid), $"the grandchild {pid} outlived the cancelled tool");
    }

    [Fact]
    public void A_missing_tool_is_named_with_where_it_was_looked_for()
    {
        var e = Assert.Throws<FileNotFoundException>(() => HostTool.Resolve("no-such-tool-here", "the test's purpose"));
        Assert.Contains("the test's purpose: 'no-such-tool-here' is not on PATH nor in /usr/local/sbin", e.Message, StringComparison.Ordinal);
        Assert.Null(HostTool.Find("/no/such/absolute/tool"));
    }

    // Gone, or a zombie (killed, waiting for its reaper): either way no longer running.
    private static bool IsRunning(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] != 'Z';
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return false;
        }
    }
}
