// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.InteropServices;
using Nexus.Interop;

namespace Nexus.Vmm.VState;

/// <summary>A vCPU fd with its shared kvm_run page, and typed access to its architectural state.</summary>
public sealed partial class Vcpu : IDisposable
{
    private readonly SafeMemoryMapping _run;

    internal Vcpu(Vm vm, int index)
    {
        Index = index;
        Fd = vm.CreateVcpu(index);
        _run = Memory.Map(Fd, vm.Kvm.VcpuMmapSize, MemoryProtection.ReadWrite, MapFlags.Shared);
    }

    public int Index { get; }

    public SafeFd Fd { get; }

    public KvmRegs GetRegs() => Get<KvmRegs>(KvmIoctl.KVM_GET_REGS, "KVM_GET_REGS");

    public void SetRegs(KvmRegs regs) => Set(KvmIoctl.KVM_SET_REGS, regs, "KVM_SET_REGS");

    public KvmSregs GetSregs() => Get<KvmSregs>(KvmIoctl.KVM_GET_SREGS, "KVM_GET_SREGS");

    public void SetSregs(KvmSregs sregs) => Set(KvmIoctl.KVM_SET_SREGS, sregs, "KVM_SET_SREGS");

    public KvmFpu GetFpu() => Get<KvmFpu>(KvmIoctl.KVM_GET_FPU, "KVM_GET_FPU");

    public void SetFpu(KvmFpu fpu) => Set(KvmIoctl.KVM_SET_FPU, fpu, "KVM_SET_FPU");

    public KvmLapicState GetLapic() => Get<KvmLapicState>(KvmIoctl.KVM_GET_LAPIC, "KVM_GET_LAPIC");

    public void SetLapic(KvmLapicState lapic) => Set(KvmIoctl.KVM_SET_LAPIC, lapic, "KVM_SET_LAPIC");

    public KvmXsave GetXsave() => Get<KvmXsave>(KvmIoctl.KVM_GET_XSAVE, "KVM_GET_XSAVE");

    public void SetXsave(KvmXsave xsave) => Set(KvmIoctl.KVM_SET_XSAVE, xsave, "KVM_SET_XSAVE");

    public KvmXcrs GetXcrs() => Get<KvmXcrs>(KvmIoctl.KVM_GET_XCRS, "KVM_GET_XCRS");

    public void SetXcrs(KvmXcrs xcrs) => Set(KvmIoctl.KVM_SET_XCRS, xcrs, "KVM_SET_XCRS");

    public KvmDebugregs GetDebugregs() => Get<KvmDebugregs>(KvmIoctl.KVM_GET_DEBUGREGS, "KVM_GET_DEBUGREGS");

    public void SetDebugregs(KvmDebugregs regs) => Set(KvmIoctl.KVM_SET_DEBUGREGS, regs, "KVM_SET_DEBUGREGS");

    public KvmMpState GetMpState() => Get<KvmMpState>(KvmIoctl.KVM_GET_MP_STATE, "KVM_GET_MP_STATE");

    public void SetMpState(KvmMpState state) => Set(KvmIoctl.KVM_SET_MP_STATE, state, "KVM_SET_MP_STATE");

    public KvmVcpuEvents GetEvents() => Get<KvmVcpuEvents>(KvmIoctl.KVM_GET_VCPU_EVENTS, "KVM_GET_VCPU_EVENTS");

    public void SetEvents(KvmVcpuEvents events) => Set(KvmIoctl.KVM_SET_VCPU_EVENTS, events, "KVM_SET_VCPU_EVENTS");

    public void SetCpuid(ReadOnlySpan<KvmCpuidEntry2> entries) =>
        SetList(KvmIoctl.KVM_SET_CPUID2, entries, "KVM_SET_CPUID2");

    /// <summary>KVM_GET_CPUID2: what the vCPU really has (saved in snapshots instead of a cached copy).</summary>
    public KvmCpuidEntry2[] GetCpuid()
    {
        const int Max = 256;
        var entrySize = Marshal.SizeOf<KvmCpuidEntry2>();
        var buffer = new byte[8 + (Max * entrySize)];
        MemoryMarshal.Write(buffer, new KvmListHeader { Count = Max });
        KvmCall.Buffer(Fd, KvmIoctl.KVM_GET_CPUID2, buffer, "KVM_GET_CPUID2");
        var n = (int)MemoryMarshal.Read<KvmListHeader>(buffer).Count;
        return MemoryMarshal.Cast<byte, KvmCpuidEntry2>(buffer.AsSpan(8, n * entrySize)).ToArray();
    }

    /// <summary>Reads the given MSRs; KVM stops at the first one it cannot read, which is reported.</summary>
    public KvmMsrEntry[] GetMsrs(ReadOnlySpan<uint> indices)
    {
        var entries = new KvmMsrEntry[indices.Length];
        for (var i = 0; i < indices.Length; i++)
        {
            entries[i].Index = indices[i];
        }

        var buffer = ListBuffer<KvmMsrEntry>(entries);
        var n = KvmCall.Buffer(Fd, KvmIoctl.KVM_GET_MSRS, buffer, "KVM_GET_MSRS");
        if (n < indices.Length)
        {
            throw new InvalidOperationException($"KVM_GET_MSRS read {n} of {indices.Length} MSRs; MSR 0x{indices[n]:x} is not readable");
        }

        return MemoryMarshal.Cast<byte, KvmMsrEntry>(buffer.AsSpan(8)).ToArray();
    }

    public void SetMsrs(ReadOnlySpan<KvmMsrEntry> entries)
    {
        var buffer = ListBuffer(entries);
        var n = KvmCall.Buffer(Fd, KvmIoctl.KVM_SET_MSRS, buffer, "KVM_SET_MSRS");
        if (n < entries.Length)
        {
            throw new InvalidOperationException($"KVM_SET_MSRS wrote {n} of {entries.Length} MSRs; MSR 0x{entries[n].Index:x} was refused");
        }
    }

    public void Dispose()
    {
        _run.Dispose();
        Fd.Dispose();
    }

    private static byte[] ListBuffer<T>(ReadOnlySpan<T> entries)
        where T : unmanaged
    {
        var bytes = MemoryMarshal.AsBytes(entries);
        var buffer = new byte[8 + bytes.Length];
        MemoryMarshal.Write(buffer, new KvmListHeader { Count = (uint)entries.Length });
        bytes.CopyTo(buffer.AsSpan(8));
        return buffer;
    }

    private T Get<T>(uint request, string name)
        where T : unmanaged
    {
        var value = default(T);
        KvmCall.Ref(Fd, request, ref value, name);
        return value;
    }

    private void Set<T>(uint request, T value, string name)
        where T : unmanaged => KvmCall.Ref(Fd, request, ref value, name);

    private void SetList<T>(uint request, ReadOnlySpan<T> entries, string name)
        where T : unmanaged => KvmCall.Buffer(Fd, request, ListBuffer(entries), name);
}
