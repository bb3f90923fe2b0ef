// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Net;
using Nexus.Interop;

namespace Nexus.Sandbox.Microvm;

/// <summary>
/// One microVM: a <c>nexus-vmm</c> process (our child, reaped by us) whose guest console and VMM messages are the
/// instance's output. Its exit code is the guest's (exit port), 1 for a guest crash (triple fault, KVM error), 2 when the
/// VM could not be built. Stopping kills the process; nothing of the VM outlives it but its run folder (with its jail's
/// chroot), its cgroups and, for a baseline VM, its network (netns, veth, TAP, and the host's ends of its TCP
/// connections, which its guest never closed), all removed here. A jailed VMM is the child of the <c>unshare</c> that
/// is our child (it relays the VMM's exit status and, killed, takes the VMM along).
/// </summary>
public sealed class MicrovmSandboxInstance : ISandboxInstance
{
    private const int SIGKILL = 9;

    /// <summary>
    /// nexus-init's exit status when the guest kernel's OOM killer ended the runtime (guest/init/init.c): the function ran
    /// out of its memory, which is the guest's RAM. The guest says so itself; one that lies about its own end misreports
    /// only itself.
    /// </summary>
    internal const int RuntimeOutOfMemoryStatus = 251;

    /// <summary>How long output may trail the VMM's exit (every writer is dead by then; this only bounds a bug).</summary>
    private static readonly TimeSpan s_outputDrain = TimeSpan.FromSeconds(2);

    private readonly TaskCompletionSource<SandboxExit> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();
    private readonly ChildProcess _vmm;
    private readonly OutputPump[] _pumps;
    private readonly Func<Task> _removeNetwork;
    private readonly JailedVmm? _jail;
    private readonly VmCgroup? _cgroup;
    private readonly bool _linuxGuest;
    private int _jailedPid;
    private long _peakBytes;
    private Task? _stop;

    internal MicrovmSandboxInstance(string instanceId, string runFolder, ChildProcess vmm, OutputPump[] pumps, bool restored, IPAddress? address, JailedVmm? jail, VmCgroup? cgroup, bool linuxGuest, Func<Task> removeNetwork)
    {
        _cgroup = cgroup;
        _linuxGuest = linuxGuest;
        InstanceId = instanceId;
        Address = address;
        _removeNetwork = removeNetwork;
        _jail = jail;
        RunFolder = runFolder;
        Restored = restored;
        _vmm = vmm;
        _pumps = pumps;
        _ = WatchAsync();
    }

    public string InstanceId { get; }

    /// <summary>
    /// Nexus mode: null (every byte goes over the Nexus region). Baseline: the veth's sandbox address, which the guest's
    /// packets carry on the host (masqueraded in the VM's netns).
    /// </summary>
    public IPAddress? Address { get; }

    public Task<SandboxExit> Exited => _exited.Task;

    /// <summary>The VMM process (jailed: its pid outside the jail's PID namespace; 0 until it exists or once it is gone).</summary>
    public int Pid => _jail is null ? _vmm.Pid : JailedPid();

    /// <summary>The VMM's jail (chroot, uid, command); null when it runs unjailed.</summary>
    public JailedVmm? Jail => _jail;

    /// <summary>The VM's cgroups (memory, pids, cpu); null when the driver makes none.</summary>
    public VmCgroup? Cgroup => _cgroup;

    /// <summary>True when the VM was restored from its function's ready snapshot; false when it booted.</summary>
    public bool Restored { get; }

    /// <summary>The instance's folder under the driver's run directory (the VMM's pid file).</summary>
    public string RunFolder { get; }

    /// <summary>
    /// The VMM process's memory: guest memory it touched plus the VMM itself. The "cgroup" figure is the VM's memory
    /// cgroup usage, or the process's RSS without one.
    /// </summary>
    public SandboxMemory ReadMemory()
    {
        var (rss, pss, uss) = Pid is > 0 and var pid ? ProcessFiles.SmapsRollup(pid) : (0, 0, 0);
        Interlocked.Exchange(ref _peakBytes, Math.Max(Interlocked.Read(ref _peakBytes), rss));
        return new SandboxMemory(_cgroup?.Cgroup.MemoryUsage() ?? rss, pss, uss, rss);
    }

    /// <summary>
    /// The VMM process's peak RSS (VmHWM): read after every invocation, so not from smaps_rollup, which walks the page
    /// tables of all guest memory (the 1.6-3.7 ms "pool resumes -> REPORT queued" of `bench compare --sandbox microvm`).
    /// </summary>
    public long ReadPeakMemoryBytes() => Math.Max(Pid is > 0 and var pid ? ProcessFiles.PeakRss(pid) : 0, Interlocked.Read(ref _peakBytes));

    /// <summary>CPU time of the VMM process (its vCPU threads run the guest).</summary>
    public TimeSpan ReadCpuTime() => Pid is > 0 and var pid ? ProcessFiles.CpuTime(pid) : TimeSpan.Zero;

    /// <summary>
    /// The VM's quota and weight follow the instance's CPUs as a container's do (the whole VM: vCPU and VMM threads);
    /// false when the driver makes no cgroups.
    /// </summary>
    public bool TrySetCpuLimit(double cpus)
    {
        if (_cgroup is null)
        {
            return false;
        }

        _cgroup.SetCpuLimit(cpus);
        return true;
    }

    /// <summary>
    /// The VMM's threads (vCPU included) and what they start get the slice request, as a container's processes do: a
    /// spinning guest then holds a host core from a waking neighbour for at most that; false without cgroups.
    /// </summary>
    public bool TrySetSliceRequest(long nanoseconds)
    {
        if (_cgroup is null)
        {
            return false;
        }

        _cgroup.Cgroup.SetSliceRequest(nanoseconds);
        return true;
    }

    // The guest's console bytes reach the VMM's stdout as the guest writes them to the serial port (each write exits to
    // the VMM, which writes it through unbuffered), and the runtime waits for its console to be sent (tcdrain) before it
    // posts a result: so they are in the socket by then, as a container's are.
    public void DrainOutput(TimeSpan limit) => OutputPump.DrainAll(_pumps, limit);

    public Task StopAsync()
    {
        lock (_gate)
        {
            return _stop ??= StopCoreAsync();
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    private async Task WatchAsync()
    {
        try
        {
            var status = await _vmm.Exited;
            await Task.WhenAny(Task.WhenAll(_pumps.Select(p => p.Completion)), Task.Delay(s_outputDrain));
            _exited.TrySetResult(_linuxGuest && status.ExitCode == RuntimeOutOfMemoryStatus
                ? new SandboxExit(ExitCode: null, Signal: SIGKILL, OutOfMemory: true)
                : new SandboxExit(status.ExitCode, status.Signal, OutOfMemory: _cgroup?.Cgroup.OomKills() > 0));
        }
        catch (Exception e)
        {
            _exited.TrySetException(e);
        }
    }

    private async Task StopCoreAsync()
    {
        // A jailed VMM first (it lost unshare's parent-death signal when it changed uid); unshare then ends by itself.
        if (_jail is not null && _cgroup is not null)
        {
            _cgroup.KillVmm();
            await Task.WhenAny(_exited.Task, Task.Delay(s_outputDrain));
        }

        _vmm.Signal(SIGKILL);
        try
        {
            await _exited.Task;
        }
        catch (InvalidOperationException)
        {
            // Exit status unknown; the folder goes regardless.
        }

        foreach (var pump in _pumps)
        {
            pump.Abort();
        }

        // The VMM (the TAP's last user) is dead or dying: the netns and its TAP go once it is.
        await _removeNetwork();
        if (_cgroup is not null && !await _cgroup.RemoveAsync(TimeSpan.FromSeconds(5)))
        {
            throw new IOException($"instance '{InstanceId}': the VM's cgroups {string.Join(", ", _cgroup.Directories)} still have processes 5 s after the VMM was killed");
        }

        if (Directory.Exists(RunFolder))
        {
            Directory.Delete(RunFolder, recursive: true);
        }
    }

    /// <summary>The jailed VMM: the one child of our child (unshare), from /proc/&lt;pid&gt;/task/&lt;pid&gt;/children.</summary>
    private int JailedPid()
    {
        if (_jailedPid == 0)
        {
            try
            {
                var children = File.ReadAllText($"/proc/{_vmm.Pid}/task/{_vmm.Pid}/children").Split(' ', StringSplitOptions.RemoveEmptyEntries);
                _jailedPid = children.Length == 1 ? int.Parse(children[0], CultureInfo.InvariantCulture) : 0;
            }
            catch (IOException)
            {
                // unshare is gone (and with it the VMM), or not forked yet.
            }
        }

        return _jailedPid;
    }
}
