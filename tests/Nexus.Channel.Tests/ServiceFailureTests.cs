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
        var (status, header, closeReason) = await AskAThrowingServiceAsync((n, op, e) => reported.Enqueue((n, op, e)));

        Assert.Equal(500, status);
        Assert.DoesNotContain("credentials", header, StringComparison.Ordinal);
        Assert.DoesNotContain("10.0.0.1", header, StringComparison.Ordinal);
        Assert.DoesNotContain(nameof(InvalidOperationException), header, StringComparison.Ordinal);
        var (incident, op, error) = Assert.Single(reported);
        Assert.Contains($"incident {incident}", header, StringComparison.Ordinal);
        Assert.Equal(ChannelOp.HeadObject, op);
        Assert.Equal(Secret, error.Message);
        Assert.Null(closeReason);
    }

    /// <summary>
    /// The incident is answered even when it cannot be logged (the node's log on a full disk): the log line came first
    /// and threw, so the sandbox waited for its request until its timeout (an operator's review).
    /// </summary>
    [Fact]
    public async Task An_incident_the_log_cannot_take_is_still_answered()
    {
        var (status, header, closeReason) = await AskAThrowingServiceAsync((_, _, _) => throw new IOException("No space left on device"));

        Assert.Equal(500, status);
        Assert.Contains("internal error (incident", header, StringComparison.Ordinal);
        Assert.Null(closeReason);
    }

    /// <summary>
    /// A HeadObject from a sandbox to a service that throws, through a host whose incident report is
    /// <paramref name="report"/>: the answer's status and header, and the session's close reason after it.
    /// </summary>
    private static async Task<(int Status, string Header, string? CloseReason)> AskAThrowingServiceAsync(Action<long, ChannelOp, Exception> report)
    {
        await using var host = new ChannelServiceHost(new ChannelSessionOptions { ReportInternalError = report });
        using var channel = new ProcessChannel(new ChannelOptions { RegionSize = 1 << 20, SlotSize = 64 << 10 });
        using var sandbox = new RawSandbox(channel);
        var session = host.Open(channel.Host);
        session.Register(new ThrowingService());
        session.Start();

        sandbox.SubmitRequest(1, ChannelOp.HeadObject, """{"Bucket":"b","Key":"k"}""");
        var completion = await sandbox.NextCompletionAsync(TimeSpan.FromSeconds(30));
        Assert.NotNull(completion);
        return (completion.Value.Status, sandbox.HeaderOf(completion.Value), session.CloseReason);
    }

    [Fact]
    public async Task The_host_disposed_from_code_its_doorbell_thread_runs_stops_instead_of_waiting_for_itself()
    {
        // A caller awaiting an invocation's result resumes on the doorbell thread and may dispose the host there (the
        // examples' differential test did, and hung in Thread.Join on its own thread).
        var host = new ChannelServiceHost();
        using var channel = new ProcessChannel(new ChannelOptions { RegionSize = 1 << 20, SlotSize = 64 << 10 });
        using var sandbox = new RawSandbox(channel);
        var session = host.Open(channel.Host);
        var disposing = new DisposingService(host);
        session.Register(disposing);
        session.Start();

        sandbox.SubmitRequest(1, ChannelOp.HeadObject, """{"Bucket":"b","Key":"k"}""");
        var disposed = await disposing.Disposed.Task.WaitAsync(TimeSpan.FromSeconds(30));

        await disposed.AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Throws<ObjectDisposedException>(() => host.Open(channel.Host));
    }

    private sealed class DisposingService(ChannelServiceHost host) : IChannelService
    {
        public TaskCompletionSource<ValueTask> Disposed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public IReadOnlyCollection<ChannelOp> Ops { get; } = [ChannelOp.HeadObject];

        public Task ServeAsync(ChannelRequest request, CancellationToken cancellationToken)
        {
            Disposed.SetResult(host.DisposeAsync());
            return Task.CompletedTask;
        }
    }

    private sealed class ThrowingService : IChannelService
    {
        public IReadOnlyCollection<ChannelOp> Ops { get; } = [ChannelOp.HeadObject];

        public Task ServeAsync(ChannelRequest request, CancellationToken cancellationToken) =>
            throw new InvalidOperationException(Secret);
    }
}
