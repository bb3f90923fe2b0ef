// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net;
using System.Net.Sockets;
using Nexus.Bench;

namespace Nexus.Frontend.Tests;

public sealed class DynaliteStartTests
{
    // Guards the retry on a taken port: dynalite cannot bind port 0, so its port is found free and let go first, and
    // another process may take it before dynalite binds it.
    [DynaliteFact(boto3: false)]
    public async Task A_port_taken_before_dynalite_binds_it_is_replaced_by_a_fresh_one()
    {
        using var taken = ListeningOnFreePort(out var takenPort);
        var picks = 0;

        await using var dynalite = await Dynalite.StartAsync("127.0.0.1", 0, () => picks++ == 0 ? takenPort : Dynalite.FreeLoopbackPort(), CancellationToken.None);

        Assert.Equal(2, picks);
        Assert.NotEqual(takenPort, dynalite.Port);
        // DynamoDB's answer to an unsigned call, from dynalite on the port it reports.
        using var client = new HttpClient();
        using var call = new HttpRequestMessage(HttpMethod.Post, dynalite.Endpoint) { Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/x-amz-json-1.0") };
        call.Headers.Add("X-Amz-Target", "DynamoDB_20120810.ListTables");
        var answer = await client.SendAsync(call);
        Assert.Contains("MissingAuthenticationToken", await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [DynaliteFact(boto3: false)]
    public async Task A_port_that_stays_taken_fails_with_dynalites_error_after_the_last_attempt()
    {
        using var taken = ListeningOnFreePort(out var takenPort);
        var picks = 0;

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => Dynalite.StartAsync("127.0.0.1", 0, () => { picks++; return takenPort; }, CancellationToken.None));

        Assert.Equal(Dynalite.MaxPortAttempts, picks);
        Assert.Contains("EADDRINUSE", e.Message, StringComparison.Ordinal);
    }

    private static TcpListener ListeningOnFreePort(out int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        port = ((IPEndPoint)listener.LocalEndpoint).Port;
        return listener;
    }
}
