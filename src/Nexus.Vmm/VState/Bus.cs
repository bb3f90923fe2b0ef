// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Vmm.VState;

/// <summary>A device on the port I/O or MMIO bus; offsets are relative to the device's base.</summary>
public interface IBusDevice
{
    void Read(ulong offset, Span<byte> data);

    void Write(ulong offset, ReadOnlySpan<byte> data);
}

/// <summary>
/// Address ranges mapped to devices (Firecracker's Bus). Accesses nobody claims read as all-ones and
/// are otherwise ignored, as on real hardware: Linux probes ports that do not exist.
/// </summary>
public sealed class Bus
{
    private readonly List<(ulong Base, ulong Length, IBusDevice Device)> _ranges = [];

    public void Insert(ulong baseAddress, ulong length, IBusDevice device)
    {
        ArgumentOutOfRangeException.ThrowIfZero(length);
        foreach (var (b, l, _) in _ranges)
        {
            if (baseAddress < b + l && b < baseAddress + length)
            {
                throw new ArgumentException($"bus range 0x{baseAddress:x}+0x{length:x} overlaps 0x{b:x}+0x{l:x}");
            }
        }

        _ranges.Add((baseAddress, length, device));
    }

    public (IBusDevice Device, ulong Base)? Find(ulong address)
    {
        foreach (var (b, l, d) in _ranges)
        {
            if (address >= b && address - b < l)
            {
                return (d, b);
            }
        }

        return null;
    }

    /// <summary>Dispatches a read; false when no device claims the address (data is then all-ones).</summary>
    public bool Read(ulong address, Span<byte> data)
    {
        if (Find(address) is { } hit)
        {
            hit.Device.Read(address - hit.Base, data);
            return true;
        }

        data.Fill(0xff);
        return false;
    }

    public bool Write(ulong address, ReadOnlySpan<byte> data)
    {
        if (Find(address) is { } hit)
        {
            hit.Device.Write(address - hit.Base, data);
            return true;
        }

        return false;
    }
}
