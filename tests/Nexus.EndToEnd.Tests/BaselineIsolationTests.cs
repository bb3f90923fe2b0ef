// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Nexus.Testing;

namespace Nexus.EndToEnd.Tests;

/// <summary>A baseline sandbox has a network, but it reaches only the node's store and Runtime API.</summary>
public sealed class BaselineIsolationTests(NodeFixture fixture) : IClassFixture<NodeFixture>
{
    [RootFact]
    public async Task BaselineSandboxCannotReachOtherHostListeners()
    {
        // A host service bound to every address, as many are: reachable on the service address and on the
        // veth host end unless the node's firewall drops it.
        using var listener = new TcpListener(IPAddress.Any, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        await fixture.DeployAsync("name: e2e-probe\nhandler: handler.handler\nio: baseline\n", """
            import socket, os
            def probe(host, port):
                try:
                    socket.create_connection((host, port), timeout=1).close()
                    return "connected"
                except OSError as e:
                    return type(e).__name__
            def handler(event, context):
                with open("/proc/net/route") as f:
                    gateways = {line.split()[2] for line in f.readlines()[1:]}
                runtime_host, runtime_port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
                return {
                    "service_other_port": probe(runtime_host, event["port"]),
                    "runtime_api": probe(runtime_host, int(runtime_port)),
                    "routes": sorted(gateways),
                }
            """);

        var (response, body) = await fixture.InvokeAsync("e2e-probe", JsonSerializer.Serialize(new { port }));

        Assert.True(response.IsSuccessStatusCode && !response.Headers.Contains("X-Amz-Function-Error"), body);
        using var result = JsonDocument.Parse(body);
        Assert.Equal("connected", result.RootElement.GetProperty("runtime_api").GetString());
        Assert.NotEqual("connected", result.RootElement.GetProperty("service_other_port").GetString());
    }
}
