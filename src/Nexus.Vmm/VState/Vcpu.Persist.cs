// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.InteropServices;
using Nexus.Interop;
using Nexus.Vmm.Arch.X64;
using Nexus.Vmm.Snapshot;

namespace Nexus.Vmm.VState;

public sealed partial class Vcpu
{
    private const uint MsrTsc = 0x10;

    /// <summary>
    /// Saves the vCPU (it must be parked). MP state first (it may update LAPIC state), events last,
    /// MSRs that KVM lists but refuses to read are skipped.
    /// </summary>
    public VcpuState SaveState(IReadOnlyList<uint> msrIndices)
    {
        var state = new VcpuState
        {
            MpState = GetMpState(),
            Regs = GetRegs(),
            Sregs = GetSregs(),
            Xsave = GetXsave(),
            Xcrs = GetXcrs(),
            Debugregs = GetDebugregs(),
            Lapic = GetLapic(),
            Cpuid = GetCpuid(),
            Msrs = ReadableMsrs(msrIndices),
        };
        state.Events = GetEvents();

        // A zero TSC deadline restored as zero leaves the guest without timer interrupts (Firecracker PR 4618).
        var tsc = Array.Find(state.Msrs, m => m.Index == MsrTsc);
        for (var i = 0; i < state.Msrs.Length; i++)
        {
            if (state.Msrs[i].Index == Msr.TscDeadline && state.Msrs[i].Data == 0)
            {
                state.Msrs[i].Data = tsc.Data;
            }
        }

        return state;
    }

    /// <summary>
    /// Restores in the order KVM needs: CPUID, MP state, REGS before EVENTS, SREGS before LAPIC (APIC
    /// base), LAPIC before MSRs, and the TSC deadline MSR after all others.
    /// </summary>
    public void RestoreState(VcpuState state)
    {
        SetCpuid(state.Cpuid);
        SetMpState(state.MpState);
        SetRegs(state.Regs);
        SetSregs(state.Sregs);
        SetXsave(state.Xsave);
        SetXcrs(state.Xcrs);
        SetDebugregs(state.Debugregs);
        SetLapic(state.Lapic);
        // An unregistered vIF (0) is a fresh vCPU's state already; a host-side write of it is not needed.
        SetMsrs(state.Msrs.Where(m => m.Index != Msr.TscDeadline && !(m.Index == Msr.PvLiteVif && m.Data == 0)).ToArray());
        SetMsrs(state.Msrs.Where(m => m.Index == Msr.TscDeadline).ToArray());
        SetEvents(state.Events);
    }

    private KvmMsrEntry[] ReadableMsrs(IReadOnlyList<uint> indices)
    {
        var result = new List<KvmMsrEntry>(indices.Count);
        var pending = indices.ToList();
        while (pending.Count > 0)
        {
            var entries = pending.Select(i => new KvmMsrEntry { Index = i }).ToArray();
            var buffer = ListBuffer<KvmMsrEntry>(entries);
            var n = KvmCall.Buffer(Fd, KvmIoctl.KVM_GET_MSRS, buffer, "KVM_GET_MSRS");
            result.AddRange(MemoryMarshal.Cast<byte, KvmMsrEntry>(buffer.AsSpan(8))[..n].ToArray());

            // KVM stops at the first MSR it cannot read: skip that one and continue after it.
            pending = pending.Skip(n + 1).ToList();
        }

        return [.. result];
    }
}
