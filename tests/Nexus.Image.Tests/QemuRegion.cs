// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Image.Tests;

/// <summary>
/// Where the qemu tests put the Nexus region: a reserved range of the guest's file-backed RAM (so the test reads and
/// writes it as the host's mapping would), interrupt 10 (the spare UART's, which a test raises), the doorbell at an
/// unused address (qemu has no ioeventfd behind it).
/// </summary>
internal static class QemuRegion
{
    public const int MemoryMiB = 256;
    public const long Address = 0x0f00_0000;
    public const int Size = 16 << 20;
    public static readonly TimeSpan BootTimeout = TimeSpan.FromMinutes(3);

    /// <summary>The command line that reserves the range and hands it to the region driver.</summary>
    public static string BootArgs => $"memmap={Size >> 20}M$0x{Address:x} nexus.region=0x{Size:x}@0x{Address:x}:10 nexus.doorbell=0xd0100000";

    /// <summary>Creates the guest's RAM file (<see cref="MemoryMiB"/>) with each content at its offset from the region's start.</summary>
    public static async Task<string> WriteRamAsync(string path, params (long Offset, byte[] Bytes)[] contents)
    {
        await using var ram = new FileStream(path, FileMode.Create);
        ram.SetLength((long)MemoryMiB << 20);
        foreach (var (offset, bytes) in contents)
        {
            ram.Position = Address + offset;
            await ram.WriteAsync(bytes);
        }

        return path;
    }
}
