// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using Nexus.Node.Logs;

namespace Nexus.Node.Tests;

/// <summary>
/// A function's log is rotated at its size limit, so a function printing without end cannot fill the node's disk (an
/// operator's review found a 62 MB log from one test function, with no limit anywhere): at most the current file and one
/// rotated file remain, and the last lines are still read across the two. Without the rotation the file grew to every
/// line written and this failed.
/// </summary>
public sealed class FunctionLogsTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("nexus-logs-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public void A_log_past_its_limit_is_rotated_and_its_last_lines_are_read_across_both_files()
    {
        const long Limit = 4096;
        using var logs = new FunctionLogs(_dir.FullName, maxFileBytes: Limit);
        for (var i = 0; i < 500; i++)
        {
            logs.Write("loud", "i-1", null, "line " + i.ToString("D4", CultureInfo.InvariantCulture) + new string('.', 60));
            _ = logs.Tail("loud", 1); // writes the queued line out, as a reader would
        }

        var files = _dir.GetFiles().Select(f => f.Name).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["loud.log", "loud.log.1"], files);
        Assert.All(_dir.GetFiles(), f => Assert.True(f.Length < Limit + 200, $"{f.Name} is {f.Length} bytes"));

        // Everything kept, read across the two files: the newest lines in order, more than the current file holds.
        var kept = logs.Tail("loud", 1000).Select(l => int.Parse(l.Split(' ')[4][..4], CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(Enumerable.Range(500 - kept.Length, kept.Length), kept);
        Assert.True(kept.Length > File.ReadAllLines(Path.Combine(_dir.FullName, "loud.log")).Length);

        logs.Delete("loud");
        Assert.Empty(_dir.GetFiles());
    }
}
