// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text.RegularExpressions;
using Nexus.Interop;
using Nexus.Sandbox;
using Nexus.Sandbox.Microvm;
using Nexus.Sandbox.Network;
using Nexus.Testing;

namespace Nexus.Node.Tests;

/// <summary>A fact that needs /dev/kvm, root, /dev/net/tun, iproute2 and nftables.</summary>
public sealed class KvmBaselineFactAttribute : FactAttribute
{
    public KvmBaselineFactAttribute()
    {
        Skip = HostRequirements.Missing(root: true, kvm: true)
            ?? (File.Exists("/dev/net/tun") ? null : "needs /dev/net/tun")
            ?? (HostRequirements.FindOnPath("ip") is null ? "needs iproute2 (ip)" : null)
            ?? (HostRequirements.FindOnPath("nft") is null ? "needs nftables (nft)" : null);
    }
}

/// <summary>
/// The wiring of a baseline microVM: its TAP in the instance's own netns behind the oci driver's veth and firewall, the
/// netns's forwarding rules, and removal on stop and after a node crash. The guest is guest/test/net.c, which takes its
/// address and gateway from the <c>ip=</c> the driver puts on its command line (the default guest link, 172.16.0.0/30;
/// the guest's own defaults are 10.0.0.2 and 10.0.0.1): its ARP is answered by the netns through the TAP, and its UDP
/// datagram to the netns is dropped by the netns's input rule.
/// </summary>
[Collection("microvm drivers")] // not beside each other: a driver's start removes leftovers by prefix, "nx" covers both
public sealed partial class MicrovmBaselineTests : IAsyncLifetime
{
    private const string Prefix = "nxbase";
    private readonly string _run = Directory.CreateTempSubdirectory("nexus-microvm-base-").FullName;
    private MicrovmSandboxDriver _driver = null!;

    public async Task InitializeAsync()
    {
        if (HostRequirements.IsRoot && HostRequirements.HasKvm)
        {
            _driver = NewDriver();
            await _driver.PrepareHostAsync(CancellationToken.None);
        }
    }

    public async Task DisposeAsync()
    {
        if (_driver is not null)
        {
            // As a stopped node: the service link and the firewall table go (the last driver of the process to release them removes them).
            await _driver.ReleaseHostAsync();
            await _driver.DisposeAsync();
            await _driver.Network.RemoveLeftoversAsync(Prefix);
        }

        Directory.Delete(_run, recursive: true);
    }

    [KvmBaselineFact]
    public async Task A_baseline_vm_gets_a_tap_in_its_own_netns_behind_the_oci_veth_and_firewall_removed_on_stop()
    {
        await _driver.RestrictSandboxTrafficAsync([9701], null, CancellationToken.None);
        var id = Prefix + "-a";
        var console = new List<string>();
        var vm = (MicrovmSandboxInstance)await _driver.StartAsync(Spec(id, console), CancellationToken.None);
        var netns = _driver.Network.Plan.NetnsName(id);
        try
        {
            // Both directions through the TAP in the netns: the netns answered the guest's ARP; its datagram was sent.
            await Wait.ForAsync(() => HasLine(console, "ready"), $"the guest to get an ARP reply and send (console: {Lines(console)})");
            Assert.Contains("address 172.16.0.2 gateway 172.16.0.1 from the command line", Lines(console), StringComparison.Ordinal);
            Assert.Contains("arp reply from 172.16.0.1", Lines(console), StringComparison.Ordinal);

            // The TAP is in the instance's netns (not the host's), up, with the VMM attached (carrier), and holds the link's first address.
            var tap = await RunAsync("ip", "-n", netns, "addr", "show", "dev", VmNetwork.TapName);
            Assert.Contains("LOWER_UP", tap, StringComparison.Ordinal);
            Assert.Contains("inet 172.16.0.1/30", tap, StringComparison.Ordinal);

            // Behind the oci driver's veth: eth0 in the netns holds the instance's address, its host end is an nxv link the host firewall matches.
            Assert.NotNull(vm.Address);
            Assert.Contains($"inet {vm.Address}/30", await RunAsync("ip", "-n", netns, "addr", "show", "dev", "eth0"), StringComparison.Ordinal);
            var hostLink = _driver.Network.HostLinks().Single(l => File.ReadAllText($"/sys/class/net/{l}/ifalias").Trim() == id);
            Assert.StartsWith(VethAddressPlan.Default.HostLinkPrefix, hostLink, StringComparison.Ordinal);
            var firewall = await RunAsync("nft", "list", "table", "inet", SandboxFirewall.TableName);
            Assert.Contains($"iifname \"{VethAddressPlan.Default.HostLinkPrefix}*\" ip daddr {VethAddressPlan.Default.ServiceAddress} tcp dport 9701 accept", firewall, StringComparison.Ordinal);

            // The netns forwards and masquerades the guest to eth0 only; the guest's datagram to the netns itself hit the input drop.
            Assert.Equal("1", (await RunAsync("ip", "netns", "exec", netns, "cat", "/proc/sys/net/ipv4/ip_forward")).Trim());
            var rules = await RunAsync("ip", "netns", "exec", netns, "nft", "list", "table", "inet", VmNetwork.TableName);
            Assert.Contains("oifname \"eth0\" ip saddr 172.16.0.2 masquerade", rules, StringComparison.Ordinal);
            Assert.Contains("policy drop", rules, StringComparison.Ordinal);
            var dropped = DropCounter().Match(rules);
            Assert.True(dropped.Success && long.Parse(dropped.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) >= 1, rules);
        }
        finally
        {
            await vm.StopAsync();
        }

        Assert.False(File.Exists(_driver.Network.NetnsPath(id)), "the netns (and its TAP) must go on stop");
        Assert.DoesNotContain(_driver.Network.HostLinks(), l => File.ReadAllText($"/sys/class/net/{l}/ifalias").Trim() == id);
        Assert.False(Directory.Exists(Path.Combine(_run, "instances", id)));
    }

    [KvmBaselineFact]
    public async Task A_crashed_nodes_jailed_baseline_vms_lose_their_vmm_cgroup_netns_and_veth_at_the_next_start()
    {
        var id = Prefix + "-crash";
        await using var jailed = NewDriver(new VmmJailOptions());
        var console = new List<string>();
        var vm = (MicrovmSandboxInstance)await jailed.StartAsync(Spec(id, console), CancellationToken.None);
        await Wait.ForAsync(() => vm.Pid > 0, "the jailed VMM to start");
        var vmmPid = vm.Pid;
        var cgroups = vm.Cgroup!.Directories;
        Assert.True(File.Exists(jailed.Network.NetnsPath(id)));

        // The node "crashes" (nothing is stopped); the next node's driver cleans up by pid file, cgroup, netns name and link alias.
        await using (var next = NewDriver(new VmmJailOptions()))
        {
            await next.PrepareHostAsync(CancellationToken.None);
            await next.ReleaseHostAsync();
        }

        // unshare relays the killed VMM as a failed exit (or dies of the same signal, depending on its version).
        var exit = await vm.Exited.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(exit is { Signal: 9 } or { ExitCode: not 0 }, exit.ToString());
        Assert.False(Directory.Exists($"/proc/{vmmPid}/task"), "the jailed VMM must be killed and reaped (not left a zombie)");
        Assert.All(cgroups, d => Assert.False(Directory.Exists(d), d));
        Assert.False(File.Exists(jailed.Network.NetnsPath(id)));
        Assert.DoesNotContain(jailed.Network.HostLinks(), l => File.ReadAllText($"/sys/class/net/{l}/ifalias").Trim() == id);
        await vm.DisposeAsync();
    }

    [KvmBaselineFact]
    public async Task A_jailed_baseline_vmm_opens_its_tap_from_inside_the_netns_as_its_own_uid()
    {
        await using var jailed = NewDriver(new VmmJailOptions());
        var id = Prefix + "-jail";
        var console = new List<string>();
        var vm = (MicrovmSandboxInstance)await jailed.StartAsync(Spec(id, console), CancellationToken.None);
        try
        {
            await Wait.ForAsync(() => HasLine(console, "ready"), $"the jailed guest to get an ARP reply and send (console: {Lines(console)})");

            // The VMM is in the instance's netns itself (nsenter), not a thread of it: no --netns, no CAP_NET_ADMIN; the TAP is its uid's.
            var pid = vm.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(vm.Pid > 0, "the jailed VMM's pid");
            Assert.Equal(jailed.Network.Plan.NetnsName(id), (await RunAsync("ip", "netns", "identify", pid)).Trim());
            Assert.Contains($"Uid:\t{vm.Jail!.Uid}\t", File.ReadAllText($"/proc/{vm.Pid}/status"), StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(vm.Jail.Root, "dev", "net", "tun")));
        }
        finally
        {
            await vm.StopAsync();
        }

        Assert.False(File.Exists(jailed.Network.NetnsPath(id)));
        Assert.All(vm.Cgroup!.Directories, d => Assert.False(Directory.Exists(d), d));
    }

    [GeneratedRegex(@"iifname ""tap0"" counter packets (\d+) bytes \d+ drop")]
    private static partial Regex DropCounter();

    private MicrovmSandboxDriver NewDriver(VmmJailOptions? jail = null) => new(new MicrovmDriverOptions
    {
        GuestKernel = TestGuests.Build("net"),
        GuestKind = MicrovmGuestKind.Freestanding,
        RunDirectory = _run,
        InstancePrefix = Prefix,
        Jail = jail,
    });

    private static SandboxSpec Spec(string id, List<string> output) => MicrovmDriverTests.GuestSpec(id, output) with { Network = SandboxNetwork.Veth };

    private static string Lines(List<string> output) => MicrovmDriverTests.Lines(output);

    private static bool HasLine(List<string> output, string line)
    {
        lock (output)
        {
            return output.Contains(line);
        }
    }

    private static async Task<string> RunAsync(string tool, params string[] arguments)
    {
        var result = await HostTool.RunAsync(HostTool.Resolve(tool, tool), arguments);
        Assert.True(result.Succeeded, $"{tool} {string.Join(' ', arguments)}: {result.StandardError}");
        return result.StandardOutput;
    }
}
