// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;

namespace Nexus.Sandbox.Microvm;

/// <summary>
/// What a microVM boots: the kernel (or freestanding guest), its read-only drives in slot order (a Linux guest: the
/// image's erofs root as /dev/vda, the function's code drive as /dev/vdb; a freestanding guest: none) and what is
/// appended to the VMM's kernel command line; <paramref name="PvLiteGuest"/>: the kernel is a pv-lite guest (the Linux
/// guest: guest/kernel/build.sh's kernel), which on kvm_pvm gets no software-KVM profile (<c>--pvlite-guest</c>).
/// Everything here decides what a ready snapshot holds, so all of it is in the snapshot's name
/// (<see cref="ReadySnapshots.Name"/>).
/// </summary>
public sealed record GuestBoot(string Kernel, IReadOnlyList<string> Drives, string? AppendBootArgs, bool PvLiteGuest = false)
{
    /// <summary>Where a jailed VMM finds the kernel in its chroot.</summary>
    public const string JailKernel = "/kernel";

    /// <summary>Where a jailed VMM finds a restored snapshot's files in its chroot.</summary>
    public const string JailSnapshot = "/snapshot";

    /// <summary>Where a jailed VMM finds drive <paramref name="index"/> in its chroot: /drives/vda, /drives/vdb, ... as the guest names them.</summary>
    public static string JailDrive(int index) => "/drives/vd" + (char)('a' + index);

    /// <summary>The same boot as a jailed VMM sees it: every file at its place in the chroot.</summary>
    public GuestBoot InJail() => this with { Kernel = JailKernel, Drives = [.. Drives.Select((_, i) => JailDrive(i))] };

    /// <summary>
    /// The files a jailed VMM needs, path in the chroot → host file: to boot, the kernel and the drives; to restore
    /// <paramref name="snapshotFolder"/>, its files and the drives (the kernel is in the snapshot's memory).
    /// </summary>
    public IReadOnlyDictionary<string, string> JailFiles(string? snapshotFolder)
    {
        var files = snapshotFolder is null
            ? new Dictionary<string, string>(StringComparer.Ordinal) { [JailKernel] = Kernel }
            : Directory.EnumerateFiles(snapshotFolder).ToDictionary(f => JailSnapshot + "/" + Path.GetFileName(f), f => f, StringComparer.Ordinal);
        for (var i = 0; i < Drives.Count; i++)
        {
            files[JailDrive(i)] = Drives[i];
        }

        return files;
    }

    /// <summary>nexus-vmm's arguments to boot this guest with <paramref name="memoryMb"/> of RAM.</summary>
    public List<string> BootArguments(int memoryMb)
    {
        List<string> arguments = ["--kernel", Kernel, "--mem", memoryMb.ToString(CultureInfo.InvariantCulture), .. DriveArguments()];
        if (AppendBootArgs is { Length: > 0 } append)
        {
            arguments.AddRange(["--cmdline-append", append]);
        }

        if (PvLiteGuest)
        {
            arguments.Add("--pvlite-guest");
        }

        return arguments;
    }

    /// <summary>nexus-vmm's arguments to restore <paramref name="snapshot"/> of this guest: its drives named anew (the instance's own paths).</summary>
    public List<string> RestoreArguments(string snapshot) => ["--restore", snapshot, .. DriveArguments()];

    private IEnumerable<string> DriveArguments() => Drives.SelectMany(d => new[] { "--drive-readonly", d });
}
