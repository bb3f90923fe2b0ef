// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net;
using System.Net.Sockets;
using Nexus.Interop;
using Nexus.Sandbox.Network;
using Nexus.Testing;

namespace Nexus.Sandbox.Tests;

/// <summary>
/// Guards the sandbox's own egress table (<see cref="SandboxFirewall.EgressRuleset"/>, loaded into each baseline
/// sandbox's netns by <see cref="HostNetwork"/>): with no host firewall at all, as in the moments after an operator's
/// <c>nft flush ruleset</c> and before the node puts the host's table back, a sandbox reaches the node's service port
/// and none of the host's other listeners, over IPv4 or the veth's IPv6 link-local address.
/// </summary>
public sealed class SandboxEgressTests
{
    // Addresses and names of their own: this test makes no host firewall, and must not meet a node's.
    private static readonly VethAddressPlan s_plan = new()
    {
        ServiceAddress = IPAddress.Parse("10.79.0.1"),
        ServiceLink = "nexuseg0",
        FirstSlotNetwork = IPAddress.Parse("10.79.1.0"),
        SlotCount = 64,
        HostLinkPrefix = "nxe",
        NetnsPrefix = "nexus-eg-",
    };

    [RootFact]
    public async Task A_sandbox_reaches_only_the_service_port_with_no_host_firewall()
    {
        var network = new HostNetwork(s_plan, HostTool.Resolve("ip", "iproute2"));
        await network.PrepareAsync(CancellationToken.None);
        using var service = new TcpListener(s_plan.ServiceAddress, 0);
        service.Start();
        using var hostAny = new TcpListener(IPAddress.IPv6Any, 0) { Server = { DualMode = true } };
        hostAny.Start();
        var servicePort = ((IPEndPoint)service.LocalEndpoint).Port;
        var anyPort = ((IPEndPoint)hostAny.LocalEndpoint).Port;
        network.EgressRuleset = new SandboxFirewall(s_plan, "nft").EgressRuleset([servicePort]);
        var instance = "eg" + Guid.NewGuid().ToString("N")[..8];
        VethSlot? slot = null;
        try
        {
            slot = await network.CreateAsync(instance, CancellationToken.None);
            var hostEndLinkLocal = NetworkInterfaceAddress(slot.HostLink);
            var reached = NetNamespace.RunIn(network.NetnsPath(instance), () => new Dictionary<string, bool>
            {
                ["service port"] = Connects(new IPEndPoint(s_plan.ServiceAddress, servicePort)),
                ["any-address listener via the service address"] = Connects(new IPEndPoint(s_plan.ServiceAddress, anyPort)),
                ["any-address listener via the veth host end"] = Connects(new IPEndPoint(slot.HostAddress, anyPort)),
                ["any-address listener via the host end's IPv6 link-local"] = hostEndLinkLocal is not null
                    && Connects(new IPEndPoint(new IPAddress(hostEndLinkLocal.GetAddressBytes(), SandboxEth0Index()), anyPort)),
            });

            Assert.True(reached["service port"], "the service port must stay reachable");
            Assert.Equal(["service port"], reached.Where(r => r.Value).Select(r => r.Key));
            Assert.False(hostAny.Pending(), "the host's any-address listener must not see the sandbox");
        }
        finally
        {
            await network.RemoveAsync(instance, slot);
            await network.RemoveServiceLinkAsync();
        }
    }

    /// <summary>Whether a TCP connection is accepted within a second (a dropped SYN is not).</summary>
    private static bool Connects(IPEndPoint endpoint)
    {
        using var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            return socket.ConnectAsync(endpoint).Wait(TimeSpan.FromSeconds(1)) && socket.Connected;
        }
        catch (AggregateException e) when (e.InnerException is SocketException)
        {
            return false;
        }
    }

    /// <summary>The index of eth0 in the network namespace of the calling thread (the scope of a link-local address there).</summary>
    private static long SandboxEth0Index() =>
        System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces().First(n => n.Name == "eth0").GetIPProperties().GetIPv6Properties().Index;

    /// <summary>The host end's IPv6 link-local address, with its scope, once the kernel has given it one.</summary>
    private static IPAddress? NetworkInterfaceAddress(string link)
    {
        for (var i = 0; i < 40; i++)
        {
            var found = System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces().FirstOrDefault(n => n.Name == link)?
                .GetIPProperties().UnicastAddresses.Select(a => a.Address).FirstOrDefault(a => a.IsIPv6LinkLocal);
            if (found is not null)
            {
                return found;
            }

            Thread.Sleep(50);
        }

        return null;
    }
}
