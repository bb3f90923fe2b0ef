// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;
using System.Text;
using Nexus.Testing;
using Nexus.Vmm.Arch.X64;
using Nexus.Vmm.Builder;
using Nexus.Vmm.Snapshot;
using Nexus.Vmm.VState;

namespace Nexus.Vmm.Tests;

/// <summary>Pause, snapshot, restore into a new VM, reboot: real guests on /dev/kvm.</summary>
public sealed class SnapshotTests : IDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);
    private readonly string _dir = Directory.CreateTempSubdirectory("nexus-snap-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [KvmFact]
    public void CountingGuestContinuesItsCountAfterRestoreInANewVm()
    {
        var state = Path.Combine(_dir, "vm.state");
        var memory = Path.Combine(_dir, "vm.mem");
        var first = new Progress();
        uint atSnapshot;
        using (var vm = MicroVm.Boot(new VmConfig { KernelPath = TestGuests.Build("count"), MemoryMiB = 32 }))
        {
            vm.IoBus.Insert(0xe9, 4, first);
            vm.Start();
            Assert.True(first.WaitFor(500, s_timeout), "the guest did not reach 500");
            vm.Snapshot(state, memory);
            atSnapshot = first.Last;
            Assert.InRange(atSnapshot, 500u, 29999u);
            Assert.Equal(atSnapshot, first.Last); // paused: no progress
        }

        var second = new Progress();
        using var restored = MicroVm.Restore(state, memory);
        restored.IoBus.Insert(0xe9, 4, second);
        restored.Start();
        var exit = restored.WaitForExit(s_timeout);

        Assert.True(exit is { Kind: VmExitKind.ExitPort, Code: 1 }, exit.ToString());
        Assert.Equal(atSnapshot + 1, second.First);
        Assert.Equal(30000u, second.Last);
        Assert.True(second.Contiguous, "the restored guest skipped or repeated a value");
    }

    /// <summary>
    /// pvmprobe's "usercount" mode counts in user mode (CPL 3 through the guest's own GDT) without any exit, which
    /// kvm_pvm runs natively in hardware ring 3: the snapshot is taken with the vCPU in user mode.
    /// </summary>
    [KvmFact]
    public void GuestPausedInUserModeContinuesAfterRestore()
    {
        var state = Path.Combine(_dir, "vm.state");
        var memory = Path.Combine(_dir, "vm.mem");
        Assert.DoesNotContain("ended", SnapshotProbeOnceStarted("usercount", state, memory), StringComparison.Ordinal);

        // Saved in user mode: the guest's own user code segment (0x2b, DPL 3), not the host selector that user code
        // reads under kvm_pvm (0x33).
        var cs = VmState.Load(state).Vcpus[0].Sregs.Cs;
        Assert.Equal((0x2b, 3), (cs.Selector, cs.Dpl));

        var console = new StringBuilder();
        using var restored = MicroVm.Restore(state, memory, new RestoreOptions { ConsoleOutput = b => console.Append((char)b) });
        restored.Start();
        var exit = restored.WaitForExit(s_timeout);
        Assert.True(exit is { Kind: VmExitKind.ExitPort, Code: 1 }, $"{exit}; console: {console}");
        Assert.Contains("usercount: r12: 0xbebc200\nusercount: ram: 0xbebc200\n", console.ToString(), StringComparison.Ordinal);
    }

    /// <summary>
    /// pvmprobe's "pvlitesnap" mode registers a pv-lite vIF page and spins at CPL 0, natively: the snapshot taken
    /// mid-spin must carry the registration (MSR 0x4b564d10, which KVM does not list), or the restored vCPU emulates
    /// its supervisor code again (CS 0x8, every instruction ~1000x slower).
    /// </summary>
    [PvLiteFact]
    public void PvLiteGuestSnapshottedInNativeSupervisorCodeStaysNativeAfterRestore()
    {
        var state = Path.Combine(_dir, "pvl.state");
        var memory = Path.Combine(_dir, "pvl.mem");
        Assert.DoesNotContain("spun", SnapshotProbeOnceStarted("pvlitesnap", state, memory), StringComparison.Ordinal);

        var vif = VmState.Load(state).Vcpus[0].Msrs.Single(m => m.Index == Msr.PvLiteVif).Data;
        Assert.True((vif & 1) == 1, $"saved vIF MSR 0x{vif:x}");

        var console = new StringBuilder();
        using var restored = MicroVm.Restore(state, memory, new RestoreOptions { ConsoleOutput = b => console.Append((char)b) });
        restored.Start();
        var exit = restored.WaitForExit(s_timeout);
        var text = console.ToString();
        Assert.True(exit is { Kind: VmExitKind.ExitPort, Code: 1 }, $"{exit}; console: {text}");
        Assert.Contains("pvlitesnap: spun, left: 0x0\n", text, StringComparison.Ordinal);
        Assert.Contains("cs after spin: 0x33\n", text, StringComparison.Ordinal);

        // Emulated, 4,000,000 supervisor instructions take ~6e9 TSC ticks here; natively ~1e6-2e7.
        var kspin = text.Split('\n').Single(l => l.StartsWith("kspin after spin", StringComparison.Ordinal));
        var ticks = Convert.ToUInt64(kspin[(kspin.LastIndexOf(' ') + 1)..], 16);
        Assert.True(ticks < 500_000_000, $"the restored guest's supervisor code is not native: {kspin}");
    }

    /// <summary>
    /// Boots pvmprobe in <paramref name="mode"/>, waits for its "&lt;mode&gt;: started" line, lets it run 50 ms more and
    /// snapshots it into <paramref name="state"/> and <paramref name="memory"/>; returns the console up to the snapshot.
    /// </summary>
    private static string SnapshotProbeOnceStarted(string mode, string state, string memory)
    {
        var console = new StringBuilder();
        using var vm = MicroVm.Boot(new VmConfig
        {
            KernelPath = TestGuests.Build("pvmprobe"),
            MemoryMiB = 32,
            BootArgs = mode,
            ConsoleOutput = b =>
            {
                lock (console)
                {
                    console.Append((char)b);
                }
            },
        });
        vm.Start();
        var deadline = DateTime.UtcNow + s_timeout;
        while (!Snapshot(console).Contains(mode + ": started\n", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(5);
        }

        Thread.Sleep(50);
        vm.Snapshot(state, memory);
        return Snapshot(console);
    }

    private static string Snapshot(StringBuilder console)
    {
        lock (console)
        {
            return console.ToString();
        }
    }

    [KvmFact]
    public void NexusRegionIsNotInTheMemoryFileAndARestoreAttachesAPrefilledOne()
    {
        var state = Path.Combine(_dir, "nx.state");
        var memory = Path.Combine(_dir, "nx.mem");
        using (var vm = MicroVm.Boot(new VmConfig { KernelPath = TestGuests.Build("count"), MemoryMiB = 16, NexusRegionSize = 1 << 20 }))
        {
            var progress = new Progress();
            vm.IoBus.Insert(0xe9, 4, progress);
            vm.Memory.WriteU32(vm.NexusRegion!.GuestAddress, 0xdeadbeef);
            vm.Start();
            Assert.True(progress.WaitFor(1, s_timeout));
            vm.Snapshot(state, memory);
        }

        Assert.Equal(16L << 20, new FileInfo(memory).Length);

        // The backend fills a fresh region (prefetch) before the restored vCPUs start.
        var prefilled = Nexus.Interop.Memory.CreateMemfd("prefetch", 1 << 20);
        using (var backendView = Nexus.Interop.Memory.MapShared(prefilled, 1 << 20))
        {
            WriteU32(backendView, 0x1234abcd);
        }

        using var restored = MicroVm.Restore(state, memory, new RestoreOptions { NexusRegionMemfd = prefilled });
        restored.IoBus.Insert(0xe9, 4, new Progress());
        Assert.Equal(0x1234abcdu, restored.Memory.ReadU32(restored.NexusRegion!.GuestAddress));
        restored.Start();
        var exit = restored.WaitForExit(s_timeout);
        Assert.True(exit is { Kind: VmExitKind.ExitPort, Code: 1 }, exit.ToString());
    }

    [KvmFact]
    public void PauseStopsProgressAndResumeContinues()
    {
        var progress = new Progress();
        using var vm = MicroVm.Boot(new VmConfig { KernelPath = TestGuests.Build("count"), MemoryMiB = 16 });
        vm.IoBus.Insert(0xe9, 4, progress);
        vm.Start();
        Assert.True(progress.WaitFor(100, s_timeout));
        vm.Pause();
        var paused = progress.Last;

        // A guest that had already counted to its end would look paused without Pause doing anything.
        Assert.True(paused < 30000, $"the guest finished ({paused}) before Pause(): nothing was paused");
        Thread.Sleep(50);
        Assert.Equal(paused, progress.Last);
        vm.Resume();
        var exit = vm.WaitForExit(s_timeout);
        Assert.True(exit is { Kind: VmExitKind.ExitPort, Code: 1 }, exit.ToString());
        Assert.Equal(30000u, progress.Last);
        Assert.True(progress.Contiguous);
    }

    [KvmFact]
    public void DamagedStateFileIsRefused()
    {
        var state = Path.Combine(_dir, "bad.state");
        var memory = Path.Combine(_dir, "bad.mem");
        using (var vm = MicroVm.Boot(new VmConfig { KernelPath = TestGuests.Build("count"), MemoryMiB = 16 }))
        {
            var progress = new Progress();
            vm.IoBus.Insert(0xe9, 4, progress);
            vm.Start();
            Assert.True(progress.WaitFor(1, s_timeout));
            vm.Snapshot(state, memory);
        }

        var bytes = File.ReadAllBytes(state);
        bytes[100] ^= 0xff;
        File.WriteAllBytes(state, bytes);
        var e = Assert.Throws<InvalidDataException>(() => MicroVm.Restore(state, memory));
        Assert.Contains("checksum", e.Message, StringComparison.Ordinal);
    }

    [KvmFact]
    public void GuestRebootEndsTheVm()
    {
        var output = new StringBuilder();
        using var vm = MicroVm.Boot(new VmConfig { KernelPath = TestGuests.Build("reboot"), MemoryMiB = 16, ConsoleOutput = b => output.Append((char)b) });
        vm.Start();
        var exit = vm.WaitForExit(s_timeout);
        Assert.Equal(VmExitKind.Reboot, exit.Kind);
        Assert.Equal("bye", output.ToString());
    }

    private static unsafe void WriteU32(Nexus.Interop.SafeMemoryMapping mapping, uint value)
    {
        // SAFETY: the mapping is alive for this call and at least 4 bytes long.
        BinaryPrimitives.WriteUInt32LittleEndian(new Span<byte>((void*)mapping.Address, 4), value);
    }

    /// <summary>Port 0xe9: records the values the counting guest reports.</summary>
    private sealed class Progress : IBusDevice
    {
        private readonly object _lock = new();
        private uint _first;
        private uint _last;
        private bool _gap;

        public uint First
        {
            get
            {
                lock (_lock)
                {
                    return _first;
                }
            }
        }

        public uint Last
        {
            get
            {
                lock (_lock)
                {
                    return _last;
                }
            }
        }

        public bool Contiguous
        {
            get
            {
                lock (_lock)
                {
                    return !_gap;
                }
            }
        }

        public bool WaitFor(uint value, TimeSpan timeout)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (Last < value)
            {
                if (DateTime.UtcNow > deadline)
                {
                    return false;
                }

                Thread.Sleep(1);
            }

            return true;
        }

        public void Read(ulong offset, Span<byte> data) => data.Clear();

        public void Write(ulong offset, ReadOnlySpan<byte> data)
        {
            var value = BinaryPrimitives.ReadUInt32LittleEndian(data);
            lock (_lock)
            {
                if (_first == 0)
                {
                    _first = value;
                }
                else if (value != _last + 1)
                {
                    _gap = true;
                }

                _last = value;
            }
        }
    }
}
