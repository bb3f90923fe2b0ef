// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;
using System.Text;
using Nexus.Vmm.VState;

namespace Nexus.Vmm.Arch.X64;

/// <summary>The Intel MP table (Firecracker's mptable.rs): CPUs, one ISA bus, the IOAPIC and its 24 pins.</summary>
public static class MpTable
{
    public const int IrqMax = 23;

    /// <summary>Builds the floating pointer followed by the configuration table, as placed at <paramref name="address"/>.</summary>
    public static byte[] Build(int cpus, ulong address = Layout.MpTableStart)
    {
        var ioapicId = (byte)(cpus + 1);
        var table = new List<byte>();

        // Configuration table header (44 bytes); length and checksum filled at the end.
        var header = new byte[44];
        Encoding.ASCII.GetBytes("PCMP").CopyTo(header, 0);
        header[6] = 4;
        Encoding.ASCII.GetBytes("NEXUS   ").CopyTo(header, 8);
        Encoding.ASCII.GetBytes("000000000000").CopyTo(header, 16);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(36), (uint)Layout.LapicStart);
        table.AddRange(header);

        for (var i = 0; i < cpus; i++)
        {
            var cpu = new byte[20];
            cpu[0] = 0; // processor
            cpu[1] = (byte)i;
            cpu[2] = 0x14; // local APIC version
            cpu[3] = (byte)(1 | (i == 0 ? 2 : 0)); // enabled, bootstrap
            BinaryPrimitives.WriteUInt32LittleEndian(cpu.AsSpan(4), 0x600); // family 6
            BinaryPrimitives.WriteUInt32LittleEndian(cpu.AsSpan(8), 0x201); // APIC | FPU
            table.AddRange(cpu);
        }

        table.AddRange([1, 0, .. "ISA   "u8]); // bus 0 is ISA
        table.AddRange([2, ioapicId, 0x11, 1, .. LittleEndian((uint)Layout.IoapicStart)]);
        table.AddRange([3, 3, 0, 0, 0, 0, ioapicId, 0]); // ExtINT on pin 0
        for (var irq = 1; irq <= IrqMax; irq++)
        {
            table.AddRange([3, 0, 0, 0, 0, (byte)irq, ioapicId, (byte)irq]);
        }

        table.AddRange([4, 3, 0, 0, 0, 0, 0, 0]); // ExtINT -> LINT0 of the BSP
        table.AddRange([4, 1, 0, 0, 0, 0, 0xff, 1]); // NMI -> LINT1 of all

        var config = table.ToArray();
        BinaryPrimitives.WriteUInt16LittleEndian(config.AsSpan(4), (ushort)config.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(config.AsSpan(34), CountEntries(cpus));
        config[7] = Checksum(config);

        var floating = new byte[16];
        Encoding.ASCII.GetBytes("_MP_").CopyTo(floating, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(floating.AsSpan(4), (uint)(address + 16));
        floating[8] = 1; // length in 16-byte units
        floating[9] = 4; // MP spec 1.4
        floating[10] = Checksum(floating);
        return [.. floating, .. config];
    }

    public static void Write(GuestMemory memory, int cpus)
    {
        var bytes = Build(cpus);
        if (Layout.MpTableStart + (ulong)bytes.Length > Layout.EbdaEnd)
        {
            throw new ArgumentOutOfRangeException(nameof(cpus), $"an MP table for {cpus} vCPUs does not fit below 0x{Layout.EbdaEnd:x}");
        }

        memory.Write(Layout.MpTableStart, bytes);
    }

    /// <summary>Sum of all bytes is zero once this byte is stored in the checksum field (which must be 0 now).</summary>
    public static byte Checksum(ReadOnlySpan<byte> bytes)
    {
        var sum = 0;
        foreach (var b in bytes)
        {
            sum += b;
        }

        return (byte)(-sum & 0xff);
    }

    private static ushort CountEntries(int cpus) => (ushort)(cpus + 1 + 1 + (IrqMax + 1) + 2);

    private static byte[] LittleEndian(uint value)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        return b;
    }
}
