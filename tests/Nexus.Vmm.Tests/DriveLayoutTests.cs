// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Vmm.Builder;
using Nexus.Vmm.Snapshot;

namespace Nexus.Vmm.Tests;

/// <summary>
/// A Linux guest's two drives (the image's root and the function's code drive): nexus-vmm's drive options, the
/// virtio-mmio slots and kernel command line they give, and a restore that names a snapshot's drives anew. None of
/// this needs KVM.
/// </summary>
public sealed class DriveLayoutTests
{
    [Fact]
    public void Drives_keep_their_order_after_the_rootfs_and_their_read_only_flags()
    {
        Assert.True(VmmArguments.TryParse(["--kernel", "k", "--drive-readonly", "root.erofs", "--mem", "128", "--drive-readonly", "code.erofs", "--drive", "scratch.img"], out var parsed, out var error), error);
        Assert.Equal([new DriveConfig("root.erofs", true), new DriveConfig("code.erofs", true), new DriveConfig("scratch.img", false)], parsed.Drives);
        Assert.Equal("128", parsed.Values["--mem"]);

        // --rootfs is always /dev/vda, wherever it stands.
        Assert.True(VmmArguments.TryParse(["--drive", "second.img", "--rootfs", "root.img", "--rootfs-readonly"], out parsed, out error), error);
        Assert.Equal([new DriveConfig("root.img", true), new DriveConfig("second.img", false)], parsed.Drives);

        Assert.True(VmmArguments.TryParse(["--restore", "snap", "--drive-readonly", "/disks/root.erofs", "--drive-readonly", "/disks/code.erofs"], out parsed, out error), error);
        Assert.Equal(["/disks/root.erofs", "/disks/code.erofs"], parsed.Drives.Select(d => d.Path));
        Assert.False(parsed.PvLiteGuest);

        Assert.True(VmmArguments.TryParse(["--kernel", "k", "--pvlite-guest", "--drive-readonly", "root.erofs"], out parsed, out error), error);
        Assert.True(parsed.PvLiteGuest);
        Assert.Equal([new DriveConfig("root.erofs", true)], parsed.Drives);
    }

    [Fact]
    public void A_pv_lite_guest_gets_no_software_kvm_profile_unless_forced()
    {
        var plain = new VmConfig { KernelPath = "k" };
        var pvlite = new VmConfig { KernelPath = "k", PvLiteGuest = true };
        Assert.True(plain.UsesSoftwareKvmProfile(softwareOnlyKvm: true));
        Assert.False(plain.UsesSoftwareKvmProfile(softwareOnlyKvm: false));
        Assert.False(pvlite.UsesSoftwareKvmProfile(softwareOnlyKvm: true));
        Assert.False(pvlite.UsesSoftwareKvmProfile(softwareOnlyKvm: false));
        Assert.True(new VmConfig { KernelPath = "k", PvLiteGuest = true, SoftwareKvmProfile = true }.UsesSoftwareKvmProfile(softwareOnlyKvm: false));
        Assert.False(new VmConfig { KernelPath = "k", SoftwareKvmProfile = false }.UsesSoftwareKvmProfile(softwareOnlyKvm: true));
    }

    [Theory]
    [InlineData(new[] { "--kernel", "k", "--drive" }, "'--drive'")]
    [InlineData(new[] { "--kernel", "k", "--drive-readonly" }, "'--drive-readonly'")]
    [InlineData(new[] { "--kernel", "k", "--drives", "x" }, "'--drives'")]
    [InlineData(new[] { "--kernel", "k", "--rootfs-readonly" }, "--rootfs-readonly without --rootfs")]
    [InlineData(new[] { "--restore", "snap", "--rootfs", "r" }, "--rootfs does not go with --restore")]
    public void Malformed_drive_options_are_refused(string[] args, string expected)
    {
        Assert.False(VmmArguments.TryParse(args, out _, out var error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Root_and_code_drives_are_vda_and_vdb_then_the_net_device_with_one_interrupt_each()
    {
        var config = new VmConfig
        {
            KernelPath = "vmlinux",
            Drives = [new DriveConfig("/disks/root.erofs", ReadOnly: true), new DriveConfig("/disks/code.erofs", ReadOnly: true)],
            Net = new NetConfig("tap0"),
            NexusRegionSize = 64 << 20,
            AppendBootArgs = "ip=172.16.0.2::172.16.0.1:255.255.255.252::eth0:off nexus_init.tmp=512",
        };

        Assert.Equal(
            [
                new VirtioSlot(VirtioSlotKind.Block, 0, 0xd000_0000, 5),
                new VirtioSlot(VirtioSlotKind.Block, 1, 0xd000_1000, 6),
                new VirtioSlot(VirtioSlotKind.Net, 0, 0xd000_2000, 7),
            ],
            VirtioLayout.Slots(config));
        Assert.Equal(
            VmConfig.DefaultBootArgs +
            " virtio_mmio.device=4K@0xd0000000:5 root=/dev/vda ro virtio_mmio.device=4K@0xd0001000:6 virtio_mmio.device=4K@0xd0002000:7" +
            " nexus.region=0x4000000@0xe0000000:10 nexus.doorbell=0xd0100000" +
            " ip=172.16.0.2::172.16.0.1:255.255.255.252::eth0:off nexus_init.tmp=512",
            VirtioLayout.CommandLine(config, softwareKvm: false));

        // Software KVM: its arguments follow the defaults; a given command line replaces both and names no root.
        Assert.StartsWith(VmConfig.DefaultBootArgs + " " + VmConfig.SoftwareKvmBootArgs + " virtio_mmio.device=4K@0xd0000000:5 root=/dev/vda ro", VirtioLayout.CommandLine(config, softwareKvm: true), StringComparison.Ordinal);
        Assert.DoesNotContain("root=", VirtioLayout.CommandLine(new VmConfig { KernelPath = "k", BootArgs = "console=ttyS0", Drives = config.Drives }, softwareKvm: true), StringComparison.Ordinal);
    }

    [Fact]
    public void A_device_may_not_take_the_nexus_regions_interrupt()
    {
        var drives = Enumerable.Range(0, 5).Select(i => new DriveConfig($"d{i}")).ToList();
        Assert.Equal(9u, VirtioLayout.Slots(new VmConfig { KernelPath = "k", Drives = drives, NexusRegionSize = 4096 })[^1].Gsi);

        var sixth = new VmConfig { KernelPath = "k", Drives = drives, Net = new NetConfig("tap0"), NexusRegionSize = 4096 };
        Assert.Contains("GSI 10 is the region's", Assert.Throws<ArgumentOutOfRangeException>(() => VirtioLayout.Slots(sixth)).Message, StringComparison.Ordinal);
        Assert.Equal(10u, VirtioLayout.Slots(new VmConfig { KernelPath = "k", Drives = drives, Net = new NetConfig("tap0") })[^1].Gsi);
    }

    [Fact]
    public void A_restore_must_name_as_many_drives_as_the_snapshot_each_as_read_only()
    {
        var dir = Directory.CreateTempSubdirectory("nexus-drive-layout-").FullName;
        try
        {
            var state = new VmState { MemoryMiB = 128 };
            state.Drives.Add(("/disks/root.erofs", true));
            state.Drives.Add(("/disks/code.erofs", true));
            var path = Path.Combine(dir, "vm.state");
            state.Save(path);

            // Refused before KVM is opened, so this runs on a host without /dev/kvm too.
            var fewer = Assert.Throws<ArgumentException>(() => MicroVm.Restore(path, Path.Combine(dir, "vm.mem"), new RestoreOptions { Drives = [new DriveConfig("/x/root.erofs", true)] }));
            Assert.Contains("the snapshot has 2 drive(s) (read-only, read-only); the restore names 1 drive(s) (read-only)", fewer.Message, StringComparison.Ordinal);
            var writable = Assert.Throws<ArgumentException>(() => MicroVm.Restore(path, Path.Combine(dir, "vm.mem"), new RestoreOptions { Drives = [new DriveConfig("/x/root.erofs", true), new DriveConfig("/x/code.erofs", false)] }));
            Assert.Contains("read-only, read-write", writable.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
