// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Nexus.Interop;
using Nexus.Testing;

namespace Nexus.Vmm.Tests;

/// <summary>Every KVM ioctl number, constant, struct size and key offset in Nexus.Interop against linux/kvm.h.</summary>
public sealed class KvmAbiTests
{
    private static readonly Lazy<Dictionary<string, ulong>> s_header = new(() =>
        TestGuests.CompileAndRun(Path.Combine(AppContext.BaseDirectory, "Native", "kvm_abi.c"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' '))
            .ToDictionary(p => p[0], p => ulong.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture)));

    public static TheoryData<string> IoctlNames()
    {
        var data = new TheoryData<string>();
        foreach (var f in typeof(KvmIoctl).GetFields())
        {
            data.Add(f.Name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(IoctlNames))]
    public void IoctlNumberMatchesHeader(string name)
    {
        var value = (uint)typeof(KvmIoctl).GetField(name)!.GetValue(null)!;
        Assert.Equal(s_header.Value[name], value);
    }

    [Fact]
    public void ExitReasonsAndCapabilitiesMatchHeader()
    {
        foreach (var type in new[] { typeof(KvmExit), typeof(KvmCap) })
        {
            foreach (var f in type.GetFields())
            {
                Assert.True(s_header.Value.ContainsKey(f.Name), $"{f.Name} is not printed by kvm_abi.c");
                Assert.Equal(s_header.Value[f.Name], Convert.ToUInt64(f.GetValue(null), System.Globalization.CultureInfo.InvariantCulture));
            }
        }
    }

    [Fact]
    public void StructSizesMatchHeader()
    {
        var sizes = new (string C, int Managed)[]
        {
            ("kvm_regs", Unsafe.SizeOf<KvmRegs>()), ("kvm_sregs", Unsafe.SizeOf<KvmSregs>()),
            ("kvm_segment", Unsafe.SizeOf<KvmSegment>()), ("kvm_dtable", Unsafe.SizeOf<KvmDtable>()),
            ("kvm_fpu", Unsafe.SizeOf<KvmFpu>()), ("kvm_lapic_state", Unsafe.SizeOf<KvmLapicState>()),
            ("kvm_xsave", Unsafe.SizeOf<KvmXsave>()), ("kvm_xcrs", Unsafe.SizeOf<KvmXcrs>()),
            ("kvm_debugregs", Unsafe.SizeOf<KvmDebugregs>()), ("kvm_vcpu_events", Unsafe.SizeOf<KvmVcpuEvents>()),
            ("kvm_mp_state", Unsafe.SizeOf<KvmMpState>()), ("kvm_clock_data", Unsafe.SizeOf<KvmClockData>()),
            ("kvm_pit_state2", Unsafe.SizeOf<KvmPitState2>()), ("kvm_irqchip", Unsafe.SizeOf<KvmIrqchip>()),
            ("kvm_pit_config", Unsafe.SizeOf<KvmPitConfig>()),
            ("kvm_userspace_memory_region", Unsafe.SizeOf<KvmUserspaceMemoryRegion>()),
            ("kvm_irqfd", Unsafe.SizeOf<KvmIrqfd>()), ("kvm_ioeventfd", Unsafe.SizeOf<KvmIoeventfd>()),
            ("kvm_cpuid_entry2", Unsafe.SizeOf<KvmCpuidEntry2>()), ("kvm_cpuid2", Unsafe.SizeOf<KvmListHeader>()),
            ("kvm_msrs", Unsafe.SizeOf<KvmListHeader>()), ("kvm_msr_entry", Unsafe.SizeOf<KvmMsrEntry>()),
            ("kvm_run", KvmRunLayout.Size),
        };
        foreach (var (c, managed) in sizes)
        {
            Assert.True(s_header.Value[$"sizeof_{c}"] == (ulong)managed, $"sizeof(struct {c}) is {s_header.Value[$"sizeof_{c}"]}, C# has {managed}");
        }
    }

    [Fact]
    public void FieldOffsetsMatchHeader()
    {
        var offsets = new (string C, int Managed)[]
        {
            ("kvm_regs_rip", Offset<KvmRegs>(nameof(KvmRegs.Rip))), ("kvm_regs_rflags", Offset<KvmRegs>(nameof(KvmRegs.Rflags))),
            ("kvm_sregs_gdt", Offset<KvmSregs>(nameof(KvmSregs.Gdt))), ("kvm_sregs_cr0", Offset<KvmSregs>(nameof(KvmSregs.Cr0))),
            ("kvm_sregs_efer", Offset<KvmSregs>(nameof(KvmSregs.Efer))), ("kvm_sregs_apic_base", Offset<KvmSregs>(nameof(KvmSregs.ApicBase))),
            ("kvm_segment_selector", Offset<KvmSegment>(nameof(KvmSegment.Selector))), ("kvm_segment_unusable", Offset<KvmSegment>(nameof(KvmSegment.Unusable))),
            ("kvm_fpu_fcw", Offset<KvmFpu>(nameof(KvmFpu.Fcw))), ("kvm_fpu_xmm", Offset<KvmFpu>(nameof(KvmFpu.Xmm))),
            ("kvm_fpu_mxcsr", Offset<KvmFpu>(nameof(KvmFpu.Mxcsr))), ("kvm_clock_data_flags", Offset<KvmClockData>(nameof(KvmClockData.Flags))),
            ("kvm_ioeventfd_len", Offset<KvmIoeventfd>(nameof(KvmIoeventfd.Len))), ("kvm_ioeventfd_fd", Offset<KvmIoeventfd>(nameof(KvmIoeventfd.Fd))),
            ("kvm_ioeventfd_flags", Offset<KvmIoeventfd>(nameof(KvmIoeventfd.Flags))),
            ("kvm_userspace_memory_region_userspace_addr", Offset<KvmUserspaceMemoryRegion>(nameof(KvmUserspaceMemoryRegion.UserspaceAddr))),
            ("kvm_irqfd_flags", Offset<KvmIrqfd>(nameof(KvmIrqfd.Flags))),
            ("kvm_run_immediate_exit", KvmRunLayout.ImmediateExit), ("kvm_run_exit_reason", KvmRunLayout.ExitReason),
            ("kvm_run_io", KvmRunLayout.IoDirection), ("kvm_run_io_port", KvmRunLayout.IoPort),
            ("kvm_run_io_data_offset", KvmRunLayout.IoDataOffset), ("kvm_run_mmio", KvmRunLayout.MmioPhysAddr),
            ("kvm_run_mmio_len", KvmRunLayout.MmioLen), ("kvm_run_mmio_is_write", KvmRunLayout.MmioIsWrite),
            ("kvm_run_internal", KvmRunLayout.InternalSuberror), ("kvm_run_internal_data", KvmRunLayout.InternalData),
            ("kvm_run_system_event", KvmRunLayout.SystemEventType), ("kvm_run_fail_entry", KvmRunLayout.FailEntryReason),
        };
        foreach (var (c, managed) in offsets)
        {
            Assert.True(s_header.Value[$"offsetof_{c}"] == (ulong)managed, $"offsetof {c} is {s_header.Value[$"offsetof_{c}"]}, C# has {managed}");
        }
    }

    private static int Offset<T>(string field) => (int)Marshal.OffsetOf<T>(field);
}
