// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net;
using System.Net.Sockets;
using Nexus.Interop;
using Nexus.Sandbox.Microvm;
using Nexus.Sandbox.Network;
using Nexus.Testing;

namespace Nexus.Sandbox.Tests;

/// <summary>
/// A killed guest's kernel says nothing to its peers: the host's ends of its connections must be closed when its network
/// goes (<see cref="VmNetwork.RemoveAsync"/>), or the node's servers hold them for as long as their keep-alive lasts.
/// Found by `nexus bench soak --sandbox microvm`: after release the node held the Runtime API and store connections of
/// the last baseline VMs, idle or retransmitting to nobody.
/// </summary>
public sealed class VmNetworkConnectionTests
{
    // Addresses and names of their own: no node's firewall or slots meet this test's.
    private static readonly VethAddressPlan s_plan = new()
    {
        ServiceAddress = IPAddress.Parse("10.80.0.1"),
        ServiceLink = "nexuscn0",
        FirstSlotNetwork = IPAddress.Parse("10.80.1.0"),
        SlotCount = 64,
        HostLinkPrefix = "nxc",
        NetnsPrefix = "nexus-cn-",
    };

    [RootFact(runc: false)]
    public async Task Removing_a_vms_network_closes_the_hosts_ends_of_its_connections_and_no_others()
    {
        var ip = HostTool.Resolve("ip", "iproute2");
        var network = new VmNetwork(new HostNetwork(s_plan, ip), ip, HostTool.Resolve("nft", "nftables"), HostTool.Resolve("ss", "iproute2"), IPAddress.Parse("172.16.0.0"));
        var instance = "cn" + Guid.NewGuid().ToString("N")[..8];
        VethSlot? slot = await network.CreateAsync(instance, tapOwner: null, CancellationToken.None);
        Socket? guest = null;
        try
        {
            using var listener = new TcpListener(slot.HostAddress, 0);
            listener.Start();
            var endpoint = (IPEndPoint)listener.LocalEndpoint;

            // The guest's end, from the VM's address in its netns, stays open and silent: as a killed guest's, which sends
            // no FIN or RST. A connection of the host's own (another address) must be left alone.
            guest = NetNamespace.RunIn(network.Host.NetnsPath(instance), () =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                socket.Connect(endpoint);
                return socket;
            });
            using var fromGuest = await listener.AcceptSocketAsync();
            Assert.Equal(slot.SandboxAddress, ((IPEndPoint)fromGuest.RemoteEndPoint!).Address);
            using var hostListener = new TcpListener(IPAddress.Loopback, 0);
            hostListener.Start();
            using var neighbour = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await neighbour.ConnectAsync((IPEndPoint)hostListener.LocalEndpoint);
            using var fromNeighbour = await hostListener.AcceptSocketAsync();

            await network.RemoveAsync(instance, slot);
            slot = null;

            var read = fromGuest.ReceiveAsync(new byte[1], SocketFlags.None);
            Assert.True(await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(5))) == read, "the host's end of the dead VM's connection is still open 5 s after its network was removed");
            var closed = await Assert.ThrowsAsync<SocketException>(() => read);
            Assert.Equal(SocketError.ConnectionAborted, closed.SocketErrorCode);

            await neighbour.SendAsync(new byte[] { 42 });
            var buffer = new byte[1];
            Assert.Equal(1, await fromNeighbour.ReceiveAsync(buffer, SocketFlags.None).WaitAsync(TimeSpan.FromSeconds(5)));
        }
        finally
        {
            guest?.Dispose();
            if (slot is not null)
            {
                await network.RemoveAsync(instance, slot);
            }
        }
    }
}
