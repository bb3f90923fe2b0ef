// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers;
using System.Buffers.Text;
using Microsoft.Win32.SafeHandles;

namespace Nexus.Sandbox;

/// <summary>Figures of one process from procfs, read with one small read per file into a pooled buffer.</summary>
public static class ProcessFiles
{
    private const int BufferBytes = 16 * 1024;

    /// <summary>Clock ticks per second of /proc/&lt;pid&gt;/stat (USER_HZ, 100 on Linux).</summary>
    private const int TicksPerSecond = 100;

    /// <summary>Rss, Pss and USS (Private_Clean + Private_Dirty) in bytes, from smaps_rollup; zeros once the process is gone.</summary>
    public static (long Rss, long Pss, long Uss) SmapsRollup(int pid)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferBytes);
        try
        {
            var text = ReadFile($"/proc/{pid}/smaps_rollup", buffer);
            return (Field(text, "Rss:"u8) * 1024, Field(text, "Pss:"u8) * 1024, (Field(text, "Private_Clean:"u8) + Field(text, "Private_Dirty:"u8)) * 1024);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Peak resident set of a process (VmHWM of /proc/&lt;pid&gt;/status) in bytes; 0 once it is gone. The kernel keeps
    /// it as a counter, so the read costs the same whatever the process maps (smaps_rollup walks every page table).
    /// </summary>
    public static long PeakRss(int pid)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferBytes);
        try
        {
            return Field(ReadFile($"/proc/{pid}/status", buffer), "VmHWM:"u8) * 1024;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>User plus system CPU time of a process (every thread), from /proc/&lt;pid&gt;/stat; zero once it is gone.</summary>
    public static TimeSpan CpuTime(int pid)
    {
        Span<byte> buffer = stackalloc byte[1024];
        var text = ReadFile($"/proc/{pid}/stat", buffer);

        // Fields after the command name (which may hold spaces and parentheses, so split after its last ')'):
        // state is field 3, utime 14 and stime 15.
        var end = text.LastIndexOf((byte)')');
        if (end < 0)
        {
            return TimeSpan.Zero;
        }

        var rest = text[(end + 2)..];
        long ticks = 0;
        for (var field = 3; field <= 15 && !rest.IsEmpty; field++)
        {
            var space = rest.IndexOf((byte)' ');
            var value = space < 0 ? rest : rest[..space];
            if (field >= 14 && Utf8Parser.TryParse(value, out long t, out _))
            {
                ticks += t;
            }

            rest = space < 0 ? [] : rest[(space + 1)..];
        }

        return TimeSpan.FromSeconds((double)ticks / TicksPerSecond);
    }

    /// <summary>
    /// Whether a process would sit on any work handed to it: stopped (SIGSTOP, a debugger's trace stop: state T or t) or
    /// in a frozen cgroup (<c>runc pause</c>, an operator's freezer: v1 <c>freezer.state</c> not THAWED, or v2
    /// <c>cgroup.events</c> "frozen 1"). False when the process is gone or its files cannot be read.
    /// </summary>
    /// <param name="pid">The process.</param>
    /// <param name="cgroupRoot">Where the cgroup hierarchies are mounted (/sys/fs/cgroup).</param>
    public static bool IsStoppedOrFrozen(int pid, string cgroupRoot = "/sys/fs/cgroup")
    {
        Span<byte> buffer = stackalloc byte[1024];
        var stat = ReadFile($"/proc/{pid}/stat", buffer);
        var close = stat.LastIndexOf((byte)')');
        if (close < 0 || close + 2 >= stat.Length)
        {
            return false;
        }

        // A v1-frozen task shows D; a v2-frozen one sleeps (S) in the freezer's trap. A running task is never frozen.
        return stat[close + 2] switch
        {
            (byte)'T' or (byte)'t' => true,
            (byte)'D' or (byte)'S' => CgroupFreezer.IsFrozen(pid, cgroupRoot),
            _ => false,
        };
    }

    /// <summary>Whether a process has ended: gone, or a zombie waiting to be reaped (state Z or X in /proc/&lt;pid&gt;/stat).</summary>
    public static bool HasEnded(int pid)
    {
        Span<byte> buffer = stackalloc byte[1024];
        var stat = ReadFile($"/proc/{pid}/stat", buffer);
        var close = stat.LastIndexOf((byte)')');
        return close < 0 || close + 2 >= stat.Length || stat[close + 2] is (byte)'Z' or (byte)'X';
    }

    /// <summary>A "Name:   123 kB" field of smaps_rollup or status (tab-separated there), in kB; 0 when absent.</summary>
    internal static long Field(ReadOnlySpan<byte> text, ReadOnlySpan<byte> name)
    {
        var at = text.IndexOf(name);
        if (at < 0 || (at > 0 && text[at - 1] != (byte)'\n'))
        {
            return 0;
        }

        var rest = text[(at + name.Length)..].TrimStart(" \t"u8);
        return Utf8Parser.TryParse(rest, out long value, out _) ? value : 0;
    }

    /// <summary>Reads a small kernel file; empty when it does not exist (instance gone, process exited).</summary>
    internal static Span<byte> ReadFile(string path, Span<byte> buffer)
    {
        try
        {
            using SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
            var total = 0;
            int n;
            while (total < buffer.Length && (n = RandomAccess.Read(handle, buffer[total..], total)) > 0)
            {
                total += n;
            }

            return buffer[..total];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
