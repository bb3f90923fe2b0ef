// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text.Json;
using Nexus.Testing;

namespace Nexus.EndToEnd.Tests;

/// <summary>A baseline sandbox has a network, but it reaches only the node's store and Runtime API.</summary>
public sealed class BaselineIsolationTests(NodeFixture fixture) : IClassFixture<NodeFixture>
{
    /// <summary>
    /// From inside a real baseline function, probes a host listener bound to every address and the node's own API port
    /// (127.0.0.1) through each address the sandbox can route to: the service address, the host end of its veth, the
    /// host's primary address and its own 127.0.0.1; only the Runtime API may answer. Its routing table must be exactly
    /// the connected /30 and 10.77.0.1 through the host end. Guards the node's nftables firewall (SandboxFirewall) and
    /// the sandbox's routes (HostNetwork). With the firewall's drop rules removed once, the any-address listener was
    /// reached through the service address and through the veth host end, and this test failed.
    /// </summary>
    [RootFact]
    public async Task BaselineSandboxCannotReachOtherHostListeners()
    {
        // A host service bound to every address, as many are: reachable on the service address and on the
        // veth host end unless the node's firewall drops it.
        using var listener = new TcpListener(IPAddress.Any, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var primary = NetworkInterface.GetAllNetworkInterfaces()
            .Where(i => i.OperationalStatus == OperationalStatus.Up && i.NetworkInterfaceType != NetworkInterfaceType.Loopback
                && !i.Name.StartsWith("nxv", StringComparison.Ordinal) && i.Name != "nexus0")
            .SelectMany(i => i.GetIPProperties().UnicastAddresses).Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));
        await fixture.DeployAsync("name: e2e-probe\nhandler: handler.handler\nio: baseline\n", """
            import socket, os, struct
            def probe(host, port):
                try:
                    socket.create_connection((host, port), timeout=1).close()
                    return "connected"
                except OSError as e:
                    return type(e).__name__
            def address(hex_le):
                return socket.inet_ntoa(struct.pack("<L", int(hex_le, 16)))
            def handler(event, context):
                with open("/proc/net/route") as f:
                    routes = [[address(c[1]), address(c[2]), address(c[7])] for c in (line.split() for line in f.readlines()[1:])]
                runtime_host, runtime_port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
                host_end = next(gateway for dest, gateway, mask in routes if dest == runtime_host)
                result = {"runtime_api": probe(runtime_host, int(runtime_port)), "routes": routes, "host_end": host_end}
                targets = {"service": runtime_host, "host_end": host_end, "own_loopback": "127.0.0.1"}
                if event["primary"]:
                    targets["host_primary"] = event["primary"]
                for name, host in targets.items():
                    result["any_via_" + name] = probe(host, event["port"])
                    result["node_api_via_" + name] = probe(host, event["api_port"])
                result["runtime_api_via_host_end"] = probe(host_end, int(runtime_port))
                return result
            """);

        var (response, body) = await fixture.InvokeAsync("e2e-probe", JsonSerializer.Serialize(new { port, api_port = fixture.Node.ApiAddress.Port, primary = primary?.ToString() }));

        Assert.True(response.IsSuccessStatusCode && !response.Headers.Contains("X-Amz-Function-Error"), body);
        using var result = JsonDocument.Parse(body);
        var root = result.RootElement;
        Assert.Equal("connected", root.GetProperty("runtime_api").GetString());
        var probes = root.EnumerateObject().Where(p => p.Name.Contains("_via_", StringComparison.Ordinal)).ToList();
        Assert.Equal(primary is null ? 7 : 9, probes.Count);
        Assert.All(probes, p => Assert.True(p.Value.GetString() != "connected", $"{p.Name} connected: {body}"));

        // Exactly two routes: the connected /30 (no gateway) and the service address through the veth host end.
        var hostEnd = root.GetProperty("host_end").GetString()!;
        var routes = root.GetProperty("routes").EnumerateArray().Select(r => string.Join(' ', r.EnumerateArray().Select(a => a.GetString()))).Order().ToList();
        var network = IPAddress.Parse(hostEnd).GetAddressBytes();
        network[3] &= 0xFC;
        string[] expected = [$"10.77.0.1 {hostEnd} 255.255.255.255", $"{new IPAddress(network)} 0.0.0.0 255.255.255.252"];
        Assert.Equal(expected.Order(), routes);
    }
}
