// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Collections.Concurrent;

namespace Nexus.Channel.Services;

/// <summary>
/// The service of one instance's channel: copies and validates submission records, routes each request to the
/// service registered for its op, keeps the response-slot pool and the requests still reading their bodies.
/// Everything that goes wrong with this sandbox ends here (an error completion or this channel closed), never in a
/// service's other sessions or in another instance.
/// </summary>
public sealed partial class ChannelSession : IAsyncDisposable
{
    // Request ops are below Data (32); the table is indexed by op.
    private const int OpTableSize = (int)ChannelOp.Data;

    private static long s_incidents;

    private readonly ChannelServiceHost _host;
    private readonly SlotPool _slots;
    private readonly IChannelService?[] _services = new IChannelService?[OpTableSize];
    private readonly ConcurrentDictionary<ulong, ChannelRequest> _inbound = new();
    private readonly ConcurrentDictionary<Task, byte> _running = new();
    private readonly CancellationTokenSource _closing = new();
    private readonly TaskCompletionSource<string> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _closeLock = new();
    private readonly Lock _drainLock = new();
    private readonly ChannelRecord[] _records = new ChannelRecord[64];
    private TaskCompletionSource _ringSpace = NewSignal();
    private int _outstanding;
    private bool _started;
    private string? _closeReason;

    internal ChannelSession(ChannelServiceHost host, HostChannel channel, ulong token)
    {
        _host = host;
        Channel = channel;
        Token = token;
        _slots = new SlotPool(channel.Layout.SlotCount);
        StormGuard = new DoorbellStormGuard(host.Options.MaxEmptyWakesPerWindow, host.Options.DoorbellWindow);
    }

    public HostChannel Channel { get; }

    public SessionStats Stats { get; } = new();

    /// <summary>Response slots neither lent to the sandbox nor held by a request or a service.</summary>
    public int FreeSlots => _slots.FreeCount;

    /// <summary>
    /// Gives back the pages of the response slots that are free and were used since they were last given back; returns
    /// how many slots. Meant for an instance that sits idle: its next responses fault their slots in again.
    /// </summary>
    public int ReleaseFreeSlots() => _slots.ReleaseFree(Channel.ReleaseSlotPages);

    /// <summary>Completes with the reason when this session's channel closes.</summary>
    public Task<string> Closed => _closed.Task;

    /// <summary>Cancelled when the channel closes.</summary>
    public CancellationToken Closing => _closing.Token;

    /// <summary>Why the channel closed; null while it is open.</summary>
    public string? CloseReason => Volatile.Read(ref _closeReason);

    internal ulong Token { get; }

    private TimeSpan StallTimeout => _host.Options.SandboxStallTimeout;

    /// <summary>Adds a service for its ops; only before <see cref="Start"/>.</summary>
    public void Register(IChannelService service)
    {
        ArgumentNullException.ThrowIfNull(service);
        if (_started)
        {
            throw new InvalidOperationException("services are registered before the session starts");
        }

        foreach (var op in service.Ops)
        {
            if ((int)op is <= 0 or >= OpTableSize)
            {
                throw new ArgumentException($"op {op} is not a request op", nameof(service));
            }

            if (_services[(int)op] is { } other)
            {
                throw new ArgumentException($"op {op} is served by {other.GetType().Name} already", nameof(service));
            }

            _services[(int)op] = service;
        }
    }

    /// <summary>Starts serving: the host watches the sandbox's doorbell from now on.</summary>
    public void Start()
    {
        if (_started)
        {
            return;
        }

        _started = true;
        _host.Watch(this);

        // A doorbell rung before the host watched it would be missed: check the ring now.
        while (OnDoorbell(out var more) > 0 && more)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        Close("detached from the node");

        // The doorbell thread may be inside this session's drain (it rang just before the close), starting a request
        // whose service runs inline there and writes into the region. Once the drain lock is taken here it has left, and
        // every request it started is in _running; a later drain sees the close and does nothing. Without this the
        // owner could unmap the region under the doorbell thread (found by `nexus fuzz session`: a crash of the node).
        lock (_drainLock)
        {
        }

        try
        {
            await Task.WhenAll(_running.Keys.ToArray()).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Requests report their own failures to the sandbox; on close there is nobody left to tell.
        }

        _closing.Dispose();
    }

    /// <summary>
    /// Work outside any request that writes into the region (a prefetch filling response slots): <see cref="DisposeAsync"/>
    /// waits for it as for requests, so the owner never unmaps the region under it. The work must end soon after
    /// <see cref="Closing"/> is cancelled.
    /// </summary>
    public void Hold(Task work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (work.IsCompleted)
        {
            return;
        }

        _running.TryAdd(work, 0);
        _ = work.ContinueWith(t => _running.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Closes this instance's channel: pending calls fail, the sandbox is told, other instances carry on.</summary>
    public void Close(string reason)
    {
        lock (_closeLock)
        {
            if (_closeReason is not null)
            {
                return;
            }

            Volatile.Write(ref _closeReason, reason);
        }

        _host.Unwatch(this);
        _closing.Cancel();
        try
        {
            Channel.MarkClosed();
        }
        catch (ObjectDisposedException)
        {
            // The owner disposed the channel already; the sandbox is gone with it.
        }

        _closed.TrySetResult(reason);
    }

    internal void CountFromSandbox(int bytes) => Interlocked.Add(ref Stats._bytesFromSandbox, bytes);

    /// <summary>Counts the doorbell thread's empty wakes of this session (<see cref="ChannelServiceHost"/> only).</summary>
    internal DoorbellStormGuard StormGuard { get; }

    /// <summary>
    /// The sandbox rang: wake whoever waits for ring space, then drain and dispatch on this thread, at most a ring's
    /// worth of records (the thread serves every channel: a sandbox that keeps its ring full is served in turns with the
    /// others, not for as long as it keeps writing). Returns how many records were drained; <paramref name="more"/> says
    /// the limit stopped it with records possibly left, which the caller drains later without a ring.
    /// </summary>
    internal int OnDoorbell(out bool more)
    {
        more = false;
        Interlocked.Exchange(ref _ringSpace, NewSignal()).TrySetResult();
        if (_closeReason is not null)
        {
            return 0;
        }

        var drained = 0;
        var limit = Channel.Layout.RingEntries;
        lock (_drainLock)
        {
            if (_closeReason is not null)
            {
                // Closed between the check above and this lock: the owner may be disposing the channel.
                return 0;
            }

            try
            {
                int n;
                while (drained < limit && (n = Channel.DrainSubmissions(_records)) > 0)
                {
                    drained += n;
                    for (var i = 0; i < n; i++)
                    {
                        Handle(_records[i]);
                    }
                }

                more = drained >= limit && _closeReason is null;
            }
            catch (ChannelProtocolException e)
            {
                Close(e.Message);
            }
            catch (ObjectDisposedException)
            {
                Close("channel disposed");
            }
        }

        return drained;
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void Handle(in ChannelRecord record)
    {
        switch (record.Op)
        {
            case ChannelOp.Release:
                if (!_slots.Return(unchecked((int)record.Slot)))
                {
                    throw new ChannelProtocolException($"the sandbox released response slot {record.Slot}, which is not lent to it");
                }

                return;
            case ChannelOp.Data:
                if (_inbound.TryGetValue(record.RequestId, out var inbound))
                {
                    if (record.Length == 0 || !Channel.Layout.InRequestArea(record.Offset, record.Length) || !inbound.TryAddChunk(record))
                    {
                        Interlocked.Increment(ref Stats._rejected);
                        _inbound.TryRemove(KeyValuePair.Create(record.RequestId, inbound));
                        inbound.Fail(ChannelRequestException.Invalid($"chunk {record.Chunk} of request {record.RequestId} is out of sequence, empty, outside the request area or beyond the queue limit"));
                    }
                }

                // A chunk for a request that has already been answered is a benign race: it is dropped.
                return;
            default:
                Begin(record);
                return;
        }
    }

    private void Begin(in ChannelRecord record)
    {
        Interlocked.Increment(ref Stats._requests);
        var limit = _host.Options.MaxOutstandingPerInstance;
        if (Interlocked.Increment(ref _outstanding) > limit)
        {
            throw new ChannelProtocolException($"the sandbox has more than {limit} requests outstanding");
        }

        var request = new ChannelRequest(this, record, Channel.Layout.RingEntries);
        var (service, problem) = Validate(record);
        if (problem is null && !_inbound.TryAdd(record.RequestId, request))
        {
            problem = ChannelRequestException.Invalid($"request id {record.RequestId} is already in use");
        }

        Track(problem is null ? RunAsync(service!, request) : RejectAsync(request, problem));
    }

    private (IChannelService? Service, ChannelRequestException? Problem) Validate(in ChannelRecord record)
    {
        var layout = Channel.Layout;
        var service = (uint)record.Op < OpTableSize ? _services[(int)record.Op] : null;
        if (service is null)
        {
            return (null, new ChannelRequestException(400, "InvalidRequest", $"unknown operation code {(ushort)record.Op}"));
        }

        if (record.HeaderLength > (uint)layout.MaxHeaderBytes)
        {
            return (null, new ChannelRequestException(400, "RequestHeaderSectionTooLarge", $"request header is {record.HeaderLength} bytes; the limit is {layout.MaxHeaderBytes}"));
        }

        if (record.TotalLength > 5UL << 30)
        {
            return (null, new ChannelRequestException(400, "EntityTooLarge", $"request body of {record.TotalLength} bytes exceeds 5 GiB"));
        }

        var stream = record.HeaderLength + record.TotalLength;
        var more = (record.Flags & ChannelFlags.More) != 0;
        if (record.Chunk != 0 || record.Length > stream || (!more && record.Length != stream) || (more && record.Length == 0))
        {
            return (null, ChannelRequestException.Invalid($"first chunk of request {record.RequestId} has length {record.Length} for a {stream}-byte message"));
        }

        if (record.Length > 0 && !layout.InRequestArea(record.Offset, record.Length))
        {
            return (null, ChannelRequestException.Invalid($"request {record.RequestId} points at [{record.Offset}, +{record.Length}), outside the request area"));
        }

        return (service, null);
    }

    private void Track(Task task)
    {
        if (task.IsCompleted)
        {
            Interlocked.Decrement(ref _outstanding);
            return;
        }

        _running.TryAdd(task, 0);
        _ = task.ContinueWith(
            t =>
            {
                _running.TryRemove(t, out _);
                Interlocked.Decrement(ref _outstanding);
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private async Task RejectAsync(ChannelRequest request, ChannelRequestException problem)
    {
        Interlocked.Increment(ref Stats._rejected);
        await TrySendErrorAsync(request, problem).ConfigureAwait(false);
    }

    private async Task RunAsync(IChannelService service, ChannelRequest request)
    {
        var ct = _closing.Token;
        try
        {
            await service.ServeAsync(request, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (ChannelRequestException.In(e) is { } problem)
        {
            Interlocked.Increment(ref Stats._rejected);
            await TrySendErrorAsync(request, problem).ConfigureAwait(false);
        }
        catch (Exception) when (ct.IsCancellationRequested)
        {
            // The channel closed; the sandbox has been told.
        }
        catch (ChannelClosedException)
        {
            // The channel closed; the sandbox has been told.
        }
        catch (Exception e)
        {
            // Raw exception text (host paths, addresses, library internals) never crosses into the sandbox: it gets an
            // incident number, the host's log gets the exception under the same number.
            var incident = Interlocked.Increment(ref s_incidents);
            try
            {
                _host.Options.ReportInternalError(incident, request.Op, e);
            }
            catch (Exception logFailure) when (logFailure is IOException or ObjectDisposedException)
            {
                // A log on a full disk: the sandbox is answered all the same (it waited for its request until its
                // timeout, an operator's review).
            }

            await TrySendErrorAsync(request, new ChannelRequestException(500, "InternalError", $"internal error (incident {incident}); the node's log has the details")).ConfigureAwait(false);
        }
        finally
        {
            _inbound.TryRemove(KeyValuePair.Create(request.Id, request));
        }
    }

    private async Task TrySendErrorAsync(ChannelRequest request, ChannelRequestException error)
    {
        try
        {
            await SendErrorAsync(request, error, _closing.Token).ConfigureAwait(false);
        }
        catch (Exception) when (_closing.IsCancellationRequested)
        {
            // Closed while reporting.
        }
        catch (ChannelClosedException)
        {
            // Closed while reporting.
        }
    }
}
