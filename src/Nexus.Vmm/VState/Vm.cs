// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Interop;

namespace Nexus.Vmm.VState;

/// <summary>A KVM VM fd: memory slots, in-kernel irqchip and PIT, eventfd wiring, VM-wide state.</summary>
public sealed class Vm : IDisposable
{
    private readonly List<SafeFd> _vcpuFds = [];
    private uint _nextSlot;

    public Vm(KvmSystem kvm)
    {
        Kvm = kvm;
        Fd = kvm.CreateVm();
    }

    public KvmSystem Kvm { get; }

    public SafeFd Fd { get; }

    /// <summary>Registers a region as the next memory slot; returns the slot number.</summary>
    public uint AddMemorySlot(GuestRegion region, bool readOnly = false)
    {
        var slot = _nextSlot++;
        var added = false;
        try
        {
            region.Mapping.DangerousAddRef(ref added);
            var entry = new KvmUserspaceMemoryRegion
            {
                Slot = slot,
                Flags = readOnly ? KvmCap.KVM_MEM_READONLY : 0,
                GuestPhysAddr = region.GuestAddress,
                MemorySize = region.Size,
                UserspaceAddr = (ulong)region.Mapping.Address,
            };
            KvmCall.Ref(Fd, KvmIoctl.KVM_SET_USER_MEMORY_REGION, ref entry, "KVM_SET_USER_MEMORY_REGION");
        }
        finally
        {
            // The slot keeps using the mapping; the GuestMemory owner unmaps it only after the VM fd is closed.
            if (added)
            {
                region.Mapping.DangerousRelease();
            }
        }

        return slot;
    }

    /// <summary>TSS, in-kernel irqchip (PIC + IOAPIC + LAPICs), PIT: in this order, before any vCPU exists.</summary>
    public void SetupInterruptController(ulong tssAddress)
    {
        KvmCall.Value(Fd, KvmIoctl.KVM_SET_TSS_ADDR, (nint)tssAddress, "KVM_SET_TSS_ADDR");
        KvmCall.Value(Fd, KvmIoctl.KVM_CREATE_IRQCHIP, 0, "KVM_CREATE_IRQCHIP");
        var pit = new KvmPitConfig { Flags = KvmCap.KVM_PIT_SPEAKER_DUMMY };
        KvmCall.Ref(Fd, KvmIoctl.KVM_CREATE_PIT2, ref pit, "KVM_CREATE_PIT2");
    }

    public SafeFd CreateVcpu(int index)
    {
        var fd = new SafeFd(KvmCall.Value(Fd, KvmIoctl.KVM_CREATE_VCPU, index, "KVM_CREATE_VCPU"));
        _vcpuFds.Add(fd);
        return fd;
    }

    /// <summary>Makes every signal of <paramref name="eventFd"/> raise an edge on <paramref name="gsi"/> inside KVM.</summary>
    public void RegisterIrqfd(EventFd eventFd, uint gsi)
    {
        var irqfd = new KvmIrqfd { Fd = (uint)eventFd.Handle.Fd, Gsi = gsi };
        KvmCall.Ref(Fd, KvmIoctl.KVM_IRQFD, ref irqfd, "KVM_IRQFD");
    }

    /// <summary>
    /// Makes a guest write of <paramref name="length"/> bytes at MMIO <paramref name="address"/> signal
    /// <paramref name="eventFd"/> inside KVM, with no exit to this process.
    /// </summary>
    public void RegisterIoeventfd(EventFd eventFd, ulong address, uint length, ulong? datamatch = null)
    {
        var ioeventfd = new KvmIoeventfd
        {
            Addr = address,
            Len = length,
            Fd = eventFd.Handle.Fd,
            Datamatch = datamatch ?? 0,
            Flags = datamatch.HasValue ? KvmCap.KVM_IOEVENTFD_FLAG_DATAMATCH : 0,
        };
        KvmCall.Ref(Fd, KvmIoctl.KVM_IOEVENTFD, ref ioeventfd, "KVM_IOEVENTFD");
    }

    public KvmClockData GetClock()
    {
        var clock = default(KvmClockData);
        KvmCall.Ref(Fd, KvmIoctl.KVM_GET_CLOCK, ref clock, "KVM_GET_CLOCK");
        return clock;
    }

    public void SetClock(KvmClockData clock)
    {
        // KVM_SET_CLOCK rejects TSC_STABLE; flags 0 keeps guest monotonic time continuous.
        clock.Flags = 0;
        KvmCall.Ref(Fd, KvmIoctl.KVM_SET_CLOCK, ref clock, "KVM_SET_CLOCK");
    }

    public KvmPitState2 GetPit()
    {
        var pit = default(KvmPitState2);
        KvmCall.Ref(Fd, KvmIoctl.KVM_GET_PIT2, ref pit, "KVM_GET_PIT2");
        return pit;
    }

    public void SetPit(KvmPitState2 pit) => KvmCall.Ref(Fd, KvmIoctl.KVM_SET_PIT2, ref pit, "KVM_SET_PIT2");

    public KvmIrqchip GetIrqchip(uint chipId)
    {
        var chip = new KvmIrqchip { ChipId = chipId };
        KvmCall.Ref(Fd, KvmIoctl.KVM_GET_IRQCHIP, ref chip, "KVM_GET_IRQCHIP");
        return chip;
    }

    public void SetIrqchip(KvmIrqchip chip) => KvmCall.Ref(Fd, KvmIoctl.KVM_SET_IRQCHIP, ref chip, "KVM_SET_IRQCHIP");

    public void Dispose()
    {
        foreach (var fd in _vcpuFds)
        {
            fd.Dispose();
        }

        Fd.Dispose();
    }
}
