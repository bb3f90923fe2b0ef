// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net;
using System.Net.Sockets;
using Nexus.Backend.Prefetch;
using Nexus.Testing.Channel;

namespace Nexus.Backend.Tests;

public sealed partial class PrefetchTests
{
    /// <summary>
    /// Defence: a prefetch writes into the instance's response slots from the thread pool, outside any request, so the
    /// session's disposal waits for it (<c>ChannelSession.Hold</c>) and the owner never unmaps the region under a fetch
    /// still copying into it. Here the store accepts the prefetch's GET and never answers: when the disposal returns,
    /// the fetch must have ended (cancelled by the close, counted as skipped).
    /// </summary>
    [Fact]
    public async Task Disposing_the_session_waits_for_a_prefetch_still_running()
    {
        using var silentStore = new TcpListener(IPAddress.Loopback, 0);
        silentStore.Start();
        var accepted = silentStore.AcceptSocketAsync();
        var port = ((IPEndPoint)silentStore.LocalEndpoint).Port;
        _backend = new NexusBackend(new NexusBackendOptions { ServiceUrl = $"http://127.0.0.1:{port}", AccessKey = NodeUnderTest.AccessKey, SecretKey = NodeUnderTest.SecretKey });
        var session = Attach(_backend);
        session.Storage.BeginPrefetch(PrefetchHints.Start(session.Storage.Manifest, S3Event(Bucket, "fn/in/never-answered")));
        using var connection = await accepted.WaitAsync(TimeSpan.FromMinutes(1));

        await session.Session.DisposeAsync();

        var stats = _backend.PrefetchStats.Snapshot();
        Assert.Equal(0, stats.Fetched);
        Assert.Equal(1, stats.Skipped);
    }
}
