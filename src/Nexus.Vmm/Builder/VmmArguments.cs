// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Vmm.Builder;

/// <summary>
/// The options of the one-VM <c>nexus-vmm</c> executable, parsed by hand (nothing reflection-based, so it trims): named
/// values, and the drives in the order given, which is the order of their virtio-mmio slots and so of the guest's
/// /dev/vda, /dev/vdb, ... (<c>--rootfs</c>, if given, is always the first).
/// </summary>
public sealed class VmmArguments
{
    private static readonly HashSet<string> s_valued = new(StringComparer.Ordinal)
    {
        "--kernel", "--mem", "--vcpus", "--rootfs", "--cmdline", "--cmdline-append", "--net", "--mac", "--netns", "--vsock",
        "--cid", "--timeout", "--nexus-region", "--nexus-fds", "--snapshot-to", "--restore",
    };

    private VmmArguments(Dictionary<string, string> values, List<DriveConfig> drives)
    {
        Values = values;
        Drives = drives;
    }

    /// <summary><c>--pvlite-guest</c>: the kernel is a pv-lite guest (<see cref="VmConfig.PvLiteGuest"/>).</summary>
    public bool PvLiteGuest { get; private set; }

    /// <summary>Each option that takes a value, by name (the last one wins).</summary>
    public IReadOnlyDictionary<string, string> Values { get; }

    /// <summary>
    /// <c>--rootfs</c> (read-only with <c>--rootfs-readonly</c>) first, then every <c>--drive</c> (read-write) and
    /// <c>--drive-readonly</c> in the order given. Paths are as given (made absolute by the caller).
    /// </summary>
    public IReadOnlyList<DriveConfig> Drives { get; }

    /// <summary>Parses <paramref name="args"/>; false with <paramref name="error"/> naming the first option it could not take.</summary>
    public static bool TryParse(IReadOnlyList<string> args, out VmmArguments parsed, out string error)
    {
        ArgumentNullException.ThrowIfNull(args);
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var drives = new List<DriveConfig>();
        var rootReadOnly = false;
        parsed = new VmmArguments(values, drives);
        error = string.Empty;
        for (var i = 0; i < args.Count; i++)
        {
            var option = args[i];
            if (option is "--rootfs-readonly")
            {
                rootReadOnly = true;
            }
            else if (option is "--pvlite-guest")
            {
                parsed.PvLiteGuest = true;
            }
            else if (option is "--drive" or "--drive-readonly" && i + 1 < args.Count)
            {
                drives.Add(new DriveConfig(args[++i], ReadOnly: option is "--drive-readonly"));
            }
            else if (s_valued.Contains(option) && i + 1 < args.Count)
            {
                values[option] = args[++i];
            }
            else
            {
                error = $"unknown or incomplete option '{option}'";
                return false;
            }
        }

        if (values.TryGetValue("--rootfs", out var root))
        {
            drives.Insert(0, new DriveConfig(root, rootReadOnly));
        }
        else if (rootReadOnly)
        {
            error = "--rootfs-readonly without --rootfs";
            return false;
        }

        if (values.ContainsKey("--restore") && values.ContainsKey("--rootfs"))
        {
            error = "--rootfs does not go with --restore: the snapshot names its drives (--drive/--drive-readonly give their paths anew)";
            return false;
        }

        return true;
    }
}
