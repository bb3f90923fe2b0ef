// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using Nexus.Interop;

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
/// </summary>
public sealed class MicrovmSandboxDriver : ISandboxDriver, IAsyncDisposable
{
    private readonly MicrovmDriverOptions _options;
    private readonly ReadySnapshots _snapshots;
    private readonly string _instances;
    private IReadOnlyList<string>? _vmm;

    public MicrovmSandboxDriver(MicrovmDriverOptions? options = null)
    {
        _options = options ?? new MicrovmDriverOptions();
        _instances = Path.Combine(_options.RunDirectory, "instances");
        _snapshots = new ReadySnapshots(Path.Combine(_options.RunDirectory, "snapshots"), _options, () => Vmm);

        // Process-wide and idempotent: a VMM whose spawning thread is gone is still our child to reap.
        ChildProcess.BecomeSubreaper();
    }

    public string Name => "microvm";

    public MicrovmDriverOptions Options => _options;

    /// <summary>Ready snapshots made so far (one per template key).</summary>
    public int SnapshotCount => _snapshots.Count;

    private IReadOnlyList<string> Vmm => _vmm ??= _options.VmmCommand.Count > 0 ? _options.VmmCommand : VmmExecutable.Locate();

    /// <summary>Kills the VMMs an earlier node left running (by their pid files) and removes their folders and snapshots.</summary>
    public Task PrepareHostAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_instances);
        foreach (var folder in Directory.EnumerateDirectories(_instances, _options.InstancePrefix + "*"))
        {
            VmmProcesses.KillLeftover(folder);
            Directory.Delete(folder, recursive: true);
        }

        _snapshots.RemoveLeftovers();
        return Task.CompletedTask;
    }

    public async Task<ISandboxInstance> StartAsync(SandboxSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var kernel = CheckSpec(spec);
        var regionSize = Memory.Length((SafeFd)spec.PassedFds[0]);
        var snapshot = _options.Snapshots && spec.TemplateKey is { } key
            ? await _snapshots.GetAsync(key, kernel, spec.MemoryMb, regionSize, cancellationToken)
            : null;
        cancellationToken.ThrowIfCancellationRequested();

        var folder = Path.Combine(_instances, spec.InstanceId);
        if (Directory.Exists(folder))
        {
            throw new InvalidOperationException($"instance id '{spec.InstanceId}' is already in use ({folder} exists)");
        }

        Directory.CreateDirectory(folder);
        try
        {
            List<string> arguments = snapshot is not null
                ? ["--restore", snapshot, "--nexus-fds", "3,4,5"]
                : ["--kernel", kernel, "--mem", spec.MemoryMb.ToString(CultureInfo.InvariantCulture), "--nexus-fds", "3,4,5"];
            var (vmm, pumps) = VmmProcesses.Spawn(Vmm, arguments, spec.PassedFds, spec.OnOutput);
            VmmProcesses.WritePidFile(folder, vmm.Pid);
            return new MicrovmSandboxInstance(spec.InstanceId, folder, vmm, pumps, restored: snapshot is not null);
        }
        catch
        {
            Directory.Delete(folder, recursive: true);
            throw;
        }
    }

    public async ValueTask DisposeAsync() => await _snapshots.DisposeAsync();

    /// <summary>What this driver can run: a nexus-mode instance (its channel as three descriptors) with a configured guest.</summary>
    private string CheckSpec(SandboxSpec spec)
    {
        var where = $"instance '{spec.InstanceId}' (sandbox: microvm): ";
        if (spec.InstanceId is null || !spec.InstanceId.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-') || spec.InstanceId.Length is 0 or > 40)
        {
            throw new ArgumentException(where + "the id must be 1 to 40 characters of [a-z0-9-]", nameof(spec));
        }

        if (spec.Network != SandboxNetwork.LoopbackOnly || spec.PassedFds.Count != 3 || spec.PassedFds[0] is not SafeFd)
        {
            throw new ArgumentException(where + "only io: nexus runs in a microVM here (the channel's region and doorbells become the VM's Nexus region); " +
                "baseline mode needs a Linux guest with its own network stack, which this host cannot run yet (docs/vmm.md)", nameof(spec));
        }

        var kernel = _options.GuestKernel
            ?? throw new ArgumentException(where + "this node has no guest kernel for microVMs: set microvmKernel in node.json (or NEXUS_MICROVM_KERNEL)", nameof(spec));
        return File.Exists(kernel) ? kernel : throw new ArgumentException(where + $"the guest kernel {kernel} does not exist", nameof(spec));
    }
}
