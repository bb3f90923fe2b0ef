// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Channel.Services;

/// <summary>
/// One family of operations served on a channel (the node's invocations, the backend's storage calls). A session
/// routes each validated request to the service registered for its op.
/// </summary>
public interface IChannelService
{
    /// <summary>The request ops this service answers (docs/channel.md); no two services of a session share one.</summary>
    IReadOnlyCollection<ChannelOp> Ops { get; }

    /// <summary>
    /// Answers one request (a completion through <see cref="ChannelRequest.Session"/>). Called on the thread that
    /// drains the doorbells of every channel: it must return at its first wait, and yield first when it has more than
    /// a few microseconds of work before it. A <see cref="ChannelRequestException"/> becomes the request's error
    /// completion; <paramref name="cancellationToken"/> fires when the channel closes.
    /// </summary>
    Task ServeAsync(ChannelRequest request, CancellationToken cancellationToken);
}

/// <summary>Limits of every session a <see cref="ChannelServiceHost"/> serves.</summary>
public sealed record ChannelSessionOptions
{
    /// <summary>
    /// How long the host waits on a sandbox (a free response slot, completion-ring space, the next request chunk)
    /// before it closes that sandbox's channel.
    /// </summary>
    public TimeSpan SandboxStallTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Requests one sandbox may have outstanding; more is a protocol violation that closes its channel.</summary>
    public int MaxOutstandingPerInstance { get; init; } = 256;

    /// <summary>
    /// Wakes of one session that find its submission ring empty allowed within <see cref="DoorbellWindow"/>; past
    /// them the host stops watching that sandbox's doorbell until the window ends (a doorbell storm then costs the
    /// node at most this many empty drains a window).
    /// </summary>
    public int MaxEmptyWakesPerWindow { get; init; } = 100;

    /// <summary>The window of <see cref="MaxEmptyWakesPerWindow"/>; also the longest a storming sandbox is not watched.</summary>
    public TimeSpan DoorbellWindow { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// Where a service's unexpected exception goes (the sandbox only sees "internal error (incident N)"): incident
    /// number, the request's op and the exception. Standard error by default.
    /// </summary>
    public Action<long, ChannelOp, Exception> ReportInternalError { get; init; } =
        (incident, op, e) => Console.Error.WriteLine($"nexus channel: internal error (incident {incident}) serving {op}: {e}");
}

/// <summary>The channel closed (protocol violation, stall, or shutdown) before the operation finished.</summary>
public sealed class ChannelClosedException : Exception
{
    public ChannelClosedException()
    {
    }

    public ChannelClosedException(string message)
        : base(message)
    {
    }

    public ChannelClosedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Counters of one session (read with Interlocked semantics; approximate under load).</summary>
public sealed class SessionStats
{
    internal long _requests;
    internal long _rejected;
    internal long _bytesToSandbox;
    internal long _bytesFromSandbox;
    internal long _wakes;
    internal long _mutes;

    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Requests failed by validation (bad record, header, parameters, permissions).</summary>
    public long Rejected => Interlocked.Read(ref _rejected);

    public long BytesToSandbox => Interlocked.Read(ref _bytesToSandbox);

    public long BytesFromSandbox => Interlocked.Read(ref _bytesFromSandbox);

    /// <summary>Times the sandbox's doorbell woke the host for this session.</summary>
    public long Wakes => Interlocked.Read(ref _wakes);

    /// <summary>Times the host stopped watching the doorbell for the rest of a window (a doorbell storm).</summary>
    public long Mutes => Interlocked.Read(ref _mutes);
}
