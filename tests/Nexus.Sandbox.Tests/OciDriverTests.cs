// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Nexus.Interop;
using Nexus.Sandbox.Oci;
using Nexus.Testing;

namespace Nexus.Sandbox.Tests;

/// <summary>A driver with a prefix of its own (so its leftover cleanup only ever touches this run's instances) and a busybox rootfs.</summary>
public sealed class OciDriverFixture : IAsyncLifetime
{
    public BusyboxRootfs Rootfs { get; private set; } = null!;

    public OciSandboxDriver Driver { get; private set; } = null!;

    public string Prefix { get; } = "t" + Guid.NewGuid().ToString("N")[..6] + "-";

    public async Task InitializeAsync()
    {
        Rootfs = new BusyboxRootfs();
        if (HostRequirements.Missing(root: true, runc: true) is null)
        {
            Driver = new OciSandboxDriver(new OciDriverOptions { InstancePrefix = Prefix });
            await Driver.PrepareHostAsync(CancellationToken.None);
        }
    }

    public async Task DisposeAsync()
    {
        Rootfs.Dispose();
        if (Driver is not null)
        {
            // Removes the firewall table a test installed and the service link.
            await Driver.ReleaseHostAsync();
        }
    }
}

public sealed class OciDriverTests : IClassFixture<OciDriverFixture>
{
    private static int s_counter;
    private readonly OciDriverFixture _fixture;

    public OciDriverTests(OciDriverFixture fixture) => _fixture = fixture;

    private OciSandboxDriver Driver => _fixture.Driver;

    /// <summary>Runs a shell command to completion in a fresh sandbox; returns its exit and output.</summary>
    private async Task<(SandboxExit Exit, List<string> Out, List<string> Err)> RunAsync(string script, SandboxSpec? template = null)
    {
        var output = new ConcurrentQueue<(string Line, bool IsError)>();
        var spec = (template ?? Spec()) with
        {
            Command = ["/bin/sh", "-c", script],
            OnOutput = (line, isError) => output.Enqueue((line, isError)),
        };
        var instance = await Driver.StartAsync(spec, CancellationToken.None);
        await using (instance)
        {
            var exit = await instance.Exited.WaitAsync(TimeSpan.FromMinutes(1));
            return (exit, output.Where(o => !o.IsError).Select(o => o.Line).ToList(), output.Where(o => o.IsError).Select(o => o.Line).ToList());
        }
    }

    private SandboxSpec Spec(SandboxNetwork network = SandboxNetwork.LoopbackOnly) => new()
    {
        InstanceId = _fixture.Prefix + Interlocked.Increment(ref s_counter),
        RootfsPath = _fixture.Rootfs.Path,
        Command = ["/bin/true"],
        MemoryMb = 64,
        Network = network,
    };

    [RootFact]
    public async Task EchoRunsAndItsOutputArrives()
    {
        var (exit, stdout, stderr) = await RunAsync("echo hello-nexus; echo to-stderr >&2; exit 3");
        Assert.Equal(new SandboxExit(3, null, false), exit);
        Assert.Equal(["hello-nexus"], stdout);
        Assert.Equal(["to-stderr"], stderr);
    }

    /// <summary>
    /// /tmp takes huge pages for large files where the kernel has them (the tmp-fill defence: freeing a full /tmp is a
    /// short kernel section), as the mount the sandbox's kernel made shows.
    /// </summary>
    [RootFact]
    public async Task TmpIsMountedWithHugePagesForLargeFilesWhereTheKernelHasThem()
    {
        var (exit, stdout, stderr) = await RunAsync("grep ' /tmp ' /proc/self/mounts");
        Assert.Equal(0, exit.ExitCode);
        var mount = Assert.Single(stdout);
        Assert.True(mount.Contains("huge=within_size", StringComparison.Ordinal) == File.Exists(OciDriverOptions.ShmemHugePagesControl), mount + string.Join("\n", stderr));
    }

    [RootFact]
    public async Task RootIsReadOnlyAndTmpIsWritable()
    {
        var (exit, stdout, stderr) = await RunAsync(
            "touch /bin/x 2>/dev/null && echo root-writable || echo root-readonly;" +
            "echo data > /tmp/y && cat /tmp/y;" +
            "mount -t tmpfs none /bin 2>/dev/null && echo mounted || echo mount-denied");
        Assert.Equal(0, exit.ExitCode);
        Assert.True(stdout.SequenceEqual(["root-readonly", "data", "mount-denied"]), string.Join("\n", stdout.Concat(stderr)));
    }

    [RootFact]
    public async Task SandboxHasNoCapabilitiesAndRunsUnprivilegedUnderSeccomp()
    {
        var (exit, stdout, _) = await RunAsync("grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|Uid|NoNewPrivs|Seccomp):' /proc/self/status; hostname");
        Assert.Equal(0, exit.ExitCode);
        var fields = stdout.Where(l => l.Contains(':', StringComparison.Ordinal))
            .ToDictionary(l => l[..l.IndexOf(':', StringComparison.Ordinal)], l => l[(l.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim());
        foreach (var set in new[] { "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb" })
        {
            Assert.Equal("0000000000000000", fields[set]);
        }

        Assert.StartsWith("65534", fields["Uid"], StringComparison.Ordinal);
        Assert.Equal("1", fields["NoNewPrivs"]);
        Assert.Equal("2", fields["Seccomp"]);
        Assert.Equal("nexus", stdout[^1]);
    }

    /// <summary>
    /// Guards the sandbox's seccomp profile (SeccompProfile.Oci) by attacking it rather than reading "Seccomp: 2":
    /// inside a real runc sandbox, unshare(CLONE_NEWUSER), which an unprivileged process may otherwise call (no
    /// capability needed, and the host allows it), must fail with EPERM, while allowed calls still work. Checked by
    /// removing the profile from OciConfigBuilder once: the user namespace was then created and this test failed.
    /// </summary>
    [RootFact]
    public async Task SeccompRefusesADeniedSyscallInsideTheSandbox()
    {
        var (exit, stdout, stderr) = await RunAsync(
            "unshare -U true && echo userns-created || echo userns-denied;" +
            "echo data > /tmp/allowed && cat /tmp/allowed");
        Assert.Equal(0, exit.ExitCode);
        Assert.True(stdout.SequenceEqual(["userns-denied", "data"]), string.Join("\n", stdout.Concat(stderr)));
        Assert.Contains(stderr, line => line.Contains("Operation not permitted", StringComparison.Ordinal));
    }

    /// <summary>
    /// Guards the node's own kill at the memory limit (<see cref="OomWatcher"/>, runc's disableOOMKiller): the hog is
    /// killed and reported out of memory, and the kernel's OOM killer, whose report holds a CPU with interrupts off while
    /// it prints (docs/reliability.md), never ran in its cgroup. With the kernel's killer left on once (the watcher's
    /// write of memory.oom_control removed, runc's flag false), the kernel killed it (oom_kill 1) and this failed.
    /// </summary>
    [RootFact]
    public async Task MemoryLimitStopsAHogWithoutTheKernelsOomKillerAndReportsOutOfMemory()
    {
        // awk doubles a string in its own memory: its page faults are the user's, which wait at the limit for the kill
        // (a system call charging past the limit fails instead: tail /dev/zero gets EFAULT from read and exits 1).
        var instance = await Driver.StartAsync(Spec() with { Command = ["/bin/awk", "BEGIN { s = \"x\"; while (1) s = s s }"], MemoryMb = 16 }, CancellationToken.None);
        await using (instance)
        {
            var exit = await instance.Exited.WaitAsync(TimeSpan.FromMinutes(1));
            Assert.True(exit.OutOfMemory, $"expected an OOM stop, got {exit}");
            Assert.Equal(9, exit.Signal);

            // Read before the cgroup is removed (the instance is disposed below).
            var control = File.ReadAllLines(Path.Combine(Driver.Options.CgroupRoot, "memory", Driver.Options.CgroupParent, instance.InstanceId, "memory.oom_control"));
            Assert.Contains("oom_kill 0", control);
        }
    }

    [RootFact]
    public async Task LimitsAreSetAndMemoryAndCpuAreReadFromTheCgroup()
    {
        var instance = await Driver.StartAsync(Spec() with { Command = ["/bin/sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; echo busy-done; sleep 600"], MemoryMb = 48, Cpus = 0.5 }, CancellationToken.None);
        await using (instance)
        {
            // The limits the kernel enforces, read from the host side.
            var cgroup = Path.Combine(Driver.Options.CgroupRoot, "{0}", Driver.Options.CgroupParent, instance.InstanceId, "{1}");
            string Read(string controller, string file) => File.ReadAllText(string.Format(System.Globalization.CultureInfo.InvariantCulture, cgroup, controller, file)).Trim();
            Assert.Equal((48L * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture), Read("memory", "memory.limit_in_bytes"));
            Assert.Equal(Read("memory", "memory.limit_in_bytes"), Read("memory", "memory.memsw.limit_in_bytes"));
            Assert.Equal("50000", Read("cpu", "cpu.cfs_quota_us"));
            Assert.Equal("100000", Read("cpu", "cpu.cfs_period_us"));
            Assert.Equal(Driver.Options.PidsLimit.ToString(System.Globalization.CultureInfo.InvariantCulture), Read("pids", "pids.max"));

            TimeSpan cpu;
            var deadline = DateTime.UtcNow.AddMinutes(1);
            do
            {
                await Task.Delay(50);
                cpu = instance.ReadCpuTime();
            }
            while (cpu < TimeSpan.FromMilliseconds(5) && DateTime.UtcNow < deadline);

            var memory = instance.ReadMemory();
            Assert.True(cpu > TimeSpan.Zero, "cpuacct.usage should count the busy loop");
            Assert.True(memory.CgroupBytes > 0, $"cgroup usage should be positive: {memory}");
            Assert.True(memory.RssBytes > 0 && memory.PssBytes > 0 && memory.UssBytes > 0, $"smaps figures should be positive: {memory}");
            Assert.True(memory.UssBytes <= memory.PssBytes && memory.PssBytes <= memory.RssBytes, $"USS <= PSS <= RSS: {memory}");
            Assert.True(instance.Pid > 1);

            // No runc stays resident: the container's first process is a direct child of this process.
            var ppid = File.ReadAllLines($"/proc/{instance.Pid}/status").Single(l => l.StartsWith("PPid:", StringComparison.Ordinal));
            Assert.Equal(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), ppid["PPid:".Length..].Trim());
        }
    }

    [RootFact]
    public async Task LoopbackOnlyHasJustLoUp()
    {
        var (exit, stdout, _) = await RunAsync("ls /sys/class/net; cat /sys/class/net/lo/flags");
        Assert.Equal(0, exit.ExitCode);
        Assert.Equal(["lo", "0x9"], stdout);
    }

    /// <summary>
    /// Probes the host, not the sandbox's own namespace: a listener on the host's 127.0.0.1 and one on every host
    /// address (as many host services bind) are tried from inside a baseline sandbox through every address the sandbox
    /// can route to: 127.0.0.1, the service address (nexus0), the host end of its own veth, and the host's primary
    /// address. Only the node's service port on the service address may answer. Guards two defences: the sandbox's own
    /// network namespace with no route but the /30 and the service address (the loopback listener), and the node's
    /// nftables firewall (SandboxFirewall: the listener on every address). Checked by removing the firewall's
    /// <c>iifname "nxv*" drop</c> rule once: the any-address listener was then reached on 10.77.0.1 and on the veth
    /// host end, and this test failed.
    /// </summary>
    [RootFact]
    public async Task VethReachesTheServiceButNoOtherHostListener()
    {
        var plan = Driver.Options.Network;
        using var service = new TcpListener(plan.ServiceAddress, 0);
        service.Start();
        using var hostLoopback = new TcpListener(IPAddress.Loopback, 0);
        hostLoopback.Start();
        using var hostAny = new TcpListener(IPAddress.Any, 0);
        hostAny.Start();
        var servicePort = ((IPEndPoint)service.LocalEndpoint).Port;
        var loopbackPort = ((IPEndPoint)hostLoopback.LocalEndpoint).Port;
        var anyPort = ((IPEndPoint)hostAny.LocalEndpoint).Port;
        await Driver.RestrictSandboxTrafficAsync([servicePort], null, CancellationToken.None);

        // The sandbox learns its veth host end from its one gateway route; the host's primary address is passed in.
        var primary = HostPrimaryAddress();
        var probes = new List<(string Name, string Host, int Port)>
        {
            ("loopback-via-127.0.0.1", "127.0.0.1", loopbackPort),
            ("loopback-via-service-address", plan.ServiceAddress.ToString(), loopbackPort),
            ("loopback-via-veth-host-end", "$gw", loopbackPort),
            ("any-via-service-address", plan.ServiceAddress.ToString(), anyPort),
            ("any-via-veth-host-end", "$gw", anyPort),
        };
        if (primary is not null)
        {
            probes.Add(("loopback-via-host-primary", primary.ToString(), loopbackPort));
            probes.Add(("any-via-host-primary", primary.ToString(), anyPort));
        }

        var script = $"gw=$(ip -4 route | sed -n 's/^{plan.ServiceAddress} via \\([0-9.]*\\).*/\\1/p'); echo \"gateway $gw\";"
            + $"echo ping-from-sandbox | nc {plan.ServiceAddress} {servicePort} && echo service-ok;"
            // nc exits 1 when it cannot connect (refused, or dropped for 2 s); connected, it waits until timeout kills it.
            + string.Concat(probes.Select(p => $"(timeout 4 nc -w 2 {p.Host} {p.Port} </dev/null >/dev/null 2>&1; [ $? = 1 ] && echo '{p.Name} blocked' || echo '{p.Name} reached') & "))
            + "wait; ip -4 route; ls /sys/class/net";
        var accepted = AcceptLineAsync(service);
        var (exit, stdout, stderr) = await RunAsync(script, Spec(SandboxNetwork.Veth));
        Assert.True(exit.ExitCode == 0, string.Join("\n", stdout.Concat(stderr)));
        Assert.Equal("ping-from-sandbox", await accepted.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("service-ok", stdout);
        var gateway = stdout.Single(l => l.StartsWith("gateway ", StringComparison.Ordinal))["gateway ".Length..];
        Assert.True(IPAddress.TryParse(gateway, out _), "no gateway route to the service address: " + string.Join("\n", stdout));
        foreach (var (name, _, _) in probes)
        {
            Assert.Contains($"{name} blocked", stdout);
        }

        Assert.False(hostLoopback.Pending(), "the host's loopback listener must not see the sandbox");
        Assert.False(hostAny.Pending(), "the host's any-address listener must not see the sandbox");

        // Exactly two routes: the connected /30 and the one to the service address through the host end; no default.
        var routes = stdout.Where(l => l.Contains(" dev ", StringComparison.Ordinal)).Select(r => r.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
        Assert.Equal(2, routes.Count);
        Assert.Contains(routes, r => r[0] == plan.ServiceAddress.ToString() && r[1] == "via" && r[2] == gateway);
        Assert.Contains(routes, r => r[0].EndsWith("/30", StringComparison.Ordinal) && r[1] == "dev" && r[2] == "eth0");
        Assert.Equal(["eth0", "lo"], stdout.Where(l => l is "eth0" or "lo").Order().ToList());
    }

    /// <summary>
    /// The service link and the firewall removed from under a running driver (`nft delete table`, a flushed chain or
    /// table, a deleted chain; `ip link del`, `ip addr flush`, `ip link set down`) are put back at once on the kernel's
    /// notice (BaselineHost's watches), and a sandbox again reaches the service and is kept from the host's listeners:
    /// before, the firewall stayed open until the node restarted (an operator's review), and a flushed or downed link was
    /// never noticed.
    /// </summary>
    [RootFact]
    public async Task HostNetworkRemovedFromUnderTheDriverIsPutBack()
    {
        var plan = Driver.Options.Network;
        using var service = new TcpListener(plan.ServiceAddress, 0);
        service.Start();
        using var hostAny = new TcpListener(IPAddress.Any, 0);
        hostAny.Start();
        var servicePort = ((IPEndPoint)service.LocalEndpoint).Port;
        var anyPort = ((IPEndPoint)hostAny.LocalEndpoint).Port;
        await Driver.RestrictSandboxTrafficAsync([servicePort], null, CancellationToken.None);
        var nft = HostTool.Resolve("nft", "nftables");
        var ip = HostTool.Resolve("ip", "iproute2");

        // Each removal is put back within 1.5 s, well inside the 5-s check (by the check alone, all seven: about 1 run in
        // 10,000).
        string[] removals =
        [
            "nft delete table inet nexus", "nft flush chain inet nexus input", "nft flush table inet nexus", "nft delete chain inet nexus forward",
            $"ip link del {plan.ServiceLink}", $"ip addr flush dev {plan.ServiceLink}", $"ip link set dev {plan.ServiceLink} down",
        ];
        foreach (var removal in removals)
        {
            var removed = await HostTool.RunAsync("/bin/sh", ["-c", removal]);
            Assert.True(removed.Succeeded, removal + ": " + removed.StandardError);
            var took = System.Diagnostics.Stopwatch.StartNew();

            // Whole again: the link up with the service address, and both chains' drop rules (input's and forward's).
            while (!((await HostTool.RunAsync(ip, ["-o", "-4", "addr", "show", "dev", plan.ServiceLink, "up"])).StandardOutput.Contains($" {plan.ServiceAddress}/32 ", StringComparison.Ordinal)
                && (await HostTool.RunAsync(nft, ["list", "table", "inet", "nexus"])).StandardOutput
                .Split('\n').Count(l => l.Trim() == "iifname \"" + plan.HostLinkPrefix + "*\" drop") == 2))
            {
                Assert.True(took.Elapsed < TimeSpan.FromSeconds(1.5), $"not put back 1.5 s after '{removal}'");
                await Task.Delay(50);
            }
        }

        var script = $"echo back | nc {plan.ServiceAddress} {servicePort} && echo service-ok;"
            + $"timeout 4 nc -w 2 {plan.ServiceAddress} {anyPort} </dev/null >/dev/null 2>&1; [ $? = 1 ] && echo 'any blocked' || echo 'any reached'";
        var accepted = AcceptLineAsync(service);
        var (exit, stdout, stderr) = await RunAsync(script, Spec(SandboxNetwork.Veth));
        Assert.True(exit.ExitCode == 0, string.Join("\n", stdout.Concat(stderr)));
        Assert.Equal("back", await accepted.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("any blocked", stdout);
        Assert.False(hostAny.Pending(), "the host's any-address listener must not see the sandbox");
    }

    /// <summary>The host's first IPv4 address on an interface that is up and not loopback or a Nexus link; null if none.</summary>
    private IPAddress? HostPrimaryAddress()
    {
        var plan = Driver.Options.Network;
        return System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .Where(i => i.OperationalStatus == System.Net.NetworkInformation.OperationalStatus.Up
                && i.NetworkInterfaceType != System.Net.NetworkInformation.NetworkInterfaceType.Loopback
                && !i.Name.StartsWith(plan.HostLinkPrefix, StringComparison.Ordinal) && i.Name != plan.ServiceLink)
            .SelectMany(i => i.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));
    }

    [RootFact]
    public async Task VethEndsHaveTheSlotAddressesNoIpv6AndNoForwarding()
    {
        var instance = await Driver.StartAsync(Spec(SandboxNetwork.Veth) with { Command = ["/bin/sleep", "600"] }, CancellationToken.None);
        await using (instance)
        {
            var veth = ((OciSandboxInstance)instance).Veth!;
            Assert.Equal(veth.SandboxAddress, instance.Address);
            Assert.Equal("0", File.ReadAllText($"/proc/sys/net/ipv4/conf/{veth.HostLink}/forwarding").Trim());
            var ip = HostTool.Resolve("ip", "test");
            var inside = await HostTool.RunAsync(ip, ["-n", Driver.Options.Network.NetnsName(instance.InstanceId), "addr", "show", "dev", "eth0"]);
            Assert.Contains($"inet {instance.Address}/30", inside.StandardOutput, StringComparison.Ordinal);
            Assert.DoesNotContain("inet6", inside.StandardOutput, StringComparison.Ordinal);
            var host = await HostTool.RunAsync(ip, ["addr", "show", "dev", veth.HostLink]);
            Assert.Contains($"inet {veth.HostAddress}/30", host.StandardOutput, StringComparison.Ordinal);
            Assert.DoesNotContain("inet6", host.StandardOutput, StringComparison.Ordinal);
        }
    }

    [RootFact]
    public async Task PassedFdsArriveAtThreeAndFour()
    {
        using var memfd = Memory.CreateMemfd("sandbox-test", 4096);
        using (var stream = new FileStream(new SafeFileHandle(memfd.DangerousGetHandle(), ownsHandle: false), FileAccess.ReadWrite))
        {
            stream.Write("hello-memfd"u8);
        }

        using var doorbell = EventFd.Create(0, EventFdFlags.CloseOnExec | EventFdFlags.NonBlocking);
        var (exit, stdout, stderr) = await RunAsync(
            "head -c 11 <&3; echo; printf '\\001\\000\\000\\000\\000\\000\\000\\000' >&4 && echo rang; ls /proc/self/fd",
            Spec() with { PassedFds = [memfd, doorbell.Handle] });
        Assert.True(exit.ExitCode == 0, string.Join("\n", stderr));
        Assert.Equal("hello-memfd", stdout[0]);
        Assert.Equal("rang", stdout[1]);
        Assert.True(doorbell.TryRead(out var value), "the sandbox's write to fd 4 should signal the eventfd");
        Assert.Equal(1ul, value);

        // ls itself opens one directory fd; nothing else beyond stdio and the two passed fds.
        var fds = stdout.Skip(2).Select(int.Parse).Order().ToList();
        Assert.Equal([0, 1, 2, 3, 4], fds.Take(5));
        Assert.True(fds.Count <= 6, "unexpected descriptors in the sandbox: " + string.Join(",", fds));
    }

    [RootFact]
    public async Task ConcurrentVethStartsGetDistinctSlotsAndAllWork()
    {
        var specs = Enumerable.Range(0, 6).Select(_ => Spec(SandboxNetwork.Veth) with { Command = ["/bin/sh", "-c", "ip -4 addr show dev eth0 | grep -o 'inet [0-9.]*'"] }).ToList();
        var outputs = specs.ToDictionary(s => s.InstanceId, _ => new ConcurrentQueue<string>());
        var instances = await Task.WhenAll(specs.Select(s => Driver.StartAsync(s with { OnOutput = (line, _) => outputs[s.InstanceId].Enqueue(line) }, CancellationToken.None)));
        try
        {
            var exits = await Task.WhenAll(instances.Select(i => i.Exited));
            Assert.All(exits, e => Assert.Equal(0, e.ExitCode));
            Assert.Equal(instances.Length, instances.Select(i => i.Address).Distinct().Count());
            foreach (var instance in instances)
            {
                Assert.Equal($"inet {instance.Address}", Assert.Single(outputs[instance.InstanceId]));
            }
        }
        finally
        {
            await Task.WhenAll(instances.Select(i => i.StopAsync()));
        }

        foreach (var instance in instances)
        {
            AssertGone(instance.InstanceId, ((OciSandboxInstance)instance).Veth!.HostLink);
        }
    }

    [RootFact]
    public async Task AfterStopNothingIsLeft()
    {
        var instance = await Driver.StartAsync(Spec(SandboxNetwork.Veth) with { Command = ["/bin/sleep", "600"] }, CancellationToken.None);
        var id = instance.InstanceId;
        var link = ((OciSandboxInstance)instance).Veth!.HostLink;
        Assert.Contains(id, await ContainersAsync());
        await instance.StopAsync();
        var exit = await instance.Exited;
        Assert.Equal(9, exit.Signal);
        Assert.False(exit.OutOfMemory);

        // Idempotent, also concurrently.
        await Task.WhenAll(instance.StopAsync(), instance.DisposeAsync().AsTask());
        AssertGone(id, link);
        Assert.DoesNotContain(id, await ContainersAsync());
    }

    [RootFact]
    public async Task PrepareHostRemovesTheLeftoversOfACrashedNode()
    {
        var abandoned = await Driver.StartAsync(Spec(SandboxNetwork.Veth) with { Command = ["/bin/sleep", "600"] }, CancellationToken.None);
        var id = abandoned.InstanceId;
        var link = ((OciSandboxInstance)abandoned).Veth!.HostLink;

        // A new node (same prefix) starts without the old one having stopped anything. It releases the host as a
        // stopped node does: the host's service link and firewall are counted per driver of the process, and a driver
        // left holding them kept every later release from removing them (nexus0 stayed after the test run).
        var next = new OciSandboxDriver(Driver.Options);
        await next.PrepareHostAsync(CancellationToken.None);
        try
        {
            AssertGone(id, link);
            Assert.DoesNotContain(id, await ContainersAsync());
            var exit = await abandoned.Exited.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(9, exit.Signal);
        }
        finally
        {
            await next.ReleaseHostAsync();
        }
    }

    [RootFact]
    public async Task AStartFailureSaysWhyAndLeavesNothing()
    {
        var spec = Spec() with { Command = ["/no/such/binary"] };
        var e = await Assert.ThrowsAsync<OciStartException>(() => Driver.StartAsync(spec, CancellationToken.None));
        Assert.Contains("/no/such/binary", e.Message, StringComparison.Ordinal);
        AssertGone(spec.InstanceId, link: null);
    }

    private void AssertGone(string id, string? link)
    {
        Assert.False(Directory.Exists(Path.Combine(Driver.BundleRoot, id)), "bundle left");
        Assert.False(Directory.Exists(Path.Combine(Driver.StateRoot, id)), "runc state left");
        Assert.False(File.Exists(Driver.Network.NetnsPath(id)), "netns left");
        if (link is not null)
        {
            Assert.False(Directory.Exists("/sys/class/net/" + link), "veth left");
        }

        foreach (var controller in CgroupV1.ControllerMounts(Driver.Options.CgroupRoot))
        {
            Assert.False(Directory.Exists(Path.Combine(controller, Driver.Options.CgroupParent, id)), $"cgroup left in {controller}");
        }
    }

    private async Task<List<string>> ContainersAsync()
    {
        var list = await HostTool.RunAsync(HostTool.Resolve(Driver.Options.RuntimePath, "test"), ["--root", Driver.StateRoot, "list", "--quiet"]);
        Assert.True(list.Succeeded, list.StandardError);
        return [.. list.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)];
    }

    private static async Task<string> AcceptLineAsync(TcpListener listener)
    {
        using var client = await listener.AcceptTcpClientAsync();
        using var reader = new StreamReader(client.GetStream(), Encoding.UTF8);
        return await reader.ReadLineAsync() ?? "";
    }
}
