// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Net;
using Nexus.Image;
using Nexus.Interop;
using Nexus.Sandbox.Network;

namespace Nexus.Sandbox.Microvm;

/// <summary>
/// The <c>microvm</c> driver: every instance is a KVM micro-VM in its own VMM process (<c>nexus-vmm</c>, the isolation
/// default: a VMM bug or guest escape reaches one VM). The instance's Nexus channel (the transport's region memfd and
/// two eventfds, <see cref="SandboxSpec.PassedFds"/>) is handed to the VMM as fd 3, 4 and 5, where it becomes the guest's
/// Nexus region, the doorbell ioeventfd and the interrupt irqfd: the node's channel host serves the VM exactly as it
/// serves a container, and neither the VMM nor this driver is on the data path.
/// <para>
/// Cold starts: the first instance of a template key (a function revision) boots the guest once and snapshots it when
/// the guest rings its doorbell with no channel yet ("ready"); every instance then restores from that snapshot (guest
/// memory MAP_PRIVATE from the snapshot file, so restored VMs share its pages), with its channel (and whatever the
/// backend prefetched into it) attached before the vCPUs run.
/// </para>
/// <para>
/// A Linux guest (<see cref="MicrovmGuestKind.Linux"/>) boots with the function image's erofs root and a code drive
/// (<see cref="GuestDrives"/>); its runtime rings "ready" when it opens the region device, after the handler's imports.
/// </para>
/// <para>
/// Baseline instances (io: baseline) get a virtio-net device on a TAP in their own network namespace, behind the same
/// veth and firewall as the oci driver's sandboxes (<see cref="VmNetwork"/>); they boot their guest (no ready snapshot:
/// "ready" is a ring of the Nexus region, which they do not have).
/// </para>
/// </summary>
public sealed class MicrovmSandboxDriver : ISandboxDriver, IAsyncDisposable
{
    /// <summary>Where nexus-init mounts the code drive's task/ (and the pool mounts the function folder in a container).</summary>
    private const string TaskRoot = "/var/task";

    private readonly MicrovmDriverOptions _options;
    private readonly ReadySnapshots _snapshots;
    private readonly GuestDrives _drives;
    private readonly string _instances;
    private readonly BaselineHost _host;
    private readonly VmNetwork _network;
    private IReadOnlyList<string>? _vmm;
    private VmmJail? _jail;

    public MicrovmSandboxDriver(MicrovmDriverOptions? options = null)
    {
        _options = options ?? new MicrovmDriverOptions();
        _instances = Path.Combine(_options.RunDirectory, "instances");
        _snapshots = new ReadySnapshots(Path.Combine(_options.RunDirectory, "snapshots"), _options, () => Vmm, () => Jail);
        _drives = new GuestDrives(Path.Combine(_options.RunDirectory, "drives"), _options.InstancePrefix, _options.Log);
        var ip = HostTool.Resolve(_options.IpPath, "iproute2 for the baseline network");
        var nft = HostTool.Resolve(_options.NftPath, "nftables (apt-get install nftables) for the sandbox firewall");
        var network = new HostNetwork(_options.Network, ip);
        _host = new BaselineHost(network, new SandboxFirewall(_options.Network, nft), _options.Log);
        _network = new VmNetwork(network, ip, nft, HostTool.Resolve(_options.SsPath, "iproute2 (ss) to close a stopped VM's connections"), _options.GuestLinkNetwork);

        // Process-wide and idempotent: a VMM whose spawning thread is gone is still our child to reap.
        ChildProcess.BecomeSubreaper();
    }

    public string Name => "microvm";

    public MicrovmDriverOptions Options => _options;

    /// <summary>Ready snapshots made so far (one per template key).</summary>
    public int SnapshotCount => _snapshots.Count;

    private IReadOnlyList<string> Vmm => _vmm ??= _options.VmmCommand.Count > 0 ? _options.VmmCommand : VmmExecutable.Locate();

    /// <summary>The jail every instance's VMM runs in; null when <see cref="MicrovmDriverOptions.Jail"/> is off.</summary>
    public VmmJail? Jail => _options.Jail is { } jail ? _jail ??= new VmmJail(jail, Vmm) : null;

    /// <summary>The baseline network's host side (netns and veth per instance, service link).</summary>
    public HostNetwork Network => _network.Host;

    /// <summary>
    /// Kills the VMMs an earlier node left running (by their pid files), removes their folders, snapshots and networks
    /// (netns, veth; a TAP goes with its netns), and prepares the baseline network's host side.
    /// </summary>
    public async Task PrepareHostAsync(CancellationToken cancellationToken)
    {
        // VMMs by their cgroups first (a jailed one's unshare parent then reaps it and ends: see VmCgroup.KillVmm), then
        // by pid file (a VM of a node that made no cgroups).
        Directory.CreateDirectory(_instances);
        foreach (var folder in Directory.EnumerateDirectories(_instances, _options.InstancePrefix + "*"))
        {
            await RemoveLeftoverVmAsync(folder);
        }

        await _snapshots.RemoveLeftoversAsync(RemoveLeftoverVmAsync);
        _drives.RemoveAll();

        await _network.Host.RemoveLeftoversAsync(_options.InstancePrefix);
        await _host.PrepareAsync(cancellationToken);
    }

    private async Task RemoveLeftoverVmAsync(string runFolder)
    {
        if (_options.Cgroups is { } cgroups)
        {
            await VmCgroup.RemoveLeftoverAsync(cgroups, Path.GetFileName(runFolder));
        }

        VmmProcesses.KillLeftover(runFolder);
        Directory.Delete(runFolder, recursive: true);
    }

    public Task RestrictSandboxTrafficAsync(IReadOnlyCollection<int> serviceTcpPorts, IPEndPoint? routedEndpoint, CancellationToken cancellationToken) =>
        _host.RestrictAsync(serviceTcpPorts, routedEndpoint, cancellationToken);

    public Task ReleaseHostAsync() => _host.ReleaseAsync();

    /// <summary>The retired revision's ready snapshot and code drive are deleted now; its running VMs use their own links.</summary>
    public void ReleaseTemplate(string templateKey)
    {
        _snapshots.Release(templateKey);
        _drives.Release(templateKey);
    }

    public async Task<ISandboxInstance> StartAsync(SandboxSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var kernel = CheckSpec(spec);
        var baseline = spec.Network == SandboxNetwork.Veth;
        var templateKey = _options.Snapshots && !baseline ? spec.TemplateKey : null;
        var folder = Path.Combine(_instances, spec.InstanceId);
        if (Directory.Exists(folder))
        {
            throw new InvalidOperationException($"instance id '{spec.InstanceId}' is already in use ({folder} exists)");
        }

        Directory.CreateDirectory(folder);
        var id = spec.InstanceId;
        var netns = baseline ? _network.Host.NetnsPath(id) : null;
        VethSlot? veth = null;
        JailedVmm? jailed = null;
        VmCgroup? cgroup = null;
        try
        {
            var boot = await GuestBootAsync(spec, kernel, baseline, templateKey, folder, cancellationToken);
            var snapshot = templateKey is null
                ? null
                : await _snapshots.GetAsync(templateKey, boot, spec.MemoryMb, Memory.Length((SafeFd)spec.PassedFds[0]), cancellationToken);
            cancellationToken.ThrowIfCancellationRequested();

            // The instance restores from its own links of the snapshot and drives, which outlive the revision's (ReleaseTemplate).
            snapshot = snapshot is null ? null : _snapshots.LinkInto(snapshot, Path.Combine(folder, "snapshot"));
            boot = boot with { Drives = GuestDrives.LinkInto(boot.Drives, Path.Combine(folder, "drives")) };

            // In a jail the VMM sees its files at fixed places in its chroot.
            var (bootArguments, snapshotArgument) = (boot, snapshot);
            if (_options.Cgroups is { } cgroups)
            {
                var guestBytes = ((long)spec.MemoryMb << 20) + (baseline ? 0 : Memory.Length((SafeFd)spec.PassedFds[0]));
                cgroup = VmCgroup.Create(cgroups, id, guestBytes, spec.Cpus);
            }

            if (Jail is { } jail)
            {
                jailed = jail.Prepare(folder, cgroup ?? throw new InvalidOperationException("a jailed VMM runs in its VM's cgroups: the driver's Cgroups option cannot be null with Jail set"), boot.JailFiles(snapshot), tun: baseline, netns);
                (bootArguments, snapshotArgument) = (boot.InJail(), snapshot is null ? null : GuestBoot.JailSnapshot);
            }

            var arguments = snapshotArgument is not null ? bootArguments.RestoreArguments(snapshotArgument) : bootArguments.BootArguments(spec.MemoryMb);
            if (baseline)
            {
                veth = await _network.CreateAsync(id, jailed?.Uid, cancellationToken);

                // A jailed VMM is already in the netns; otherwise a thread of it joins the netns to open the TAP.
                arguments.AddRange(["--net", VmNetwork.TapName, "--mac", VmNetwork.GuestMac, .. jailed is null ? ["--netns", netns!] : Array.Empty<string>()]);
            }
            else
            {
                arguments.AddRange(["--nexus-fds", "3,4,5"]);
            }

            // A restored VM would otherwise run with the snapshot's CRNG, clock and per-instance environment: its own are
            // in its region before its vCPUs run.
            if (snapshot is not null)
            {
                RestoreRecord.Create(InstanceEnvironment(spec)).WriteTo((SafeFd)spec.PassedFds[0]);
            }

            var (vmm, pumps) = VmmProcesses.Spawn(jailed?.Command ?? Vmm, arguments, spec.PassedFds, spec.OnOutput, jailed is not null, cgroup);
            VmmProcesses.WritePidFile(folder, vmm.Pid);
            return new MicrovmSandboxInstance(id, folder, vmm, pumps, restored: snapshot is not null, veth?.SandboxAddress, jailed, cgroup, _options.GuestKind == MicrovmGuestKind.Linux, () => RemoveNetworkAsync(id, veth));
        }
        catch
        {
            await RemoveNetworkAsync(id, veth);
            if (cgroup is not null)
            {
                await cgroup.RemoveAsync(TimeSpan.FromSeconds(5));
            }

            Directory.Delete(folder, recursive: true);
            throw;
        }
    }

    /// <summary>
    /// What the instance boots (or its snapshot was booted with). A freestanding guest: the kernel alone (baseline: its
    /// address on the command line). A Linux guest: the image's erofs root as /dev/vda and a code drive as /dev/vdb (the
    /// function folder, the runtime's command and environment: the revision's shared one when it restores from a ready
    /// snapshot, else its own in <paramref name="folder"/>), the /tmp size for nexus-init, and baseline's address; its kernel
    /// is a pv-lite guest (guest/kernel/build.sh's), so on kvm_pvm it keeps XSAVE and AVX.
    /// </summary>
    private async Task<GuestBoot> GuestBootAsync(SandboxSpec spec, string kernel, bool baseline, string? templateKey, string folder, CancellationToken cancellationToken)
    {
        var append = baseline ? _network.GuestBootArgs : null;
        if (_options.GuestKind == MicrovmGuestKind.Freestanding)
        {
            return new GuestBoot(kernel, [], append);
        }

        var task = spec.ReadOnlyMounts.Single(m => m.Value == TaskRoot).Key;
        var launch = GuestDrives.Launch(spec, nexus: !baseline);
        var root = _drives.RootAsync(spec.RootfsPath, cancellationToken);
        string code;
        if (templateKey is not null)
        {
            code = await _drives.TemplateCodeAsync(templateKey, task, launch, spec.InstanceVariables, cancellationToken);
        }
        else
        {
            code = Path.Combine(folder, "code.erofs");
            await GuestDisks.BuildCodeDriveAsync(task, launch, code, cancellationToken);
        }

        return new GuestBoot(kernel, [await root, code], GuestCommandLine(append, spec.TmpMb), PvLiteGuest: true);
    }

    /// <summary>The instance's own values of the variables that differ between instances of its revision (the log stream).</summary>
    public static IEnumerable<KeyValuePair<string, string>> InstanceEnvironment(SandboxSpec spec) =>
        spec.Environment.Where(e => spec.InstanceVariables.Contains(e.Key));

    /// <summary>
    /// What a Linux guest's command line gets after the VMM's own: baseline's address (or nothing), nexus-init's /tmp
    /// size, and the CRNG seeded from the CPU's RDRAND at boot: without it the guest's pool was not ready when the
    /// runtime started and Python's first getrandom() waited about a second (measured on kvm_pvm: "crng init done" at
    /// 0.05 s with it, not yet at /init without). A restored guest is reseeded from the host's restore record as well.
    /// And <c>quiet</c>: the kernel prints only errors to the console (the rest stays in its log buffer). Each console byte
    /// is an exit to the VMM: the boot log was 84% of a boot's exits and quiet halved the time to user space on kvm_pvm
    /// (docs/vmm.md, "nexus vmm bench --linux"). nexus-init's and the function's own lines are not kernel messages.
    /// </summary>
    public static string GuestCommandLine(string? address, int tmpMb) =>
        (address is null ? string.Empty : address + " ") + "nexus_init.tmp=" + tmpMb.ToString(CultureInfo.InvariantCulture) + " random.trust_cpu=on quiet";

    private Task RemoveNetworkAsync(string instanceId, VethSlot? veth) =>
        veth is null ? Task.CompletedTask : _network.RemoveAsync(instanceId, veth);

    public async ValueTask DisposeAsync()
    {
        await _snapshots.DisposeAsync();
        _drives.RemoveAll();
    }

    /// <summary>What this driver can run: a nexus-mode instance (its channel as three descriptors) or a baseline one (a veth, no descriptors), with a configured guest.</summary>
    private string CheckSpec(SandboxSpec spec)
    {
        var where = $"instance '{spec.InstanceId}' (sandbox: microvm): ";
        if (spec.InstanceId is null || !spec.InstanceId.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-') || spec.InstanceId.Length is 0 or > 40)
        {
            throw new ArgumentException(where + "the id must be 1 to 40 characters of [a-z0-9-]", nameof(spec));
        }

        if (WhyHostCannotRun(null) is { } why)
        {
            throw new ArgumentException(where + why, nameof(spec));
        }

        var nexus = spec.Network == SandboxNetwork.LoopbackOnly && spec.PassedFds.Count == 3 && spec.PassedFds[0] is SafeFd;
        var baseline = spec.Network == SandboxNetwork.Veth && spec.PassedFds.Count == 0;
        if (!nexus && !baseline)
        {
            throw new ArgumentException(where + "a microVM runs io: nexus (the channel's region and two eventfds become the VM's Nexus region) " +
                "or io: baseline (a veth network and no descriptors: the guest gets virtio-net)", nameof(spec));
        }

        if (_options.GuestKind == MicrovmGuestKind.Linux
            && (spec.ReadOnlyMounts.Count != 1 || !spec.ReadOnlyMounts.Values.Contains(TaskRoot) || spec.WorkingDirectory != TaskRoot))
        {
            throw new ArgumentException(where + $"a Linux guest gets the function folder at {TaskRoot} (its code drive) and starts there; " +
                $"it has no other host folders (asked: {string.Join(", ", spec.ReadOnlyMounts.Select(m => m.Value))}, working directory {spec.WorkingDirectory})", nameof(spec));
        }

        return _options.GuestKernel!;
    }

    /// <summary>What every microVM needs of the host: the KVM device and the configured guest kernel.</summary>
    public string? WhyHostCannotRun(string? sandbox)
    {
        if (!File.Exists(_options.KvmDevice))
        {
            return $"this host has no {_options.KvmDevice}, so it cannot run microVMs (a host that is itself a PVM guest has one only " +
                "when booted with nested_pvm=1: `dmesg | grep kvm-pvm` says why); deploy it with sandbox: oci";
        }

        return _options.GuestKernel switch
        {
            null => "this node has no guest kernel for microVMs: set microvmKernel in node.json (or NEXUS_MICROVM_KERNEL)",
            var kernel when !File.Exists(kernel) => $"the guest kernel {kernel} does not exist",
            _ when _options.GuestKind == MicrovmGuestKind.Linux && GuestDisks.MissingPrerequisite() is { } missing => "a Linux guest's drives need " + missing,
            _ => null,
        };
    }
}
