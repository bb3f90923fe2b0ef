// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using Nexus.Interop;

namespace Nexus.Bench.Density;

/// <summary>A component's share of the node process's CPU during one replay, from perf samples.</summary>
public sealed record ComponentCpu(string Component, int Samples, double Share, double CpuSeconds);

/// <summary>
/// Splits the CPU of this process (node, store, backend and the benchmark's own replayer share it and its thread
/// pool) by component: <c>perf record -a -g</c> samples every CPU during a replay, the samples of this process are
/// kept, and each goes to the component of the innermost Nexus frame on its stack (so an allocation's GC work counts for the code
/// that allocated). Needs perf and the runtime's perf map (<c>DOTNET_PerfMapEnabled</c>, set by the <c>nexus</c>
/// script for <c>bench</c>); without them the split is skipped and the caller says so.
/// </summary>
public sealed class CpuSplit
{
    public const string Store = "store";
    public const string Backend = "backend";
    public const string Node = "node (invoke path, pool, sandboxes, Runtime API)";
    public const string Driver = "benchmark driver (replayer, sampler)";
    public const string HttpServer = "HTTP server without an app frame (Kestrel: store or node APIs)";
    public const string Gc = "runtime: GC";
    public const string Jit = "runtime: JIT and type loading";
    public const string Crypto = "libcrypto (MD5/SHA of bodies), caller unknown";
    public const string KernelSockets = "kernel: sockets (loopback TCP, Unix), caller unknown";
    public const string KernelFiles = "kernel: files (store objects, spool, fsync), caller unknown";
    public const string KernelMemory = "kernel: memory (page faults, mmap), caller unknown";
    public const string KernelWaits = "kernel: waits and wake-ups (futex, epoll, scheduler)";
    public const string Other = "unattributed (runtime code without symbols, other kernel)";

    // Kernel functions that say what a stack without managed frames was doing. perf walks user stacks by frame
    // pointer, which stops at libc's syscall wrappers, so a syscall's managed caller is usually not on the stack.
    private static readonly (string Component, string[] Markers)[] s_kernelKinds =
    [
        (KernelSockets, ["tcp_", "sock_", "__sys_sendto", "__sys_recvfrom", "unix_stream", "inet_"]),
        (KernelFiles, ["ext4_", "vfs_", "fsync", "filemap_", "do_sys_open", "iomap_", "xfs_", "overlay"]),
        (KernelMemory, ["page_fault", "handle_mm_fault", "do_anonymous_page", "mmap_region", "do_munmap", "madvise", "clear_page"]),
        (KernelWaits, ["futex", "epoll", "schedule", "finish_task_switch", "sched_yield", "nanosleep"]),
    ];

    /// <summary>Samples per second per CPU: a few hundred samples over a replay, at negligible cost to it.</summary>
    public const int Frequency = 99;

    // Looked up once: the split starts and stops perf at every load level.
    private static readonly string? s_perf = new[] { "/usr/bin/perf", "/usr/local/bin/perf" }.FirstOrDefault(File.Exists);

    private readonly Process _perf;
    private readonly string _dataFile;

    private CpuSplit(Process perf, string dataFile)
    {
        _perf = perf;
        _dataFile = dataFile;
    }

    /// <summary>Why the split cannot run here, or null when it can.</summary>
    public static string? Unavailable()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_PerfMapEnabled") is not ("1" or "3"))
        {
            return "DOTNET_PerfMapEnabled is not 1 or 3 (the `nexus` script sets it for `bench`), so managed frames have no names";
        }

        if (Environment.GetEnvironmentVariable("DOTNET_EnableWriteXorExecute") != "0")
        {
            return "DOTNET_EnableWriteXorExecute is not 0, so perf cannot map JIT code to the perf map";
        }

        return s_perf is null ? "perf is not installed (Debian package linux-perf)" : null;
    }

    /// <summary>Starts sampling (every CPU; only this process's samples count); null (with <paramref name="why"/>) when the split cannot run.</summary>
    public static CpuSplit? TryStart(string dataFile, out string? why)
    {
        why = Unavailable();
        if (why is not null)
        {
            return null;
        }

        var record = new ProcessStartInfo(s_perf!) { RedirectStandardOutput = true, RedirectStandardError = true };
        // System-wide (-a), filtered to this process afterwards: `-p` would also follow every child (runc, the
        // sandboxes) with per-task sampling set-up, slowing baseline's cold starts far more than nexus's.
        foreach (var arg in (string[])["record", "-q", "-a", "-g", "-F", $"{Frequency}", "-o", dataFile])
        {
            record.ArgumentList.Add(arg);
        }

        return new CpuSplit(Process.Start(record)!, dataFile);
    }

    /// <summary>Stops sampling and splits <paramref name="processCpuSeconds"/> by the samples' components.</summary>
    public async Task<IReadOnlyList<ComponentCpu>> StopAsync(double processCpuSeconds, CancellationToken cancellationToken)
    {
        // SIGINT makes perf record flush and close its file; it exits on its own.
        ChildProcess.Kill(_perf.Id, 2);
        await _perf.WaitForExitAsync(cancellationToken);
        _perf.Dispose();
        try
        {
            var script = new ProcessStartInfo(s_perf!) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var arg in (string[])["script", "-i", _dataFile, "-F", "comm,pid,tid,ip,sym,dso"])
            {
                script.ArgumentList.Add(arg);
            }

            using var process = Process.Start(script)!;
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            var counts = Count(ParseStacks(process.StandardOutput, Environment.ProcessId));
            await process.WaitForExitAsync(cancellationToken);
            await stderr;
            return Split(counts, processCpuSeconds);
        }
        finally
        {
            File.Delete(_dataFile);
        }
    }

    /// <summary>Stops sampling without reading the samples (a replay that did not finish).</summary>
    public void Abandon()
    {
        ChildProcess.Kill(_perf.Id, 2);
        _perf.WaitForExit(TimeSpan.FromSeconds(10));
        _perf.Dispose();
        File.Delete(_dataFile);
    }

    /// <summary>Shares of <paramref name="processCpuSeconds"/> by component, largest first.</summary>
    public static IReadOnlyList<ComponentCpu> Split(IReadOnlyDictionary<string, int> counts, double processCpuSeconds)
    {
        var total = counts.Values.Sum();
        return [.. counts
            .Where(c => c.Value > 0)
            .OrderByDescending(c => c.Value)
            .Select(c => new ComponentCpu(c.Key, c.Value, (double)c.Value / total, processCpuSeconds * c.Value / total))];
    }

    /// <summary>Samples per component.</summary>
    public static Dictionary<string, int> Count(IEnumerable<IReadOnlyList<string>> stacks)
    {
        var counts = new Dictionary<string, int>();
        foreach (var stack in stacks)
        {
            var component = ComponentOf(stack);
            counts[component] = counts.GetValueOrDefault(component) + 1;
        }

        return counts;
    }

    /// <summary>
    /// The component of one sample, frames leaf first: the innermost frame of a Nexus type decides; without one,
    /// the AWS SDK is the backend's (nothing else in the node uses it), then Kestrel, GC, JIT; else unattributed.
    /// </summary>
    public static string ComponentOf(IReadOnlyList<string> frames)
    {
        foreach (var frame in frames)
        {
            var owner = OwnerType(frame);
            if (owner is null || !owner.StartsWith("Nexus.", StringComparison.Ordinal))
            {
                continue;
            }

            var ns = owner.AsSpan(6);
            if (ns.StartsWith("Store"))
            {
                return Store;
            }

            if (ns.StartsWith("Backend") || ns.StartsWith("Channel"))
            {
                return Backend;
            }

            if (ns.StartsWith("Node") || ns.StartsWith("Sandbox") || ns.StartsWith("Functions") || ns.StartsWith("Image"))
            {
                return Node;
            }

            if (ns.StartsWith("Bench") || ns.StartsWith("Cli"))
            {
                return Driver;
            }

            // Nexus.Interop and helpers serve every component: the caller's frame decides.
        }

        foreach (var frame in frames)
        {
            var owner = OwnerType(frame);
            if (owner is not null && owner.StartsWith("Amazon.", StringComparison.Ordinal))
            {
                return Backend;
            }

            // Framework assemblies are precompiled (ReadyToRun) and absent from the perf map: their dso names them.
            if ((owner is not null && owner.StartsWith("Microsoft.AspNetCore.", StringComparison.Ordinal))
                || frame.Contains("/Microsoft.AspNetCore.", StringComparison.Ordinal))
            {
                return HttpServer;
            }
        }

        if (frames.Any(f => f.Contains("gc_heap", StringComparison.Ordinal) || f.Contains("GCHeap", StringComparison.Ordinal)))
        {
            return Gc;
        }

        if (frames.Any(f => f.Contains("libclrjit.so", StringComparison.Ordinal)))
        {
            return Jit;
        }

        if (frames.Any(f => f.Contains("libcrypto.so", StringComparison.Ordinal)))
        {
            return Crypto;
        }

        var kernel = frames.Where(f => f.EndsWith("([kernel.kallsyms])", StringComparison.Ordinal)).ToList();
        foreach (var (component, markers) in s_kernelKinds)
        {
            if (kernel.Any(f => markers.Any(m => f.Contains(m, StringComparison.Ordinal))))
            {
                return component;
            }
        }

        return Other;
    }

    /// <summary>
    /// The declaring type of a perf-map frame such as
    /// <c>instance bool [Nexus.Store] Nexus.Store.S3StoreServer+&lt;HandleAsync&gt;d__5::MoveNext()[Optimized] (/tmp/perf-1.map)</c>:
    /// the text between the last "] " and "::"; null for native frames.
    /// </summary>
    public static string? OwnerType(string frame)
    {
        var colons = frame.IndexOf("::", StringComparison.Ordinal);
        if (colons < 0)
        {
            return null;
        }

        var head = frame.AsSpan(0, colons);
        var bracket = head.LastIndexOf("] ");
        return bracket < 0 ? null : head[(bracket + 2)..].ToString();
    }

    /// <summary>
    /// Parses <c>perf script -F comm,pid,tid,ip,sym,dso</c> output with call chains: one frame list per sample, leaf
    /// first. perf follows the process's children too (runc, perf itself): with <paramref name="pid"/>, samples of other
    /// processes are dropped, since their CPU is not the process's.
    /// </summary>
    public static IEnumerable<IReadOnlyList<string>> ParseStacks(TextReader reader, int? pid = null)
    {
        List<string>? frames = null;
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0)
            {
                if (frames is not null)
                {
                    yield return frames;
                    frames = null;
                }

                continue;
            }

            if (!char.IsWhiteSpace(line[0]))
            {
                if (frames is not null)
                {
                    yield return frames;
                }

                // Header "comm  pid/tid": the pid is the number before the last '/'.
                frames = pid is not { } wanted || HeaderPid(line) == wanted ? [] : null;
                continue;
            }

            // "\t    7ff9c2ca4852 symbol text (dso)": drop the address, keep symbol and dso.
            var text = line.AsSpan().Trim();
            var space = text.IndexOf(' ');
            frames?.Add(space < 0 ? string.Empty : text[(space + 1)..].ToString());
        }

        if (frames is not null)
        {
            yield return frames;
        }
    }

    private static int? HeaderPid(string header)
    {
        var slash = header.LastIndexOf('/');
        if (slash < 0)
        {
            return null;
        }

        var start = slash;
        while (start > 0 && char.IsAsciiDigit(header[start - 1]))
        {
            start--;
        }

        return int.TryParse(header.AsSpan(start, slash - start), out var value) ? value : null;
    }
}
