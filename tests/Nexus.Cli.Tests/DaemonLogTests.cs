// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Cli.Tests;

/// <summary>The node daemon's log (<see cref="DaemonLog"/>): writes never fail the caller, and the file is rotated.</summary>
public sealed class DaemonLogTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nexus-daemonlog-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_line_the_disk_cannot_take_is_lost_and_counted_and_said_once_writing_works_again()
    {
        var path = Path.Combine(_dir, "node.log");
        var disk = new FullDiskWriter();
        using var log = new DaemonLog(path, 1 << 20, disk, writer => writer);
        log.WriteLine("before");
        disk.Full = true;
        log.WriteLine("lost one");
        log.Write("lost two\n");
        log.Flush();
        Assert.Equal(2, log.Lost);
        disk.Full = false;
        log.WriteLine("after");
        Assert.Equal($"before\nnexus: 2 log line(s) lost: No space left on device\nafter\n".ReplaceLineEndings(), disk.Written.ToString());
        Assert.Equal(0, log.Lost);
    }

    [Fact]
    public void The_log_is_rotated_at_its_limit_keeping_the_one_before()
    {
        var path = Path.Combine(_dir, "node.log");
        StreamWriter Open() => new(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete)) { AutoFlush = true };
        var opened = new List<TextWriter>();
        using (var log = new DaemonLog(path, 100, Open(), old =>
        {
            old.Dispose();
            var next = Open();
            opened.Add(next);
            return next;
        }))
        {
            for (var i = 0; i < 25; i++)
            {
                log.WriteLine($"line {i:D2} of the log");
            }
        }

        foreach (var writer in opened)
        {
            writer.Dispose();
        }

        // 19 bytes a line: rotated after every 6th line, so the last file has the last line alone and the one before it
        // the six before; the older ones are gone.
        Assert.Equal(4, opened.Count);
        Assert.Equal(["line 24 of the log"], File.ReadAllLines(path));
        Assert.Equal([.. Enumerable.Range(18, 6).Select(i => $"line {i:D2} of the log")], File.ReadAllLines(path + ".1"));
        Assert.False(File.Exists(path + ".2"));
    }

    /// <summary>A writer whose disk fills and empties on demand.</summary>
    private sealed class FullDiskWriter : TextWriter
    {
        public bool Full { get; set; }

        public System.Text.StringBuilder Written { get; } = new();

        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;

        public override void Write(char value) => Write(value.ToString());

        public override void Write(string? value)
        {
            if (Full)
            {
                throw new IOException("No space left on device");
            }

            Written.Append(value);
        }
    }
}
