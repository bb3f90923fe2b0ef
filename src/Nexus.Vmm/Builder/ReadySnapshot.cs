// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using Nexus.Interop;

namespace Nexus.Vmm.Builder;

/// <summary>
/// Boot once, snapshot when ready: boots a VM with a fresh (empty) Nexus region and snapshots it the moment the guest
/// first rings the region's doorbell. That ring is the guest's "ready" signal: it has done all the work every instance
/// would repeat (kernel, runtime, handler import), found no channel in the region (its header is all zero), and now
/// waits for the region's interrupt. A VM restored from the snapshot gets a real channel and that interrupt
/// (<see cref="ConsoleRun.RunRestored"/>), so every cold start skips the boot.
/// </summary>
public static class ReadySnapshot
{
    public static string StatePath(string directory) => Path.Combine(directory, "vm.state");

    public static string MemoryPath(string directory) => Path.Combine(directory, "vm.mem");

    /// <summary>
    /// Boots <paramref name="config"/> (which must have a Nexus region), waits up to <paramref name="timeout"/> for
    /// the guest's ready ring and writes the snapshot into <paramref name="directory"/>; returns the process exit code
    /// (0: written; 1: the guest stopped or never rang; 2: the VM could not be built).
    /// </summary>
    public static int Take(VmConfig config, string directory, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.NexusRegionSize == 0)
        {
            Console.Error.WriteLine("error: a ready snapshot needs a Nexus region (--nexus-region MiB): the guest signals readiness on its doorbell");
            return 2;
        }

        ConsoleRun.WarnIfSoftwareKvm();
        if (!ConsoleRun.TryCreate(() => MicroVm.Boot(config), out var vm))
        {
            return 2;
        }

        using (vm)
        {
            ConsoleRun.WriteHeader(vm);
            var started = Stopwatch.GetTimestamp();
            vm.Start();
            if (!WaitForReadyRing(vm, timeout))
            {
                var why = vm.Control.IsStopping
                    ? $"the guest stopped before it was ready: {vm.Control.Exited.Result}"
                    : $"the guest did not ring its Nexus doorbell (ready) within {timeout.TotalSeconds:0.#} s";
                vm.Stop(why);
                vm.WaitForExit(TimeSpan.FromSeconds(5));
                Console.Error.WriteLine("nexus vmm: no snapshot: " + why);
                return 1;
            }

            var ready = Stopwatch.GetElapsedTime(started);
            Directory.CreateDirectory(directory);
            vm.Snapshot(StatePath(directory), MemoryPath(directory));
            Console.Error.WriteLine($"nexus vmm: snapshot written to {directory}: guest ready {ready.TotalMilliseconds:0.0} ms after start, " +
                $"snapshot took {(Stopwatch.GetElapsedTime(started) - ready).TotalMilliseconds:0.0} ms");
            return 0;
        }
    }

    private static bool WaitForReadyRing(MicroVm vm, TimeSpan timeout)
    {
        var doorbell = vm.NexusRegion!.Doorbell;
        using var poller = new FdPoller();
        poller.Add(doorbell.Handle, 0);
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        Span<ulong> tokens = stackalloc ulong[1];
        while (!vm.Control.IsStopping && Stopwatch.GetTimestamp() < deadline)
        {
            // Short waits so a guest that stops (or a deadline) is noticed without a second wake-up source.
            if (poller.Wait(tokens, 50) > 0)
            {
                return !vm.Control.IsStopping;
            }
        }

        return false;
    }
}
