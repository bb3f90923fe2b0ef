// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers;
using System.Diagnostics;
using Nexus.Channel;
using Nexus.Channel.Services;

namespace Nexus.Node.Transports.NexusChannel;

/// <summary>
/// The invocation ops of one instance's channel (docs/channel.md): the runtime's NextInvocation, or a response/error
/// posted with <c>"Next": true</c>, parks a request on the host; an invocation is pushed into that parked request the
/// moment the pool hands it over, so a warm invocation costs one completion (the event) and one submission (the result,
/// which also parks the runtime for the next one).
/// </summary>
public sealed class InvocationService : IChannelService
{
    private static readonly ChannelOp[] s_ops =
        [ChannelOp.NextInvocation, ChannelOp.InvocationResponse, ChannelOp.InvocationError, ChannelOp.InitError];

    private readonly ChannelSession _session;
    private readonly int _maxPayloadBytes;
    private readonly Lock _lock = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Pending? _current;
    private ChannelRequest? _parked;
    private int _readingResult;

    /// <summary>Registers the service on <paramref name="session"/> (before it starts).</summary>
    public InvocationService(ChannelSession session, int maxPayloadBytes)
    {
        ArgumentNullException.ThrowIfNull(session);
        _session = session;
        _maxPayloadBytes = maxPayloadBytes;
        session.Register(this);
        session.Closing.Register(() =>
        {
            Pending? current;
            lock (_lock)
            {
                current = _current;
                _parked = null;
            }

            current?.Result.TrySetException(new ChannelClosedException($"instance channel closed: {_session.CloseReason}"));
        });
    }

    public IReadOnlyCollection<ChannelOp> Ops => s_ops;

    /// <summary>Completes at the runtime's first NextInvocation (its init is done) or its init error.</summary>
    public Task Ready => _ready.Task;

    public InvocationResult? InitError { get; private set; }

    /// <summary>
    /// Hands one invocation to the runtime (pushed at once when it waits, else taken by its next request) and waits
    /// for its response or error. Throws <see cref="ChannelClosedException"/> when the channel closes first.
    /// </summary>
    public async Task<InvocationResult> InvokeAsync(Invocation invocation, CancellationToken cancellationToken)
    {
        if (InitError is { } initError)
        {
            return initError;
        }

        var pending = new Pending(invocation);
        ChannelRequest? parked;
        lock (_lock)
        {
            if (_session.CloseReason is { } reason)
            {
                throw new ChannelClosedException($"instance channel closed: {reason}");
            }

            if (_current is not null)
            {
                throw new InvalidOperationException("an invocation is already in progress on this instance");
            }

            _current = pending;
            parked = TakeParkedLocked(pending);
        }

        try
        {
            if (parked is not null)
            {
                await PushAsync(parked, pending).ConfigureAwait(false);
            }

            return await pending.Result.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            lock (_lock)
            {
                if (_current == pending)
                {
                    _current = null;
                }
            }
        }
    }

    /// <summary>
    /// The largest header of a result or init error: the runtime's is <c>{"RequestId", "Next", two stamps}</c>, under 200
    /// bytes. These run on the doorbell thread every node's channel shares, so what the sandbox states is bounded before
    /// anything is read (a 4 MiB header, the channel's own limit, cost that thread ~20 ms per request).
    /// </summary>
    public const int MaxResultHeaderBytes = 4096;

    public Task ServeAsync(ChannelRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Op == ChannelOp.NextInvocation)
        {
            return WaitForNextAsync(request);
        }

        if (request.HeaderLength > MaxResultHeaderBytes)
        {
            return Task.FromException(new ChannelRequestException(400, "RequestHeaderSectionTooLarge", $"the header of a result is {request.HeaderLength} bytes; the limit is {MaxResultHeaderBytes}"));
        }

        // One result or init error is read at a time: each may copy a 6 MiB body into private memory, and a runtime has
        // one invocation to answer. Without this a sandbox holding 255 of them unfinished pinned ~1.5 GiB of the node.
        // The right ends with the read (EndReading), before the result is handed on: the next invocation may be pushed,
        // answered and its result arrive while this request's task is still finishing on another thread.
        if (Interlocked.Exchange(ref _readingResult, 1) != 0)
        {
            return Task.FromException(new ChannelRequestException(409, "ResultInProgress", "a result or init error of this instance is being read already"));
        }

        return request.Op == ChannelOp.InitError ? InitErrorAsync(request, cancellationToken) : ResultAsync(request, cancellationToken);
    }

    private void EndReading() => Volatile.Write(ref _readingResult, 0);

    private static ReadOnlyMemory<byte> EventHeader(Invocation invocation) => ChannelJson.Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("RequestId", invocation.RequestId);
        w.WriteNumber("DeadlineMs", invocation.Deadline.ToUnixTimeMilliseconds());
        w.WriteString("FunctionArn", invocation.FunctionArn);
        if (invocation.TraceId is { } trace)
        {
            w.WriteString("TraceId", trace);
        }

        if (invocation.ClientContext is { } clientContext)
        {
            w.WriteString("ClientContext", clientContext);
        }

        w.WriteEndObject();
    });

    // The runtime waits for its next invocation on this request: push the one already queued, or park the request.
    private Task WaitForNextAsync(ChannelRequest request)
    {
        _ready.TrySetResult();
        Pending? queued;
        lock (_lock)
        {
            if (_parked is not null)
            {
                throw new ChannelRequestException(409, "AlreadyWaiting", "the runtime is already waiting for an invocation");
            }

            if (_current is { Pushed: false } current)
            {
                current.Pushed = true;
                queued = current;
            }
            else
            {
                _parked = request;
                return Task.CompletedTask;
            }
        }

        return PushAsync(request, queued);
    }

    private ChannelRequest? TakeParkedLocked(Pending pending)
    {
        var parked = _parked;
        if (parked is not null)
        {
            _parked = null;
            pending.Pushed = true;
        }

        return parked;
    }

    private async Task PushAsync(ChannelRequest parked, Pending pending)
    {
        try
        {
            var invocation = pending.Invocation;
            await _session.SendUnrungAsync(parked, 200, EventHeader(invocation), invocation.Payload, _session.Closing).ConfigureAwait(false);

            // Handed once its completion is posted: the eventfd write that wakes the runtime often returns only after
            // the kernel ran the runtime in this thread's place (it had the event before the write returned in 106 of
            // the 116 writes over 30 us in one run: docs/benchmarks.md), which is the sandbox's time, not the node's.
            invocation.Timeline.Handed = Stopwatch.GetTimestamp();
            _session.Ring();
            invocation.Timeline.Rung = Stopwatch.GetTimestamp();
        }
        catch (Exception e) when (e is ChannelClosedException or OperationCanceledException or ObjectDisposedException)
        {
            pending.Result.TrySetException(new ChannelClosedException($"instance channel closed: {_session.CloseReason}", e));
        }
    }

    private async Task ResultAsync(ChannelRequest request, CancellationToken cancellationToken)
    {
        var arrived = Stopwatch.GetTimestamp();
        bool next;
        long? pickedUpNs, submittedNs;
        Pending? pending;
        byte[] body;
        ChannelRequestException? tooLarge = null;
        try
        {
            // The header goes into a pooled buffer (the one private copy) and is read without a document: this runs once
            // per warm invocation. Its length is bounded (ServeAsync).
            ResultHeader header;
            var buffer = ArrayPool<byte>.Shared.Rent((int)request.HeaderLength);
            try
            {
                await request.ReadHeaderAsync(buffer, cancellationToken).ConfigureAwait(false);
                header = ResultHeader.Parse(buffer.AsSpan(0, (int)request.HeaderLength));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            string id;
            (id, next, pickedUpNs, submittedNs) = header;
            lock (_lock)
            {
                pending = _current is { Pushed: true } current && current.Invocation.RequestId == id ? current : null;
            }

            if (pending is null)
            {
                var named = id.Length > 64 ? id[..64] + "..." : id;
                throw new ChannelRequestException(400, "InvalidRequestID", $"no invocation {named} is waiting for a result");
            }

            try
            {
                body = await request.ReadBodyAsync(_maxPayloadBytes, cancellationToken).ConfigureAwait(false);
            }
            catch (ChannelRequestException e) when (e.Status == 413)
            {
                tooLarge = e;
                body = [];
            }
        }
        finally
        {
            EndReading();
        }

        if (tooLarge is not null)
        {
            pending.Result.TrySetResult(InvocationResult.Error(
                "Function.ResponseSizeTooLarge",
                $"Response payload size ({request.BodyLength} bytes) exceeded maximum allowed payload size ({_maxPayloadBytes} bytes)."));
            throw tooLarge;
        }

        var result = request.Op == ChannelOp.InvocationResponse
            ? new InvocationResult(body, null)
            : new InvocationResult(body, ChannelJson.ErrorType(body) ?? "Unhandled");
        var timeline = pending.Invocation.Timeline;
        timeline.Arrived = arrived;
        if (pickedUpNs is { } p && submittedNs is { } s)
        {
            timeline.SetSandboxStamps(p, s);
        }

        if (next)
        {
            // Parked before the result is out, so that the pool's next invocation finds the runtime waiting.
            bool waitingAlready;
            lock (_lock)
            {
                _current = null;
                waitingAlready = _parked is not null;
                _parked ??= request;
            }

            timeline.Completed = Stopwatch.GetTimestamp();
            pending.Result.TrySetResult(result);
            if (waitingAlready)
            {
                // The result stands (the invocation does not wait out its timeout); only the second wait is refused.
                throw new ChannelRequestException(409, "AlreadyWaiting", "the runtime is already waiting for an invocation");
            }

            return;
        }

        timeline.Completed = Stopwatch.GetTimestamp();
        pending.Result.TrySetResult(result);
        await _session.SendJsonAsync(request, 202, EmptyObject, cancellationToken).ConfigureAwait(false);
    }

    private async Task InitErrorAsync(ChannelRequest request, CancellationToken cancellationToken)
    {
        byte[] body;
        try
        {
            body = await request.ReadBodyAsync(_maxPayloadBytes, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            EndReading();
        }

        var result = new InvocationResult(body, ChannelJson.ErrorType(body) ?? "Runtime.InitError");
        InitError = result;
        _ready.TrySetResult();
        Pending? current;
        lock (_lock)
        {
            current = _current;
        }

        current?.Result.TrySetResult(result);
        await _session.SendJsonAsync(request, 202, EmptyObject, cancellationToken).ConfigureAwait(false);
    }

    private static void EmptyObject(System.Text.Json.Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteEndObject();
    }

    private sealed class Pending(Invocation invocation)
    {
        public Invocation Invocation { get; } = invocation;

        /// <summary>Handed to the runtime (guarded by the service's lock).</summary>
        public bool Pushed { get; set; }

        /// <summary>
        /// Completed on the doorbell thread as the result is drained, which then runs the waiting invocation's
        /// continuation inline (the pool's bookkeeping and its caller up to their next wait) instead of queueing it to
        /// the thread pool: on a busy machine that queue costs more than the work. Nothing on that path may block.
        /// </summary>
        public TaskCompletionSource<InvocationResult> Result { get; } = new();
    }
}
