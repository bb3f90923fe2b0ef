// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.InteropServices;
using Nexus.Interop;

namespace Nexus.Vmm.VState;

/// <summary>The /dev/kvm handle: API checks, host CPUID and MSR lists, VM creation.</summary>
public sealed class KvmSystem : IDisposable
{
    private const int ApiVersion = 12;
    private const int E2BIG = 7;

    private static readonly (int Cap, string Name)[] s_requiredCaps =
    [
        (KvmCap.KVM_CAP_IRQCHIP, "IRQCHIP"), (KvmCap.KVM_CAP_USER_MEMORY, "USER_MEMORY"),
        (KvmCap.KVM_CAP_SET_TSS_ADDR, "SET_TSS_ADDR"), (KvmCap.KVM_CAP_PIT2, "PIT2"),
        (KvmCap.KVM_CAP_IOEVENTFD, "IOEVENTFD"), (KvmCap.KVM_CAP_IRQFD, "IRQFD"),
        (KvmCap.KVM_CAP_EXT_CPUID, "EXT_CPUID"), (KvmCap.KVM_CAP_MP_STATE, "MP_STATE"),
        (KvmCap.KVM_CAP_VCPU_EVENTS, "VCPU_EVENTS"), (KvmCap.KVM_CAP_DEBUGREGS, "DEBUGREGS"),
        (KvmCap.KVM_CAP_XSAVE, "XSAVE"), (KvmCap.KVM_CAP_XCRS, "XCRS"),
    ];

    private KvmCpuidEntry2[]? _supportedCpuid;
    private uint[]? _msrIndexList;

    public KvmSystem(string path = Kvm.DevicePath)
    {
        Fd = Kvm.OpenDevice(path);
        var version = KvmCall.Value(Fd, KvmIoctl.KVM_GET_API_VERSION, 0, "KVM_GET_API_VERSION");
        if (version != ApiVersion)
        {
            Fd.Dispose();
            throw new NotSupportedException($"{path}: KVM API version {version}, expected {ApiVersion}");
        }

        foreach (var (cap, name) in s_requiredCaps)
        {
            if (CheckExtension(cap) <= 0)
            {
                Fd.Dispose();
                throw new NotSupportedException($"{path}: KVM lacks capability KVM_CAP_{name}");
            }
        }

        VcpuMmapSize = KvmCall.Value(Fd, KvmIoctl.KVM_GET_VCPU_MMAP_SIZE, 0, "KVM_GET_VCPU_MMAP_SIZE");
        IsSoftwareOnly = Kvm.IsSoftwareOnly();
    }

    public SafeFd Fd { get; }

    /// <summary>Bytes to map from each vCPU fd (kvm_run plus the PIO data page).</summary>
    public int VcpuMmapSize { get; }

    /// <summary>True on kvm_pvm or a CPU without vmx/svm: guests run under software emulation.</summary>
    public bool IsSoftwareOnly { get; }

    public int CheckExtension(int cap) => KvmCall.Value(Fd, KvmIoctl.KVM_CHECK_EXTENSION, cap, "KVM_CHECK_EXTENSION");

    /// <summary>KVM_GET_SUPPORTED_CPUID, retried with a larger buffer on E2BIG.</summary>
    public KvmCpuidEntry2[] SupportedCpuid()
    {
        if (_supportedCpuid is not null)
        {
            return _supportedCpuid;
        }

        for (var count = 80; ; count *= 2)
        {
            var entrySize = Marshal.SizeOf<KvmCpuidEntry2>();
            var buffer = new byte[8 + (count * entrySize)];
            MemoryMarshal.Write(buffer, new KvmListHeader { Count = (uint)count });
            var rc = TryBuffer(KvmIoctl.KVM_GET_SUPPORTED_CPUID, buffer);
            if (rc == -E2BIG && count < 4096)
            {
                continue;
            }

            if (rc < 0)
            {
                throw new UnixException("KVM_GET_SUPPORTED_CPUID", -rc);
            }
            var n = (int)MemoryMarshal.Read<KvmListHeader>(buffer).Count;
            _supportedCpuid = MemoryMarshal.Cast<byte, KvmCpuidEntry2>(buffer.AsSpan(8, n * entrySize)).ToArray();
            return _supportedCpuid;
        }
    }

    /// <summary>KVM_GET_MSR_INDEX_LIST: the MSRs KVM can save and restore.</summary>
    public uint[] MsrIndexList()
    {
        if (_msrIndexList is not null)
        {
            return _msrIndexList;
        }

        for (var count = 64; ; count *= 2)
        {
            var buffer = new byte[4 + (count * 4)];
            MemoryMarshal.Write(buffer, (uint)count);
            var rc = TryBuffer(KvmIoctl.KVM_GET_MSR_INDEX_LIST, buffer);
            if (rc == -E2BIG && count < 65536)
            {
                continue;
            }

            if (rc < 0)
            {
                throw new UnixException("KVM_GET_MSR_INDEX_LIST", -rc);
            }
            var n = (int)MemoryMarshal.Read<uint>(buffer);
            _msrIndexList = MemoryMarshal.Cast<byte, uint>(buffer.AsSpan(4, n * 4)).ToArray();
            return _msrIndexList;
        }
    }

    public SafeFd CreateVm() => new(KvmCall.Value(Fd, KvmIoctl.KVM_CREATE_VM, 0, "KVM_CREATE_VM"));

    public void Dispose() => Fd.Dispose();

    private unsafe int TryBuffer(uint request, byte[] buffer)
    {
        // SAFETY: the buffer is pinned and its header's count matches its length.
        fixed (byte* p = buffer)
        {
            return Ioctl.TryCall(Fd, request, (nint)p);
        }
    }
}
