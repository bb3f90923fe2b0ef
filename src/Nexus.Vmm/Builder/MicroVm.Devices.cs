// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Interop;
using Nexus.Vmm.Arch.X64;
using Nexus.Vmm.Devices.Nexus;
using Nexus.Vmm.Devices.Virtio;
using Nexus.Vmm.Devices.Virtio.Block;
using Nexus.Vmm.Devices.Virtio.Net;
using Nexus.Vmm.Devices.Virtio.Transport;
using Nexus.Vmm.Devices.Virtio.Vsock;
using Nexus.Vmm.VState;

namespace Nexus.Vmm.Builder;

public sealed partial class MicroVm
{
    private readonly List<MmioTransport> _transports = [];

    /// <summary>The virtio-mmio devices in slot order (slot i at 0xd0000000 + i * 4 KiB, GSI 5 + i).</summary>
    public IReadOnlyList<MmioTransport> Transports => _transports;

    /// <summary>The Nexus shared region, when configured.</summary>
    public NexusRegion? NexusRegion { get; private set; }

    /// <summary>Legacy devices, then the virtio devices in <see cref="VirtioLayout"/>'s slots, then the Nexus region.</summary>
    private void AttachDevices(SafeFd? nexusMemfd)
    {
        AttachLegacyDevices();
        foreach (var slot in VirtioLayout.Slots(Config))
        {
            switch (slot.Kind)
            {
                case VirtioSlotKind.Block:
                    var drive = Config.Drives[slot.Index];
                    var block = new VirtioBlock(drive.Path, drive.ReadOnly);
                    _owned.Add(block);
                    AttachVirtio(block, slot);
                    break;
                case VirtioSlotKind.Net:
                    var netConfig = Config.Net!;
                    var tap = Tap.Open(netConfig.TapName, netConfig.NetnsPath);
                    VirtioNet net;
                    try
                    {
                        net = new VirtioNet(tap, netConfig.Mac ?? VirtioNet.RandomMac(), DeviceEvents);
                    }
                    catch
                    {
                        tap.Dispose();
                        throw;
                    }

                    _owned.Add(net);
                    net.Bind(AttachVirtio(net, slot));
                    break;
                case VirtioSlotKind.Vsock:
                    var vsockConfig = Config.Vsock!;
                    var vsock = new VirtioVsock(vsockConfig.GuestCid, vsockConfig.UdsPath, DeviceEvents);
                    _owned.Add(vsock);
                    vsock.Bind(AttachVirtio(vsock, slot));
                    break;
            }
        }

        if (Config.NexusRegionSize > 0)
        {
            AttachNexusRegion(nexusMemfd);
        }
    }

    private MmioTransport AttachVirtio(IVirtioDevice device, VirtioSlot slot)
    {
        var (address, gsi) = (slot.Address, slot.Gsi);
        var irq = EventFd.Create();
        _owned.Add(irq);
        Vm.RegisterIrqfd(irq, gsi);
        var transport = new MmioTransport(device, Memory, new VirtioInterrupt(() => irq.Signal()));
        MmioBus.Insert(address, Layout.VirtioMmioSlot, transport);
        _transports.Add(transport);

        // QueueNotify writes become eventfd signals inside KVM (one per queue, matched on the queue index), so
        // queues are processed on the device thread and a notify costs the vCPU no exit to this process.
        for (var q = 0; q < device.Queues.Count; q++)
        {
            var index = q;
            var notify = EventFd.Create(flags: EventFdFlags.NonBlocking | EventFdFlags.CloseOnExec);
            _owned.Add(notify);
            Vm.RegisterIoeventfd(notify, address + MmioTransport.QueueNotifyOffset, 4, datamatch: (ulong)index);
            DeviceEvents.Add(notify.Handle, PollEvents.Readable, _ =>
            {
                if (notify.TryRead(out ulong _))
                {
                    transport.Notify(index);
                }
            });
        }

        return transport;
    }

    /// <summary>
    /// Maps the region as its own slot. The region and its doorbells come from <see cref="VmConfig.NexusChannel"/> (the
    /// node's channel), or <paramref name="memfd"/> lets a restore attach a region the backend already filled
    /// (prefetch); otherwise a fresh zeroed memfd and new eventfds are made.
    /// </summary>
    private void AttachNexusRegion(SafeFd? memfd)
    {
        var size = Config.NexusRegionSize;
        var channel = Config.NexusChannel;
        memfd = channel?.Region ?? memfd;
        var region = memfd is null
            ? GuestMemory.SharedMemfd("nexus-region", Layout.NexusRegionStart, size)
            : GuestMemory.SharedFile(memfd, Layout.NexusRegionStart, size);
        AddRegion(region);
        var doorbell = channel?.Doorbell ?? EventFd.Create();
        var interrupt = channel?.Interrupt ?? EventFd.Create();
        NexusRegion = new NexusRegion(region, doorbell, interrupt, Layout.NexusDoorbell, Layout.NexusGsi);
        _owned.Add(NexusRegion);
        Vm.RegisterIoeventfd(doorbell, Layout.NexusDoorbell, 4);
        Vm.RegisterIrqfd(interrupt, Layout.NexusGsi);
    }
}
