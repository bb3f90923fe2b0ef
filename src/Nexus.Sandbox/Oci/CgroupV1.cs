// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using Microsoft.Win32.SafeHandles;
using Nexus.Interop;

namespace Nexus.Sandbox.Oci;

/// <summary>
/// Reads one instance's cgroup v1 figures straight from cgroupfs and procfs: one small read per file into a
/// pooled buffer, parsed in place (these feed the benchmarks, which sample often). The peak memory, read after every
/// invocation for its REPORT line, is read through a descriptor kept open (one pread instead of an open, fstat, flock,
/// two reads and a close on cgroupfs: ~50 us of the invocation's tail on the test machine); disposing closes it.
/// </summary>
public sealed class CgroupV1 : IDisposable
{
    private const int BufferBytes = 16 * 1024;

    private readonly string _memory;
    private readonly string _cpuacct;
    private readonly string _cpu;
    private readonly Lock _peakLock = new();
    private SafeFileHandle? _peak;
    private bool _disposed;

    public CgroupV1(string cgroupRoot, string cgroupsPath)
    {
        var relative = cgroupsPath.TrimStart('/');
        Root = cgroupRoot;
        RelativePath = relative;
        _memory = Path.Combine(cgroupRoot, "memory", relative);
        _cpuacct = Path.Combine(cgroupRoot, "cpuacct", relative);
        _cpu = Path.Combine(cgroupRoot, "cpu", relative);
    }

    public string Root { get; }

    /// <summary>The instance's directory in the memory controller's hierarchy.</summary>
    public string MemoryDirectory => _memory;

    /// <summary>The instance's path below each controller's mount.</summary>
    public string RelativePath { get; }

    /// <summary>The instance's directory in every mounted v1 controller hierarchy (existing or not).</summary>
    public IEnumerable<string> ControllerDirectories() => ControllerMounts(Root).Select(c => Path.Combine(c, RelativePath));

    /// <summary>The directories of the v1 hierarchies mounted under <paramref name="cgroupRoot"/> (symlinked co-mounts skipped).</summary>
    public static IEnumerable<string> ControllerMounts(string cgroupRoot) =>
        Directory.Exists(cgroupRoot)
            ? new DirectoryInfo(cgroupRoot).EnumerateDirectories()
                .Where(d => d.LinkTarget is null && d.Name != "unified")
                .Select(d => d.FullName)
            : [];

    /// <summary>memory.usage_in_bytes (0 once the cgroup is gone).</summary>
    public long MemoryUsage() => ReadLong(Path.Combine(_memory, "memory.usage_in_bytes"));

    /// <summary>cpuacct.usage in nanoseconds (0 once the cgroup is gone).</summary>
    /// <summary>The cgroup's peak memory since it was made (one file read: cheap enough for every invocation).</summary>
    public long MemoryPeak()
    {
        lock (_peakLock)
        {
            if (_disposed)
            {
                return 0;
            }

            Span<byte> buffer = stackalloc byte[32];
            try
            {
                // A cgroupfs file regenerates its text on every read at offset 0.
                _peak ??= File.OpenHandle(Path.Combine(_memory, "memory.max_usage_in_bytes"), FileMode.Open, FileAccess.Read);
                var n = RandomAccess.Read(_peak, buffer, 0);
                return Utf8Parser.TryParse(buffer[..n], out long value, out _) ? value : 0;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return 0;
            }
        }
    }

    /// <summary>Closes the peak-memory descriptor (before the cgroup is removed); later reads return 0.</summary>
    public void Dispose()
    {
        lock (_peakLock)
        {
            _disposed = true;
            _peak?.Dispose();
            _peak = null;
        }
    }

    public long CpuNanoseconds() => ReadLong(Path.Combine(_cpuacct, "cpuacct.usage"));

    /// <summary>
    /// Sets the CFS quota to <paramref name="cpus"/> CPUs of the cgroup's own period (at least the kernel's minimum of
    /// 1 ms) and the CPU weight to the same share (<see cref="SharesFor"/>); throws when the cgroup is gone or a write is
    /// refused.
    /// </summary>
    public void SetCpuLimit(double cpus)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(cpus, 0);
        var period = ReadLong(Path.Combine(_cpu, "cpu.cfs_period_us"));
        if (period <= 0)
        {
            throw new IOException($"cgroup '{RelativePath}' has no CFS period to set a CPU limit against (is the cpu controller mounted under {Root}?)");
        }

        // The weight first: between the two writes the cgroup then holds the lower of old and new, never more of both.
        File.WriteAllText(Path.Combine(_cpu, "cpu.shares"), SharesFor(cpus).ToString(CultureInfo.InvariantCulture));
        var quota = Math.Max(1000, (long)Math.Round(cpus * period));
        File.WriteAllText(Path.Combine(_cpu, "cpu.cfs_quota_us"), quota.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// Gives every thread of the cgroup (the cpu controller's <c>tasks</c>) the EEVDF slice request
    /// <paramref name="nanoseconds"/>, inherited by what they start later (<see cref="ThreadSlice.SetInherited"/>);
    /// returns how many threads took it. Threads not SCHED_OTHER (a tenant may choose SCHED_BATCH or SCHED_IDLE) and
    /// threads that ended meanwhile are left out.
    /// </summary>
    public int SetSliceRequest(long nanoseconds)
    {
        var set = 0;
        foreach (var tid in ReadIds(Path.Combine(_cpu, "tasks")))
        {
            set += ThreadSlice.SetInherited(tid, nanoseconds) ? 1 : 0;
        }

        return set;
    }

    /// <summary>
    /// The cgroup v1 CPU weight (<c>cpu.shares</c>) of an instance limited to <paramref name="cpus"/> CPUs: 1024 (the
    /// kernel's default, one busy task's weight) per CPU, within the kernel's 2..262144. The quota caps how much CPU a
    /// tenant gets; the weight decides who runs first while both are runnable, so a victim on one CPU preempts a tenant
    /// held to 0.145 of one (weight 148) instead of waiting out its slice at equal weight (docs/node.md#cpu).
    /// </summary>
    public static long SharesFor(double cpus) => Math.Clamp((long)Math.Round(cpus * 1024), 2, 262_144);

    /// <summary>The oom_kill counter of memory.oom_control: processes the kernel OOM-killed in this cgroup.</summary>
    public long OomKills() => ReadKey(Path.Combine(_memory, "memory.oom_control"), "oom_kill"u8);

    /// <summary>Processes of the instance (memory controller's cgroup.procs).</summary>
    public List<int> Processes() => ReadIds(Path.Combine(_memory, "cgroup.procs"));

    // One id a line, as cgroup.procs and tasks hold them.
    private static List<int> ReadIds(string path)
    {
        var pids = new List<int>();
        var buffer = ArrayPool<byte>.Shared.Rent(BufferBytes);
        try
        {
            var text = ProcessFiles.ReadFile(path, buffer);
            while (!text.IsEmpty)
            {
                var end = text.IndexOf((byte)'\n');
                var line = end < 0 ? text : text[..end];
                if (Utf8Parser.TryParse(line, out int pid, out _))
                {
                    pids.Add(pid);
                }

                text = end < 0 ? [] : text[(end + 1)..];
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return pids;
    }

    /// <summary>Rss, Pss and USS (Private_Clean + Private_Dirty) of the instance's processes, from smaps_rollup.</summary>
    public (long Rss, long Pss, long Uss) ProcessMemory()
    {
        long rss = 0, pss = 0, uss = 0;
        foreach (var pid in Processes())
        {
            var (r, p, u) = ProcessFiles.SmapsRollup(pid);
            (rss, pss, uss) = (rss + r, pss + p, uss + u);
        }

        return (rss, pss, uss);
    }

    private static long ReadKey(string path, ReadOnlySpan<byte> key)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferBytes);
        try
        {
            var text = ProcessFiles.ReadFile(path, buffer);
            while (!text.IsEmpty)
            {
                var end = text.IndexOf((byte)'\n');
                var line = end < 0 ? text : text[..end];
                if (line.StartsWith(key) && line.Length > key.Length && line[key.Length] == (byte)' ')
                {
                    return Utf8Parser.TryParse(line[(key.Length + 1)..], out long value, out _) ? value : 0;
                }

                text = end < 0 ? [] : text[(end + 1)..];
            }

            return 0;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static long ReadLong(string path)
    {
        Span<byte> buffer = stackalloc byte[64];
        var text = ProcessFiles.ReadFile(path, buffer);
        return Utf8Parser.TryParse(text, out long value, out _) ? value : 0;
    }

}
