// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using Nexus.Vmm.Builder;

namespace Nexus.Vmm.Host;

/// <summary>
/// <c>nexus-vmm</c>: boots one VM with its console on this terminal, like <c>nexus vmm run</c> but without the rest of
/// the CLI, so a process per VM costs only the VMM. Options are parsed by hand (no reflection, trimming-safe).
/// </summary>
public static class Program
{
    private const string Usage =
        "usage: nexus-vmm --kernel PATH [--mem MiB] [--vcpus N] [--rootfs PATH [--rootfs-readonly]] [--drive PATH | --drive-readonly PATH]...\n" +
        "                 [--cmdline TEXT] [--cmdline-append TEXT] [--pvlite-guest]\n" +
        "                 [--net TAP [--mac aa:bb:cc:dd:ee:ff] [--netns PATH]] [--vsock PATH [--cid N]] [--timeout SECONDS]\n" +
        "                 [--nexus-region MiB | --nexus-fds REGION,DOORBELL,INTERRUPT] [--snapshot-to DIR]\n" +
        "       nexus-vmm --restore DIR [--nexus-fds REGION,DOORBELL,INTERRUPT] [--net TAP [--netns PATH]] [--vsock PATH] [--timeout SECONDS]\n" +
        "                 [--drive PATH | --drive-readonly PATH]...\n" +
        "  --drive, --drive-readonly: one virtio-blk device each, after --rootfs, in the order given (/dev/vda, /dev/vdb, ...);\n" +
        "  with --restore they name the snapshot's drives anew (as many, each as read-only as it was).\n" +
        "  --cmdline-append: added to the end of the command line (default or --cmdline), e.g. the guest's ip=.\n" +
        "  --pvlite-guest: the kernel is a pv-lite guest (guest/kernel/build.sh's): no software-KVM profile on kvm_pvm.\n" +
        "  --netns: the network namespace (e.g. /run/netns/NAME) the TAP is opened in; default: this process's own.\n" +
        "  --nexus-fds: inherited descriptors (a memfd and two eventfds) that become the Nexus region, its doorbell and its\n" +
        "  interrupt; --snapshot-to: boot, snapshot into DIR when the guest first rings its doorbell (ready), exit.";

    public static int Main(string[] args)
    {
        if (!VmmArguments.TryParse(args, out var parsed, out var parseError))
        {
            Console.Error.WriteLine($"error: {parseError}\n{Usage}");
            return 2;
        }

        var values = parsed.Values;
        var drives = parsed.Drives.Select(d => d with { Path = Path.GetFullPath(d.Path) }).ToList();
        byte[]? mac = null;
        NexusChannelFds? channel = null;
        if (!Number(values, "--mem", 256, out var mem) || !Number(values, "--vcpus", 1, out var vcpus)
            || !Number(values, "--cid", 3, out var cid) || !Number(values, "--timeout", 0, out var timeout)
            || !Number(values, "--nexus-region", 0, out var regionMiB)
            || (values.TryGetValue("--mac", out var macText) && !ConsoleRun.TryParseMac(macText, out mac)))
        {
            Console.Error.WriteLine($"error: --mem, --vcpus, --cid, --timeout and --nexus-region take whole numbers, --mac six hex bytes\n{Usage}");
            return 2;
        }

        if (values.TryGetValue("--nexus-fds", out var fdsText) && !InheritedChannel.TryAdopt(fdsText, out channel, out var fdError))
        {
            Console.Error.WriteLine($"error: --nexus-fds {fdsText}: {fdError}");
            return 2;
        }

        var wait = timeout > 0 ? TimeSpan.FromSeconds(timeout) : Timeout.InfiniteTimeSpan;
        if (values.TryGetValue("--restore", out var snapshot))
        {
            return ConsoleRun.RunRestored(
                Path.GetFullPath(snapshot),
                new RestoreOptions
                {
                    NexusChannel = channel,
                    VsockUdsPath = values.TryGetValue("--vsock", out var restoredUds) ? Path.GetFullPath(restoredUds) : null,
                    TapName = values.GetValueOrDefault("--net"),
                    NetnsPath = values.GetValueOrDefault("--netns"),
                    Drives = drives.Count > 0 ? drives : null,
                    ConsoleOutput = ConsoleRun.WriteConsoleByte,
                },
                wait);
        }

        if (!values.TryGetValue("--kernel", out var kernel))
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }

        var config = new VmConfig
        {
            KernelPath = Path.GetFullPath(kernel),
            MemoryMiB = mem,
            Vcpus = (int)Math.Min(vcpus, int.MaxValue),
            BootArgs = values.GetValueOrDefault("--cmdline"),
            AppendBootArgs = values.GetValueOrDefault("--cmdline-append"),
            Drives = drives,
            Net = values.TryGetValue("--net", out var tap) ? new NetConfig(tap, mac, values.GetValueOrDefault("--netns")) : null,
            Vsock = values.TryGetValue("--vsock", out var uds) ? new VsockConfig(cid, Path.GetFullPath(uds)) : null,
            ConsoleOutput = ConsoleRun.WriteConsoleByte,
            NexusChannel = channel,
            NexusRegionSize = channel is not null ? (ulong)Nexus.Interop.Memory.Length(channel.Region) : regionMiB << 20,
            PvLiteGuest = parsed.PvLiteGuest,
        };
        return values.TryGetValue("--snapshot-to", out var snapshotDir)
            ? ReadySnapshot.Take(config, Path.GetFullPath(snapshotDir), timeout > 0 ? wait : TimeSpan.FromSeconds(60))
            : ConsoleRun.Run(config, wait);
    }

    private static bool Number(IReadOnlyDictionary<string, string> values, string name, ulong fallback, out ulong value)
    {
        value = fallback;
        return !values.TryGetValue(name, out var text) || ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }
}
