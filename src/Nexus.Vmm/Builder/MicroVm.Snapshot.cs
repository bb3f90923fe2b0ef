// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Interop;
using Nexus.Vmm.Arch.X64;
using Nexus.Vmm.Devices.Virtio.Net;
using Nexus.Vmm.Devices.Virtio.Transport;
using Nexus.Vmm.Devices.Virtio.Vsock;
using Nexus.Vmm.Snapshot;
using Nexus.Vmm.VState;

namespace Nexus.Vmm.Builder;

/// <summary>Options for <see cref="MicroVm.Restore"/>.</summary>
public sealed class RestoreOptions
{
    public Action<byte>? ConsoleOutput { get; init; }

    /// <summary>
    /// A memfd for the Nexus region that the backend may already have filled (prefetch); the VM takes
    /// ownership. Null: a fresh zeroed region. The region is never part of the memory file.
    /// </summary>
    public SafeFd? NexusRegionMemfd { get; init; }

    /// <summary>
    /// The whole Nexus channel from outside (region memfd and both doorbells, as <see cref="VmConfig.NexusChannel"/>);
    /// takes precedence over <see cref="NexusRegionMemfd"/>. Its region must have the snapshot's region size.
    /// </summary>
    public NexusChannelFds? NexusChannel { get; init; }

    /// <summary>
    /// Where the restored VM's vsock device listens (a new path: the snapshotted VM may still hold its own). Required
    /// when the snapshot has a vsock device.
    /// </summary>
    public string? VsockUdsPath { get; init; }

    /// <summary>
    /// The TAP the restored VM's virtio-net device attaches to (each restored VM needs its own). Required when the
    /// snapshot has a network device; the guest keeps the MAC it was snapshotted with.
    /// </summary>
    public string? TapName { get; init; }

    /// <summary>The network namespace to open <see cref="TapName"/> in; null: the VMM's own.</summary>
    public string? NetnsPath { get; init; }

    /// <summary>Confine the vCPU and device threads with seccomp, as <see cref="VmConfig.Seccomp"/>.</summary>
    public bool Seccomp { get; init; } = true;

    /// <summary>
    /// Where the snapshot's drives are now (in slot order; as many as it has, each as read-only as it was): an instance
    /// opens its own links of the disks, or the same files at its jail's paths. Null: the paths the snapshot saved.
    /// </summary>
    public IReadOnlyList<DriveConfig>? Drives { get; init; }
}

public sealed partial class MicroVm
{
    private const int PageSize = 4096;

    /// <summary>
    /// Pauses the VM and writes its state and its RAM (not the Nexus region). All-zero pages are left
    /// as holes, so the memory file is sparse. The VM stays paused; Resume or Dispose it.
    /// </summary>
    public void Snapshot(string statePath, string memoryPath)
    {
        Pause();
        if (Control.IsStopping)
        {
            throw new InvalidOperationException($"cannot snapshot a stopped VM ({Control.Exited.Result})");
        }

        // Open vsock streams cannot be carried into another VM: like Firecracker, end them and queue a
        // TRANSPORT_RESET event, which is then part of the saved memory, so the restored guest learns of it.
        foreach (var t in _transports.Where(t => t.Device is VirtioVsock))
        {
            t.RunDeviceWork(((VirtioVsock)t.Device).ResetTransport);
        }

        var state = new VmState
        {
            MemoryMiB = Config.MemoryMiB,
            SoftwareKvm = SoftwareKvm,
            NexusRegionSize = Config.NexusRegionSize,
            VsockCid = Config.Vsock?.GuestCid,
            NetMac = _transports.Select(t => t.Device).OfType<VirtioNet>().FirstOrDefault()?.Mac.ToArray(),
        };
        state.Drives.AddRange(Config.Drives.Select(d => (Path.GetFullPath(d.Path), d.ReadOnly)));
        var msrs = Kvm.MsrIndexList().Where(Msr.ShouldSave).Append(Msr.PvLiteVif).Distinct().ToArray();
        foreach (var vcpu in _vcpus)
        {
            state.Vcpus.Add(vcpu.SaveState(msrs));
        }

        state.Pit = Vm.GetPit();
        state.Clock = Vm.GetClock();
        state.Irqchips = [Vm.GetIrqchip(KvmIrqchip.PicMaster), Vm.GetIrqchip(KvmIrqchip.PicSlave), Vm.GetIrqchip(KvmIrqchip.Ioapic)];
        foreach (var t in _transports)
        {
            state.Devices.Add(new DeviceState(
                t.Device.DeviceType,
                t.DeviceStatus,
                t.AckedFeatures,
                t.Interrupt.Status,
                [.. t.Device.Queues.Select(q => new QueueState(q.Size, q.Ready, q.DescTable, q.AvailRing, q.UsedRing, q.NextAvail, q.NextUsed))]));
        }

        using (var file = new FileStream(memoryPath, FileMode.Create, FileAccess.Write))
        {
            var offset = 0L;
            foreach (var region in Memory.Regions.Where(r => r.GuestAddress != Layout.NexusRegionStart))
            {
                state.Memory.Add(new MemoryRegionState(region.GuestAddress, region.Size, offset));
                WriteNonZeroPages(file, region, offset);
                offset += (long)region.Size;
            }

            file.SetLength(offset);
            file.Flush(flushToDisk: true);
        }

        state.Save(statePath);
    }

    /// <summary>
    /// kvm_pvm keeps its own mapping of a registered pv-lite vIF page, taken when the MSR is written. Restored RAM is a
    /// private file mapping, where a page the guest has not written yet is the file's page-cache page; the guest's
    /// first write would move it to a private copy and leave the host reading the stale one (a restored runtime guest
    /// never saw its channel's interrupt). Writing the page first makes it the private copy before the MSR is set.
    /// The guest chose the address: only a page of the restored RAM is touched (the Nexus region is shared with the
    /// backend, which may be filling it, and is not a private mapping); anywhere else KVM_SET_MSRS decides.
    /// </summary>
    private void TouchPvLiteVifPage(VcpuState vcpu)
    {
        var vif = Array.Find(vcpu.Msrs, m => m.Index == Msr.PvLiteVif).Data;
        var page = vif & ~0xfffUL;
        if (vif != 0 && Memory.Regions.Any(r => r.GuestAddress != Layout.NexusRegionStart && page >= r.GuestAddress && page - r.GuestAddress < r.Size))
        {
            Memory.WriteU8(page, Memory.ReadU8(page));
        }
    }

    /// <summary>
    /// Builds a VM from a snapshot, paused: RAM is the memory file mapped MAP_PRIVATE (pages load on
    /// first touch, guest writes stay private), vCPU, VM and device state restored in KVM's order.
    /// Call <see cref="Start"/> to run it.
    /// </summary>
    public static MicroVm Restore(string statePath, string memoryPath, RestoreOptions? options = null, KvmSystem? kvm = null)
    {
        options ??= new RestoreOptions();
        var state = VmState.Load(statePath);
        if (state.VsockCid is not null && options.VsockUdsPath is null)
        {
            throw new ArgumentException($"{statePath}: the snapshot has a vsock device; RestoreOptions.VsockUdsPath must name the socket path for the restored VM", nameof(options));
        }

        if (state.NetMac is not null && options.TapName is null)
        {
            throw new ArgumentException($"{statePath}: the snapshot has a network device; RestoreOptions.TapName must name the TAP for the restored VM", nameof(options));
        }

        if (options.NexusChannel is { } channel && Nexus.Interop.Memory.Length(channel.Region) != (long)state.NexusRegionSize)
        {
            throw new ArgumentException($"{statePath}: the snapshot's Nexus region is {state.NexusRegionSize} bytes, the channel's region {Nexus.Interop.Memory.Length(channel.Region)}", nameof(options));
        }

        var drives = state.Drives.Select(d => new DriveConfig(d.Path, d.ReadOnly)).ToList();
        if (options.Drives is { } given)
        {
            if (given.Count != drives.Count || given.Where((d, i) => d.ReadOnly != drives[i].ReadOnly).Any())
            {
                throw new ArgumentException(
                    $"{statePath}: the snapshot has {Describe(drives)}; the restore names {Describe(given)} (the same number, each as read-only as it was)", nameof(options));
            }

            drives = [.. given];
        }

        var config = new VmConfig
        {
            KernelPath = statePath,
            MemoryMiB = state.MemoryMiB,
            Vcpus = state.Vcpus.Count,
            Drives = drives,
            NexusRegionSize = state.NexusRegionSize,
            NexusChannel = options.NexusChannel,
            ConsoleOutput = options.ConsoleOutput,
            SoftwareKvmProfile = state.SoftwareKvm,
            BootArgs = string.Empty,
            Seccomp = options.Seccomp,
            Vsock = state.VsockCid is { } cid ? new VsockConfig(cid, options.VsockUdsPath!) : null,
            Net = state.NetMac is { } mac ? new NetConfig(options.TapName!, mac, options.NetnsPath) : null,
        };
        var ownsKvm = kvm is null;
        kvm ??= new KvmSystem();
        var vm = new MicroVm(config, kvm, System.Diagnostics.Stopwatch.GetTimestamp());
        if (ownsKvm)
        {
            vm._owned.Add(kvm);
        }

        try
        {
            using (var file = File.OpenHandle(memoryPath, FileMode.Open, FileAccess.Read))
            {
                var expected = state.Memory.Aggregate(0L, (sum, m) => sum + (long)m.Size);
                if (RandomAccess.GetLength(file) < expected)
                {
                    throw new InvalidDataException($"{memoryPath}: memory file has {RandomAccess.GetLength(file)} bytes, the snapshot needs {expected}");
                }

                var fd = new SafeFd((int)file.DangerousGetHandle(), ownsHandle: false);
                foreach (var m in state.Memory)
                {
                    vm.AddRegion(GuestMemory.PrivateFile(fd, m.FileOffset, m.GuestAddress, m.Size));
                }
            }

            vm.CreateMachine();
            vm.AttachDevices(options.NexusRegionMemfd);
            if (vm._transports.Count != state.Devices.Count)
            {
                throw new InvalidDataException($"{statePath}: snapshot has {state.Devices.Count} virtio devices, the restored VM {vm._transports.Count}");
            }

            for (var i = 0; i < vm._vcpus.Count; i++)
            {
                vm.TouchPvLiteVifPage(state.Vcpus[i]);
                vm._vcpus[i].RestoreState(state.Vcpus[i]);
            }

            vm.Vm.SetPit(state.Pit);
            vm.Vm.SetClock(state.Clock);
            foreach (var chip in state.Irqchips)
            {
                vm.Vm.SetIrqchip(chip);
            }

            for (var i = 0; i < state.Devices.Count; i++)
            {
                RestoreDevice(vm._transports[i], state.Devices[i], statePath);
            }

            return vm;
        }
        catch
        {
            vm.Dispose();
            throw;
        }
    }

    private static string Describe(IReadOnlyList<DriveConfig> drives) =>
        drives.Count == 0 ? "no drives" : $"{drives.Count} drive(s) ({string.Join(", ", drives.Select(d => d.ReadOnly ? "read-only" : "read-write"))})";

    private static void RestoreDevice(MmioTransport transport, DeviceState saved, string statePath)
    {
        var queues = transport.Device.Queues;
        if (saved.DeviceType != transport.Device.DeviceType || saved.Queues.Length != queues.Count)
        {
            throw new InvalidDataException($"{statePath}: saved device type {saved.DeviceType} does not match type {transport.Device.DeviceType}");
        }

        for (var q = 0; q < queues.Count; q++)
        {
            var s = saved.Queues[q];
            (queues[q].Size, queues[q].Ready, queues[q].DescTable, queues[q].AvailRing, queues[q].UsedRing, queues[q].NextAvail, queues[q].NextUsed) =
                (s.Size, s.Ready, s.DescTable, s.AvailRing, s.UsedRing, s.NextAvail, s.NextUsed);
        }

        transport.Restore(saved.Status, saved.AckedFeatures, saved.InterruptStatus);
    }

    private static void WriteNonZeroPages(FileStream file, GuestRegion region, long fileOffset)
    {
        const int Chunk = 1 << 20;
        for (var done = 0UL; done < region.Size; done += Chunk)
        {
            var length = (int)Math.Min(Chunk, region.Size - done);
            var chunk = GuestSpan(region, done, length);
            for (var page = 0; page < length; page += PageSize)
            {
                var bytes = chunk.Slice(page, Math.Min(PageSize, length - page));
                if (bytes.ContainsAnyExcept((byte)0))
                {
                    RandomAccess.Write(file.SafeFileHandle, bytes, fileOffset + (long)done + page);
                }
            }
        }
    }

    private static unsafe ReadOnlySpan<byte> GuestSpan(GuestRegion region, ulong offset, int length)
    {
        // SAFETY: offset + length <= region.Size (checked by the caller's loop) and the VM is paused,
        // so the mapping is alive and no vCPU writes while the bytes are copied.
        return new ReadOnlySpan<byte>((byte*)region.Mapping.Address + offset, length);
    }
}
