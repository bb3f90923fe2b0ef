// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;
using Nexus.Interop;
using Nexus.Testing;
using Nexus.Vmm.Builder;
using Nexus.Vmm.Devices.Virtio.Block;
using Nexus.Vmm.VState;

namespace Nexus.Vmm.Tests;

/// <summary>virtio-blk and the Nexus region driven by real guests on /dev/kvm.</summary>
public sealed class DeviceTests : IDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);
    private readonly string _dir = Directory.CreateTempSubdirectory("nexus-vmm-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [KvmFact]
    public void GuestVirtioDriverReadsAndWritesSectors()
    {
        var disk = Path.Combine(_dir, "disk.img");
        var image = new byte[8 * 512];
        for (var i = 0; i < 512; i++)
        {
            image[i] = (byte)(i ^ 0x5a);
        }

        File.WriteAllBytes(disk, image);
        using var vm = MicroVm.Boot(new VmConfig { KernelPath = TestGuests.Build("blk"), MemoryMiB = 32, Drives = [new DriveConfig(disk)] });
        vm.Start();
        var exit = vm.WaitForExit(s_timeout);

        Assert.True(exit is { Kind: VmExitKind.ExitPort, Code: 1 }, $"{exit} (device error: {vm.Transports[0].LastError})");
        var written = File.ReadAllBytes(disk).AsSpan(512, 512).ToArray();
        Assert.Equal(Enumerable.Range(0, 512).Select(i => (byte)((i * 7) + 3)), written);
        Assert.Equal(image.AsSpan(0, 512).ToArray(), File.ReadAllBytes(disk).AsSpan(0, 512).ToArray());

        // Every queue notification reached the device thread through its ioeventfd; none ran on the vCPU.
        Assert.Equal(3, vm.Transports[0].DeviceThreadNotifies);
        Assert.Equal(0, vm.Transports[0].VcpuNotifies);
    }

    [KvmFact]
    public void ReadOnlyDriveRefusesGuestWrites()
    {
        var disk = Path.Combine(_dir, "ro.img");
        var image = new byte[8 * 512];
        File.WriteAllBytes(disk, image);
        using var vm = MicroVm.Boot(new VmConfig { KernelPath = TestGuests.Build("blk"), MemoryMiB = 32, Drives = [new DriveConfig(disk, ReadOnly: true)] });
        vm.Start();
        var exit = vm.WaitForExit(s_timeout);

        // The guest's first request is a write: the device answers IOERR and the guest stops at step 20.
        Assert.Equal(VmExitKind.ExitPort, exit.Kind);
        Assert.Equal(20, exit.Code);
        Assert.All(File.ReadAllBytes(disk), b => Assert.Equal(0, b));
        var metrics = ((VirtioBlock)vm.Transports[0].Device).Metrics;
        Assert.Equal((1, 0L, 0L), (metrics.Failed, metrics.Completed, metrics.WrittenBytes));
    }

    [KvmFact]
    public void RequestRoundTripsThroughNexusRegionWithoutTheVmm()
    {
        using var vm = MicroVm.Boot(new VmConfig { KernelPath = TestGuests.Build("nexus"), MemoryMiB = 32, NexusRegionSize = 1 << 20 });
        var region = vm.NexusRegion!;
        using var mapping = Memory.MapShared(region.MemoryFd, (long)region.Size);
        uint seen = 0;
        var backend = new Thread(() =>
        {
            region.Doorbell.Wait();
            var shared = Span(mapping);
            seen = BinaryPrimitives.ReadUInt32LittleEndian(shared);
            BinaryPrimitives.WriteUInt32LittleEndian(shared[4..], seen + 1);
            region.Interrupt.Signal();
        });
        backend.Start();
        vm.Start();
        var exit = vm.WaitForExit(s_timeout);
        backend.Join();

        Assert.True(exit is { Kind: VmExitKind.ExitPort, Code: 1 }, exit.ToString());
        Assert.Equal(0x12345678u, seen);

        // Doorbell and reply never exited to the VMM: the guest's only exit is the final port write.
        Assert.Equal(1, vm.Vcpus[0].ExitCount);
    }

    private static unsafe Span<byte> Span(SafeMemoryMapping mapping)
    {
        // SAFETY: the mapping stays alive (using) until after the backend thread is joined.
        return new Span<byte>((void*)mapping.Address, (int)mapping.Length);
    }
}
