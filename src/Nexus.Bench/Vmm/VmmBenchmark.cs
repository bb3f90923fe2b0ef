// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using System.Globalization;
using Nexus.Interop;
using Nexus.Vmm.Builder;
using Nexus.Vmm.VState;

namespace Nexus.Bench.Vmm;

/// <summary>One benchmark figure.</summary>
public sealed record BenchFigure(string Name, double Value, string Unit, string Note);

/// <summary>
/// Boot latency, restore latency and memory overhead of the VMM, measured with <see cref="BenchGuest"/>.
/// Every figure says on which kind of KVM it was taken.
/// </summary>
public static class VmmBenchmark
{
    /// <summary>Runs every figure; <paramref name="processes"/> are the VMM front ends whose per-process overhead is measured.</summary>
    public static IReadOnlyList<BenchFigure> Run(int iterations, ulong memoryMiB, IReadOnlyList<VmmProcess> processes, Action<string> progress)
    {
        var dir = Directory.CreateTempSubdirectory("nexus-vmm-bench-").FullName;
        try
        {
            var kernel = BenchGuest.Write(dir);
            var kvmKind = Kvm.IsSoftwareOnly() ? "software-only KVM (kvm_pvm/no vmx/svm)" : "hardware KVM";
            var figures = new List<BenchFigure>();

            var firstInstruction = new List<double>();
            var firstSerial = new List<double>();
            // Iteration 0 warms the JIT and is not counted.
            for (var i = 0; i <= iterations; i++)
            {
                progress($"boot {i}/{iterations}");
                var start = Stopwatch.GetTimestamp();
                using var vm = MicroVm.Boot(new VmConfig { KernelPath = kernel, MemoryMiB = memoryMiB }, startTimestamp: start);
                using var reached = new ManualResetEventSlim();
                vm.IoBus.Insert(BenchGuest.LoopPort, 1, new Signal(reached));
                vm.Start();
                reached.Wait(TimeSpan.FromSeconds(60));
                if (i > 0)
                {
                    firstInstruction.Add(vm.TimeToFirstExit?.TotalMilliseconds ?? double.NaN);
                    firstSerial.Add(vm.TimeToFirstSerialByte?.TotalMilliseconds ?? double.NaN);
                }
            }

            figures.Add(new("VM creation to first guest instruction (median)", Median(firstInstruction), "ms", $"{memoryMiB} MiB guest, {kvmKind}"));
            figures.Add(new("VM creation to first serial byte (median)", Median(firstSerial), "ms", $"{memoryMiB} MiB guest, {kvmKind}"));

            var state = Path.Combine(dir, "vm.state");
            var memory = Path.Combine(dir, "vm.mem");
            figures.AddRange(MemoryFigures(kernel, memoryMiB));
            figures.AddRange(ProcessOverhead.Measure(processes, kernel, memoryMiB, progress));
            using (var vm = MicroVm.Boot(new VmConfig { KernelPath = kernel, MemoryMiB = memoryMiB }))
            {
                using var reached = new ManualResetEventSlim();
                vm.IoBus.Insert(BenchGuest.LoopPort, 1, new Signal(reached));
                vm.Start();
                reached.Wait(TimeSpan.FromSeconds(60));
                vm.Snapshot(state, memory);
            }

            var restore = new List<double>();
            var restoreRun = new List<double>();
            for (var i = 0; i < iterations; i++)
            {
                progress($"restore {i + 1}/{iterations}");
                var start = Stopwatch.GetTimestamp();
                using var vm = MicroVm.Restore(state, memory);
                var restored = Stopwatch.GetTimestamp();
                using var reached = new ManualResetEventSlim();
                vm.IoBus.Insert(BenchGuest.LoopPort, 1, new Signal(reached));
                vm.Start();
                reached.Wait(TimeSpan.FromSeconds(60));
                restore.Add(Stopwatch.GetElapsedTime(start, restored).TotalMilliseconds);
                restoreRun.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }

            figures.Add(new("Snapshot restore (state + MAP_PRIVATE memory), median", Median(restore), "ms", $"{memoryMiB} MiB guest, {BenchGuest.TouchedBytes >> 20} MiB touched, {kvmKind}"));
            figures.Add(new("Snapshot restore to guest running again, median", Median(restoreRun), "ms", kvmKind));
            return figures;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// Non-guest RSS of this process with no VM, then with <c>count</c> VMs booted and paused: the
    /// growth divided by the count is the VMM's own memory per VM (averaged, because the .NET heap
    /// moves by more than one VM's worth between two single samples).
    /// </summary>
    private static IEnumerable<BenchFigure> MemoryFigures(string kernel, ulong memoryMiB)
    {
        const int Count = 8;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var before = ProcessRssKiB();
        var vms = new List<MicroVm>();
        try
        {
            for (var i = 0; i < Count; i++)
            {
                var vm = MicroVm.Boot(new VmConfig { KernelPath = kernel, MemoryMiB = memoryMiB });
                vms.Add(vm);
                using var reached = new ManualResetEventSlim();
                vm.IoBus.Insert(BenchGuest.LoopPort, 1, new Signal(reached));
                vm.Start();
                reached.Wait(TimeSpan.FromSeconds(60));
                vm.Pause();
            }

            GC.Collect();
            GC.WaitForPendingFinalizers();
            var guestKiB = vms.SelectMany(v => v.Memory.Regions).Sum(r => (double)MappingRssKiB(r.Mapping.Address));
            var after = ProcessRssKiB() - guestKiB;
            return
            [
                new("VMM memory per VM beyond guest memory", (after - before) / Count / 1024, "MiB", $"non-guest RSS growth over {Count} paused VMs, per VM"),
                new("VMM process RSS excluding guest memory", after / 1024, "MiB", $".NET runtime + VMM, whole process with {Count} VMs"),
            ];
        }
        finally
        {
            foreach (var vm in vms)
            {
                vm.Dispose();
            }
        }
    }

    public static string Format(IReadOnlyList<BenchFigure> figures) =>
        string.Join(Environment.NewLine, figures.Select(f => string.Create(CultureInfo.InvariantCulture, $"{f.Name,-56} {f.Value,10:0.000} {f.Unit,-3} ({f.Note})")));

    private static double Median(List<double> values)
    {
        var sorted = values.Where(v => !double.IsNaN(v)).Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted[sorted.Length / 2];
    }

    private static long ProcessRssKiB() => ReadKiB("/proc/self/status", "VmRSS:");

    /// <summary>Rss of the mapping starting at <paramref name="address"/>, from /proc/self/smaps.</summary>
    private static long MappingRssKiB(nint address)
    {
        var prefix = ((ulong)address).ToString("x", CultureInfo.InvariantCulture) + "-";
        var inMapping = false;
        foreach (var line in File.ReadLines("/proc/self/smaps"))
        {
            if (line.Length > 0 && char.IsAsciiHexDigit(line[0]) && line.Contains('-', StringComparison.Ordinal))
            {
                inMapping = line.StartsWith(prefix, StringComparison.Ordinal);
            }
            else if (inMapping && line.StartsWith("Rss:", StringComparison.Ordinal))
            {
                return Smaps.ParseKiB(line);
            }
        }

        return 0;
    }

    private static long ReadKiB(string file, string key) =>
        File.ReadLines(file).Where(l => l.StartsWith(key, StringComparison.Ordinal)).Select(Smaps.ParseKiB).FirstOrDefault();


    private sealed class Signal(ManualResetEventSlim reached) : IBusDevice
    {
        public void Read(ulong offset, Span<byte> data) => data.Clear();

        public void Write(ulong offset, ReadOnlySpan<byte> data) => reached.Set();
    }
}
