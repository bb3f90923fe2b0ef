// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using Nexus.Interop;
using Nexus.Sandbox.Microvm;
using Nexus.Testing;

namespace Nexus.Sandbox.Tests;

/// <summary>
/// What a jailed VMM of a Linux guest can see: exactly its executable, its libraries, its /dev/kvm and, to boot, the
/// kernel and both drives, or, to restore, the snapshot's files and both drives (never the kernel), each a hard link of
/// the host file (so nothing is copied and restored VMs share the page cache) and readable by the VM's uid. No KVM here:
/// the jail runs find(1) in the VMM's place, with the chroot, namespaces, uid and cgroups a VMM gets, and it lists
/// what it can read. Root and cgroups: run under the integration lock.
/// </summary>
public sealed class VmmJailFilesTests : IAsyncLifetime
{
    private readonly string _parent = "nexus-jailfiles-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("nexus-jailfiles-");
    private readonly List<VmCgroup> _cgroups = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var cgroup in _cgroups)
        {
            await cgroup.RemoveAsync(TimeSpan.FromSeconds(5));
        }

        TestCgroups.RemoveParent(_parent);

        _folder.Delete(recursive: true);
    }

    [RootFact(runc: false)]
    public async Task A_linux_guests_jail_holds_the_kernel_or_the_snapshot_and_both_drives_and_nothing_else()
    {
        var jail = new VmmJail(new VmmJailOptions(), ["/usr/bin/find"]);
        var host = Directory.CreateDirectory(Path.Combine(_folder.FullName, "host")).FullName;
        string Host(string name)
        {
            var path = Path.Combine(host, name);
            File.WriteAllText(path, name);
            return path;
        }

        var boot = new GuestBoot(Host("vmlinux"), [Host("root.erofs"), Host("code.erofs")], "nexus_init.tmp=64");
        var snapshot = Directory.CreateDirectory(Path.Combine(host, "snapshot")).FullName;
        File.WriteAllText(Path.Combine(snapshot, "vm.state"), "state");
        File.WriteAllText(Path.Combine(snapshot, "vm.mem"), "memory");
        string[] always = ["/nexus-vmm", "/dev/kvm", .. jail.Libraries];

        var booting = await SeenAsync(jail, "boot", boot.JailFiles(snapshotFolder: null));
        Assert.Equal(Sorted([.. always, "/kernel", "/drives/vda", "/drives/vdb"]), booting.Files);
        Assert.Equal(Inode(boot.Drives[0]), Inode(Path.Combine(booting.Root, "drives", "vda")));
        Assert.Equal(Inode(boot.Drives[1]), Inode(Path.Combine(booting.Root, "drives", "vdb")));
        Assert.Equal(Inode(boot.Kernel), Inode(Path.Combine(booting.Root, "kernel")));

        var restoring = await SeenAsync(jail, "restore", boot.JailFiles(snapshot));
        Assert.Equal(Sorted([.. always, "/snapshot/vm.state", "/snapshot/vm.mem", "/drives/vda", "/drives/vdb"]), restoring.Files);
        Assert.Equal(Inode(Path.Combine(snapshot, "vm.mem")), Inode(Path.Combine(restoring.Root, "snapshot", "vm.mem")));
        Assert.Equal(Inode(boot.Drives[0]), Inode(Path.Combine(restoring.Root, "drives", "vda")));
    }

    /// <summary>The files (and device nodes) the jailed process can read, outside /proc, in ordinal order.</summary>
    private async Task<(string Root, SortedSet<string> Files)> SeenAsync(VmmJail jail, string id, IReadOnlyDictionary<string, string> files)
    {
        var folder = Directory.CreateDirectory(Path.Combine(_folder.FullName, id)).FullName;
        var cgroup = VmCgroup.Create(new VmCgroupOptions { CgroupParent = _parent }, id, 64L << 20, cpus: 1.0);
        _cgroups.Add(cgroup);
        var jailed = jail.Prepare(folder, cgroup, files, tun: false, netnsPath: null);
        var (outputPath, errorPath) = (Path.Combine(_folder.FullName, id + ".out"), Path.Combine(_folder.FullName, id + ".err"));
        ChildProcess find;
        using (var output = File.OpenHandle(outputPath, FileMode.Create, FileAccess.Write))
        using (var errors = File.OpenHandle(errorPath, FileMode.Create, FileAccess.Write))
        {
            find = ChildProcess.Spawn(new ChildStartInfo
            {
                Path = jailed.Command[0],
                Arguments = [.. jailed.Command.Skip(1), "/", "-path", "/proc", "-prune", "-o", "(", "-type", "f", "-o", "-type", "c", ")", "-readable", "-print"],
                StandardOutput = output,
                StandardError = errors,
                NewSession = true,
            });
        }

        var exit = await find.Exited.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(exit.ExitCode == 0, $"find in the jail: {exit}\n{await File.ReadAllTextAsync(errorPath)}");
        var seen = (await File.ReadAllTextAsync(outputPath)).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return (jailed.Root, new SortedSet<string>(seen, StringComparer.Ordinal));
    }

    private static SortedSet<string> Sorted(IEnumerable<string> files) => new(files, StringComparer.Ordinal);

    private static string Inode(string path)
    {
        using var stat = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%d:%i", path]) { RedirectStandardOutput = true })!;
        var inode = stat.StandardOutput.ReadToEnd().Trim();
        stat.WaitForExit();
        return inode;
    }
}
