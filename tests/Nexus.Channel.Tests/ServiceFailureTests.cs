// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Collections.Concurrent;
using Nexus.Channel.Services;
using Nexus.Testing.Channel;

namespace Nexus.Channel.Tests;

/// <summary>Defence: a service's unexpected exception reaches the sandbox as an incident number, never as its text.</summary>
public sealed class ServiceFailureTests
{
    private const string Secret = "/var/lib/nexus/credentials at 10.0.0.1:9000";

    [Fact]
    public async Task An_unexpected_exception_reaches_the_sandbox_only_as_an_incident_number()
    {
        var reported = new ConcurrentQueue<(long Incident, ChannelOp Op, Exception Error)>();
        await using var host = new ChannelServiceHost(new ChannelSessionOptions { ReportInternalError = (n, op, e) => reported.Enqueue((n, op, e)) });
        using var channel = new ProcessChannel(new ChannelOptions { RegionSize = 1 << 20, SlotSize = 64 << 10 });
        using var sandbox = new RawSandbox(channel);
        var session = host.Open(channel.Host);
        session.Register(new ThrowingService());
        session.Start();

        sandbox.SubmitRequest(1, ChannelOp.HeadObject, """{"Bucket":"b","Key":"k"}""");
        var completion = await sandbox.NextCompletionAsync(TimeSpan.FromSeconds(30));

        Assert.NotNull(completion);
        Assert.Equal(500, completion.Value.Status);
        var header = sandbox.HeaderOf(completion.Value);
        Assert.DoesNotContain("credentials", header, StringComparison.Ordinal);
        Assert.DoesNotContain("10.0.0.1", header, StringComparison.Ordinal);
        Assert.DoesNotContain(nameof(InvalidOperationException), header, StringComparison.Ordinal);
        var (incident, op, error) = Assert.Single(reported);
        Assert.Contains($"incident {incident}", header, StringComparison.Ordinal);
        Assert.Equal(ChannelOp.HeadObject, op);
        Assert.Equal(Secret, error.Message);
        Assert.Null(session.CloseReason);
    }

    private sealed class ThrowingService : IChannelService
    {
        public IReadOnlyCollection<ChannelOp> Ops { get; } = [ChannelOp.HeadObject];

        public Task ServeAsync(ChannelRequest request, CancellationToken cancellationToken) =>
            throw new InvalidOperationException(Secret);
    }
}
