// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Interop;

namespace Nexus.Vmm.Arch.X64;

/// <summary>
/// Guest CPUID built from KVM_GET_SUPPORTED_CPUID, normalized as Firecracker does (topology, APIC IDs,
/// hypervisor bit, no PMU), plus a software-KVM profile hiding what kvm_pvm's emulator cannot run.
/// </summary>
public static class Cpuid
{
    // Leaf 1 ECX
    private const int Pdcm = 15;
    private const int Popcnt = 23;
    private const int TscDeadline = 24;
    private const int Xsave = 26;
    private const int Osxsave = 27;
    private const int Avx = 28;
    private const int Hypervisor = 31;

    // Leaf 1 EDX
    private const int Htt = 28;

    // Leaf 7.0 EBX
    private const int Avx2 = 5;
    private const int Smep = 7;
    private const int Avx512F = 16;
    private const int Smap = 20;

    /// <summary>The CPUID for vCPU <paramref name="index"/> of <paramref name="count"/>.</summary>
    public static KvmCpuidEntry2[] Normalize(ReadOnlySpan<KvmCpuidEntry2> supported, int index, int count, bool softwareKvm)
    {
        var result = new List<KvmCpuidEntry2>(supported.Length);
        foreach (var source in supported)
        {
            var e = source;
            switch (e.Function)
            {
                case 1:
                    e.Ebx = (e.Ebx & 0xff) | (8u << 8) | ((uint)count << 16) | ((uint)index << 24);
                    e.Ecx = Clear(e.Ecx, Pdcm) | Bit(TscDeadline) | Bit(Hypervisor);
                    e.Edx = count > 1 ? e.Edx | Bit(Htt) : Clear(e.Edx, Htt);
                    if (softwareKvm)
                    {
                        e.Ecx = Clear(Clear(Clear(Clear(e.Ecx, Popcnt), Xsave), Osxsave), Avx);
                    }

                    break;
                case 6:
                    e.Eax = Clear(e.Eax, 1); // turbo
                    e.Ecx = Clear(e.Ecx, 3); // energy performance bias
                    break;
                case 7 when e.Index == 0 && softwareKvm:
                    e.Ebx = Clear(Clear(Clear(Clear(e.Ebx, Avx2), Smep), Avx512F), Smap);
                    break;
                case 0xa:
                    e.Eax = e.Ebx = e.Ecx = e.Edx = 0; // no PMU
                    break;
                case 0xb:
                    e.Edx = (uint)index;
                    break;
                case 0xd when softwareKvm:
                    continue; // XSAVE is hidden, so are its leaves
            }

            result.Add(e);
        }

        return [.. result];
    }

    private static uint Bit(int bit) => 1u << bit;

    private static uint Clear(uint value, int bit) => value & ~(1u << bit);
}
