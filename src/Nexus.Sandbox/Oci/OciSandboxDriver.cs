// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Net;
using Nexus.Interop;
using Nexus.Sandbox.Network;

namespace Nexus.Sandbox.Oci;

/// <summary>
/// The <c>oci</c> driver: every instance is a container of an OCI runtime (runc; any runc-CLI-compatible
/// binary can be configured). Per start: one config.json written from a prebuilt template, one
/// <c>runc run --detach</c> spawn (plus two <c>ip -batch</c> spawns for the baseline network).
/// <para>
/// Why detached: a foreground <c>runc run</c> stays resident as a Go process per instance (megabytes each,
/// which density measurements would charge to the node) and removes the cgroup as soon as the container
/// exits, before its OOM counter can be read. Detached, the container's first process is reparented to
/// this process (a child subreaper), which reaps it, and the cgroup stays until teardown.
/// </para>
/// </summary>
public sealed class OciSandboxDriver : ISandboxDriver
{
    private readonly OciDriverOptions _options;
    private readonly OciConfigBuilder _configs;
    private readonly string _runtime;
    private readonly string _bundles;
    private readonly string _state;
    private readonly BaselineHost _host;

    public OciSandboxDriver(OciDriverOptions? options = null)
    {
        _options = options ?? new OciDriverOptions();
        _configs = new OciConfigBuilder(_options);
        _runtime = HostTool.Resolve(_options.RuntimePath, "the OCI runtime of the oci driver");
        Network = new HostNetwork(_options.Network, HostTool.Resolve(_options.IpPath, "iproute2 for the baseline network"));
        _host = new BaselineHost(Network, new SandboxFirewall(_options.Network, HostTool.Resolve(_options.NftPath, "nftables (apt-get install nftables) for the sandbox firewall")))
        {
            CheckInterval = _options.HostNetworkCheckInterval,
        };
        _bundles = Path.Combine(_options.RunDirectory, "bundles");
        _state = Path.Combine(_options.RunDirectory, "runc");

        // Process-wide and idempotent: containers' first processes must become our children.
        ChildProcess.BecomeSubreaper();
    }

    public string Name => "oci";

    public OciDriverOptions Options => _options;

    public HostNetwork Network { get; }

    /// <summary>The runtime's state root (<c>--root</c>): only Nexus's containers live there.</summary>
    public string StateRoot => _state;

    public string BundleRoot => _bundles;

    public async Task PrepareHostAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_bundles);
        Directory.CreateDirectory(_state);
        await RemoveLeftoversAsync(cancellationToken);
        await _host.PrepareAsync(cancellationToken);
    }

    /// <summary>The last driver of this process to release the host removes the firewall table and the service link.</summary>
    public Task ReleaseHostAsync() => _host.ReleaseAsync();

    public Task RestrictSandboxTrafficAsync(IReadOnlyCollection<int> serviceTcpPorts, IPEndPoint? routedEndpoint, CancellationToken cancellationToken) =>
        _host.RestrictAsync(serviceTcpPorts, routedEndpoint, cancellationToken);

    public async Task<ISandboxInstance> StartAsync(SandboxSpec spec, CancellationToken cancellationToken)
    {
        SandboxSpecValidator.Validate(spec);
        cancellationToken.ThrowIfCancellationRequested();
        var id = spec.InstanceId;
        var bundle = Path.Combine(_bundles, id);
        if (Directory.Exists(bundle) || Directory.Exists(Path.Combine(_state, id)))
        {
            throw new InvalidOperationException($"instance id '{id}' is already in use (bundle {bundle} or runtime state exists)");
        }

        Directory.CreateDirectory(_state);
        Directory.CreateDirectory(bundle);
        var instance = new OciSandboxInstance(this, id, bundle, new CgroupV1(_options.CgroupRoot, _configs.CgroupsPath(id)));
        try
        {
            string? netns = null;
            if (spec.Network == SandboxNetwork.Veth)
            {
                instance.Veth = await Network.CreateAsync(id, cancellationToken);
                netns = Network.NetnsPath(id);
                cancellationToken.ThrowIfCancellationRequested();
            }

            var configPath = Path.Combine(bundle, "config.json");
            await File.WriteAllBytesAsync(configPath, OciConfigBuilder.Serialize(_configs.Build(spec, netns)), cancellationToken);
            await RunContainerAsync(instance, spec, bundle);
            return instance;
        }
        catch
        {
            await instance.StopAsync();
            throw;
        }
    }

    /// <summary>Starts the container and attaches its first process to the instance.</summary>
    private async Task RunContainerAsync(OciSandboxInstance instance, SandboxSpec spec, string bundle)
    {
        var pidFile = Path.Combine(bundle, "pid");
        var args = new List<string> { "--root", _state, "run", "--detach", "--bundle", bundle, "--pid-file", pidFile };
        if (spec.PassedFds.Count > 0)
        {
            args.Add("--preserve-fds");
            args.Add(spec.PassedFds.Count.ToString(CultureInfo.InvariantCulture));
        }

        args.Add(spec.InstanceId);

        var (stdoutHost, stdoutChild) = ChildProcess.CreateSocketPair();
        var (stderrHost, stderrChild) = ChildProcess.CreateSocketPair();
        OutputPump[] pumps = [new OutputPump(stdoutHost, spec.OnOutput, isError: false), new OutputPump(stderrHost, spec.OnOutput, isError: true)];
        instance.AttachOutput(pumps);
        ChildProcess runtime;
        try
        {
            // The container inherits runc's stdio (runc passes it through when there is no terminal).
            runtime = ChildProcess.Spawn(new ChildStartInfo
            {
                Path = _runtime,
                Arguments = args,
                Environment = HostTool.Environment,
                StandardOutput = stdoutChild,
                StandardError = stderrChild,
                InheritedFds = spec.PassedFds,
                NewSession = true,
            });
        }
        finally
        {
            stdoutChild.Dispose();
            stderrChild.Dispose();
        }

        var status = await runtime.Exited;
        if (status.ExitCode != 0)
        {
            // Nothing else holds the sockets when the start failed: runc's message is all there is to read.
            await Task.WhenAny(Task.WhenAll(pumps.Select(p => p.Completion)), Task.Delay(TimeSpan.FromSeconds(2)));
            throw new OciStartException(
                $"{Path.GetFileName(_runtime)} could not start instance '{spec.InstanceId}' (exit {status.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "signal " + status.Signal}): {pumps[1].LastLines()}");
        }

        var pidText = await File.ReadAllTextAsync(pidFile);
        if (!int.TryParse(pidText.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid <= 1)
        {
            throw new OciStartException($"instance '{spec.InstanceId}': the runtime wrote no valid pid to {pidFile} ('{pidText.Trim()}')");
        }

        instance.Attach(ChildProcess.Adopt(pid), pumps);
    }

    /// <summary>Removes the runtime state, cgroups, network and bundle of a stopped instance (idempotent).</summary>
    internal async Task TeardownAsync(OciSandboxInstance instance)
    {
        var id = instance.InstanceId;
        var problems = new List<string>();
        if (Directory.Exists(Path.Combine(_state, id)))
        {
            var result = await HostTool.RunAsync(_runtime, ["--root", _state, "delete", "--force", id]);
            if (!result.Succeeded && Directory.Exists(Path.Combine(_state, id)))
            {
                problems.Add($"runtime delete failed: {result.StandardError.Trim()}");
            }
        }

        problems.AddRange(await RemoveCgroupsAsync(instance.Cgroup.ControllerDirectories()));
        try
        {
            await Network.RemoveAsync(id, instance.Veth);
        }
        catch (IOException e)
        {
            problems.Add(e.Message);
        }

        try
        {
            if (Directory.Exists(instance.Bundle))
            {
                Directory.Delete(instance.Bundle, recursive: true);
            }
        }
        catch (IOException e)
        {
            problems.Add($"bundle {instance.Bundle}: {e.Message}");
        }

        if (problems.Count > 0)
        {
            throw new IOException($"instance '{id}' was not removed completely: {string.Join("; ", problems)}");
        }
    }

    /// <summary>Everything an earlier node (crashed or killed) left behind: containers, cgroups, netns, links, bundles.</summary>
    private async Task RemoveLeftoversAsync(CancellationToken cancellationToken)
    {
        var prefix = _options.InstancePrefix;
        var list = await HostTool.RunAsync(_runtime, ["--root", _state, "list", "--quiet"], cancellationToken: cancellationToken);
        if (!list.Succeeded)
        {
            throw new IOException($"cannot list leftover containers in {_state}: {list.StandardError.Trim()}");
        }

        var ids = list.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(id => id.StartsWith(prefix, StringComparison.Ordinal));
        await Task.WhenAll(ids.Select(id => HostTool.RunAsync(_runtime, ["--root", _state, "delete", "--force", id], cancellationToken: cancellationToken)));

        var cgroups = CgroupV1.ControllerMounts(_options.CgroupRoot)
            .Select(c => Path.Combine(c, _options.CgroupParent))
            .Where(Directory.Exists)
            .SelectMany(parent => Directory.EnumerateDirectories(parent, prefix + "*"));
        await RemoveCgroupsAsync(cgroups, killTasks: true);

        await Network.RemoveLeftoversAsync(prefix);

        foreach (var bundle in Directory.EnumerateDirectories(_bundles, prefix + "*"))
        {
            try
            {
                Directory.Delete(bundle, recursive: true);
            }
            catch (DirectoryNotFoundException)
            {
                // Its instance's own teardown finished first: gone is what we wanted.
            }
        }
    }

    /// <summary>
    /// Removes an instance's cgroup directories once their tasks have exited, killing them first with
    /// <paramref name="killTasks"/> (otherwise the caller has: the runtime's delete). The tasks left only exit, so the CPU
    /// quota comes off first: at a tenant's share the exits of a few hundred processes take seconds (a fork bomb's 512
    /// killed sleeps took 2.2 s at 0.145 CPU, docs/reliability.md), longer than the removal waits, and the cgroup stayed.
    /// </summary>
    internal static async Task<List<string>> RemoveCgroupsAsync(IEnumerable<string> directories, bool killTasks = false)
    {
        var problems = new List<string>();
        var existing = directories.Where(Directory.Exists).ToList();
        if (killTasks)
        {
            foreach (var dir in existing)
            {
                try
                {
                    KillTasks(dir);
                }
                catch (IOException)
                {
                    // Removed meanwhile; the loop below reports a directory that stays.
                }
            }
        }

        existing.ForEach(LiftCpuQuota);
        foreach (var dir in existing)
        {
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    if (killTasks)
                    {
                        KillTasks(dir);
                    }

                    Directory.Delete(dir);
                    break;
                }
                catch (IOException) when (attempt < 50)
                {
                    // EBUSY while the last killed task is still exiting.
                    await Task.Delay(10);
                }
                catch (IOException e)
                {
                    problems.Add($"cgroup {dir}: {e.Message}");
                    break;
                }
            }
        }

        return problems;
    }

    /// <summary>
    /// No CFS quota on a cpu cgroup whose tasks are all killed: SIGKILL lets none of them run its own code again, so what
    /// the quota would hold back is their exit. Its weight stays.
    /// </summary>
    private static void LiftCpuQuota(string cgroupDir)
    {
        var quota = Path.Combine(cgroupDir, "cpu.cfs_quota_us");
        try
        {
            if (File.Exists(quota))
            {
                File.WriteAllText(quota, "-1");
            }
        }
        catch (IOException)
        {
            // Gone meanwhile (its tasks exited and another teardown removed it): nothing left to hold back.
        }
    }

    private static void KillTasks(string cgroupDir)
    {
        var procs = Path.Combine(cgroupDir, "cgroup.procs");
        if (!File.Exists(procs))
        {
            return;
        }

        foreach (var line in File.ReadAllLines(procs))
        {
            if (int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                ChildProcess.Kill(pid, signal: 9);
            }
        }
    }
}

/// <summary>The sandbox could not be started; the message says why (the runtime's own error included).</summary>
public sealed class OciStartException : Exception
{
    public OciStartException()
    {
    }

    public OciStartException(string message)
        : base(message)
    {
    }

    public OciStartException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
