// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Nexus.Interop;

namespace Nexus.Vmm.Snapshot;

/// <summary>A vCPU's saved state, in the order Firecracker saves it.</summary>
public sealed class VcpuState
{
    public KvmMpState MpState;
    public KvmRegs Regs;
    public KvmSregs Sregs;
    public KvmXsave Xsave;
    public KvmXcrs Xcrs;
    public KvmDebugregs Debugregs;
    public KvmLapicState Lapic;
    public KvmCpuidEntry2[] Cpuid = [];
    public KvmMsrEntry[] Msrs = [];
    public KvmVcpuEvents Events;
}

/// <summary>A saved split virtqueue.</summary>
public sealed record QueueState(ushort Size, bool Ready, ulong DescTable, ulong AvailRing, ulong UsedRing, ushort NextAvail, ushort NextUsed);

/// <summary>A saved virtio-mmio device: transport registers and queues.</summary>
public sealed record DeviceState(uint DeviceType, uint Status, ulong AckedFeatures, uint InterruptStatus, QueueState[] Queues);

/// <summary>A guest RAM region and where its bytes are in the memory file.</summary>
public sealed record MemoryRegionState(ulong GuestAddress, ulong Size, long FileOffset);

/// <summary>
/// Everything a snapshot holds except guest memory, in a versioned binary file ending with a
/// SHA-256 of its contents: a damaged or foreign file is refused before any of it is used.
/// </summary>
public sealed class VmState
{
    /// <summary>Version 2 added the vsock device (its guest CID), version 3 the network device (its MAC); older files are still read.</summary>
    public const uint Version = 3;
    private static readonly byte[] s_magic = "NXVMSNAP"u8.ToArray();

    public ulong MemoryMiB { get; set; }

    public bool SoftwareKvm { get; set; }

    public ulong NexusRegionSize { get; set; }

    /// <summary>The guest CID of the VM's vsock device, or null when it has none.</summary>
    public ulong? VsockCid { get; set; }

    /// <summary>The guest MAC of the VM's virtio-net device, or null when it has none (the TAP is chosen at restore).</summary>
    public byte[]? NetMac { get; set; }

    public List<(string Path, bool ReadOnly)> Drives { get; } = [];

    public List<MemoryRegionState> Memory { get; } = [];

    public List<VcpuState> Vcpus { get; } = [];

    public KvmPitState2 Pit;
    public KvmClockData Clock;
    public KvmIrqchip[] Irqchips = [];

    public List<DeviceState> Devices { get; } = [];

    public void Save(string path)
    {
        using var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            w.Write(s_magic);
            w.Write(Version);
            w.Write(MemoryMiB);
            w.Write(SoftwareKvm);
            w.Write(NexusRegionSize);
            w.Write(VsockCid.HasValue);
            w.Write(VsockCid ?? 0);
            w.Write(NetMac is not null);
            w.Write(NetMac ?? new byte[6]);
            w.Write(Drives.Count);
            foreach (var (p, ro) in Drives)
            {
                w.Write(p);
                w.Write(ro);
            }

            w.Write(Memory.Count);
            foreach (var m in Memory)
            {
                w.Write(m.GuestAddress);
                w.Write(m.Size);
                w.Write(m.FileOffset);
            }

            w.Write(Vcpus.Count);
            foreach (var v in Vcpus)
            {
                WriteStruct(w, v.MpState);
                WriteStruct(w, v.Regs);
                WriteStruct(w, v.Sregs);
                WriteStruct(w, v.Xsave);
                WriteStruct(w, v.Xcrs);
                WriteStruct(w, v.Debugregs);
                WriteStruct(w, v.Lapic);
                WriteArray(w, v.Cpuid);
                WriteArray(w, v.Msrs);
                WriteStruct(w, v.Events);
            }

            WriteStruct(w, Pit);
            WriteStruct(w, Clock);
            WriteArray(w, Irqchips);
            w.Write(Devices.Count);
            foreach (var d in Devices)
            {
                w.Write(d.DeviceType);
                w.Write(d.Status);
                w.Write(d.AckedFeatures);
                w.Write(d.InterruptStatus);
                w.Write(d.Queues.Length);
                foreach (var q in d.Queues)
                {
                    w.Write(q.Size);
                    w.Write(q.Ready);
                    w.Write(q.DescTable);
                    w.Write(q.AvailRing);
                    w.Write(q.UsedRing);
                    w.Write(q.NextAvail);
                    w.Write(q.NextUsed);
                }
            }
        }

        var content = buffer.ToArray();
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write);
        file.Write(content);
        file.Write(SHA256.HashData(content));
        file.Flush(flushToDisk: true);
    }

    public static VmState Load(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < s_magic.Length + 4 + 32 || !bytes.AsSpan(0, s_magic.Length).SequenceEqual(s_magic))
        {
            throw new InvalidDataException($"{path}: not a Nexus VM snapshot state file");
        }

        var content = bytes.AsSpan(0, bytes.Length - 32);
        if (!SHA256.HashData(content).AsSpan().SequenceEqual(bytes.AsSpan(bytes.Length - 32)))
        {
            throw new InvalidDataException($"{path}: snapshot state checksum mismatch (file damaged or truncated)");
        }

        using var r = new BinaryReader(new MemoryStream(content.ToArray()));
        r.ReadBytes(s_magic.Length);
        var version = r.ReadUInt32();
        if (version is < 1 or > Version)
        {
            throw new InvalidDataException($"{path}: snapshot format version {version}; this VMM reads versions 1 to {Version}");
        }

        try
        {
            var state = new VmState { MemoryMiB = r.ReadUInt64(), SoftwareKvm = r.ReadBoolean(), NexusRegionSize = r.ReadUInt64() };
            if (version >= 2)
            {
                var (hasVsock, cid) = (r.ReadBoolean(), r.ReadUInt64());
                state.VsockCid = hasVsock ? cid : null;
            }

            if (version >= 3)
            {
                var (hasNet, mac) = (r.ReadBoolean(), r.ReadBytes(6));
                state.NetMac = mac.Length != 6 ? throw new EndOfStreamException() : hasNet ? mac : null;
            }

            for (var n = Count(r, 64); n > 0; n--)
            {
                state.Drives.Add((r.ReadString(), r.ReadBoolean()));
            }

            for (var n = Count(r, 8); n > 0; n--)
            {
                state.Memory.Add(new MemoryRegionState(r.ReadUInt64(), r.ReadUInt64(), r.ReadInt64()));
            }

            for (var n = Count(r, 64); n > 0; n--)
            {
                state.Vcpus.Add(new VcpuState
                {
                    MpState = ReadStruct<KvmMpState>(r),
                    Regs = ReadStruct<KvmRegs>(r),
                    Sregs = ReadStruct<KvmSregs>(r),
                    Xsave = ReadStruct<KvmXsave>(r),
                    Xcrs = ReadStruct<KvmXcrs>(r),
                    Debugregs = ReadStruct<KvmDebugregs>(r),
                    Lapic = ReadStruct<KvmLapicState>(r),
                    Cpuid = ReadArray<KvmCpuidEntry2>(r),
                    Msrs = ReadArray<KvmMsrEntry>(r),
                    Events = ReadStruct<KvmVcpuEvents>(r),
                });
            }

            state.Pit = ReadStruct<KvmPitState2>(r);
            state.Clock = ReadStruct<KvmClockData>(r);
            state.Irqchips = ReadArray<KvmIrqchip>(r);
            for (var n = Count(r, 64); n > 0; n--)
            {
                var (type, status, acked, irq) = (r.ReadUInt32(), r.ReadUInt32(), r.ReadUInt64(), r.ReadUInt32());
                var queues = new QueueState[Count(r, 16)];
                for (var i = 0; i < queues.Length; i++)
                {
                    queues[i] = new QueueState(r.ReadUInt16(), r.ReadBoolean(), r.ReadUInt64(), r.ReadUInt64(), r.ReadUInt64(), r.ReadUInt16(), r.ReadUInt16());
                }

                state.Devices.Add(new DeviceState(type, status, acked, irq, queues));
            }

            return state;
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"{path}: snapshot state ends early", e);
        }
    }

    private static int Count(BinaryReader r, int max)
    {
        var n = r.ReadInt32();
        return n >= 0 && n <= max ? n : throw new InvalidDataException($"snapshot state: count {n} out of range 0..{max}");
    }

    private static void WriteStruct<T>(BinaryWriter w, T value)
        where T : unmanaged => w.Write(MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value)));

    private static T ReadStruct<T>(BinaryReader r)
        where T : unmanaged
    {
        var size = Marshal.SizeOf<T>();
        var bytes = r.ReadBytes(size);
        return bytes.Length == size ? MemoryMarshal.Read<T>(bytes) : throw new EndOfStreamException();
    }

    private static void WriteArray<T>(BinaryWriter w, T[] values)
        where T : unmanaged
    {
        w.Write(values.Length);
        w.Write(MemoryMarshal.AsBytes(values.AsSpan()));
    }

    private static T[] ReadArray<T>(BinaryReader r)
        where T : unmanaged
    {
        var n = Count(r, 4096);
        var bytes = r.ReadBytes(n * Marshal.SizeOf<T>());
        return bytes.Length == n * Marshal.SizeOf<T>() ? MemoryMarshal.Cast<byte, T>(bytes).ToArray() : throw new EndOfStreamException();
    }
}
