// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Collections.Concurrent;
using System.Text.Json;
using Nexus.Backend.Prefetch;
using Nexus.Channel;
using Nexus.Functions;

namespace Nexus.Backend;

/// <summary>
/// The backend's service of one instance's channel: a pump that copies and validates submission records, request
/// tasks bounded per instance and globally, the response-slot pool, and the invocation hand-off for the node.
/// Everything that goes wrong with this sandbox ends here (an error completion or this channel closed), never in the
/// backend or in another instance.
/// </summary>
public sealed class InstanceSession : IAsyncDisposable
{
    private readonly NexusBackend _backend;
    private readonly SlotPool _slots;
    private readonly ConcurrentDictionary<ulong, InboundRequest> _inbound = new();
    private readonly ConcurrentDictionary<string, PendingInvocation> _awaiting = new(StringComparer.Ordinal);
    private readonly System.Threading.Channels.Channel<PendingInvocation> _invocations =
        System.Threading.Channels.Channel.CreateUnbounded<PendingInvocation>();
    private readonly ConcurrentDictionary<Task, byte> _running = new();
    private readonly SemaphoreSlim _inFlight;
    private readonly CancellationTokenSource _closing = new();
    private readonly TaskCompletionSource<string> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly object _closeLock = new();
    private readonly Task _pump;
    private readonly PrefetchSet _prefetches;
    private TaskCompletionSource _doorbell = NewSignal();
    private TaskCompletionSource _ringSpace = NewSignal();
    private int _outstanding;
    private InvocationResult? _initError;
    private string? _closeReason;

    internal InstanceSession(NexusBackend backend, HostChannel channel, FunctionManifest manifest, ulong token)
    {
        _backend = backend;
        Channel = channel;
        Manifest = manifest;
        Token = token;
        _slots = new SlotPool(channel.Layout.SlotCount);
        _inFlight = new SemaphoreSlim(backend.Options.MaxInFlightPerInstance);
        _prefetches = new PrefetchSet(this, backend);
        _pump = Task.Run(PumpAsync);
    }

    public HostChannel Channel { get; }

    public FunctionManifest Manifest { get; }

    public SessionStats Stats { get; } = new();

    /// <summary>Response slots neither lent to the sandbox nor held by a request or a prefetch.</summary>
    public int FreeSlots => _slots.FreeCount;

    /// <summary>Completes with the reason when this session's channel closes.</summary>
    public Task<string> Closed => _closed.Task;

    internal ulong Token { get; }

    internal TimeSpan StallTimeout => _backend.Options.SandboxStallTimeout;

    /// <summary>
    /// Pushes one invocation to the instance (answering its pending NextInvocation) and waits for its response or error.
    /// Throws <see cref="InstanceClosedException"/> when the channel closes first.
    /// </summary>
    public async Task<InvocationResult> InvokeAsync(string requestId, ReadOnlyMemory<byte> eventJson, DateTimeOffset deadline, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(requestId);
        if (Volatile.Read(ref _initError) is { } initError)
        {
            return initError;
        }

        var pending = new PendingInvocation(requestId, eventJson.ToArray(), deadline);
        if (!_awaiting.TryAdd(requestId, pending))
        {
            throw new ArgumentException($"invocation {requestId} is already in progress on this instance", nameof(requestId));
        }

        try
        {
            if (_closeReason is { } reason || !_invocations.Writer.TryWrite(pending))
            {
                throw new InstanceClosedException($"instance channel closed: {_closeReason}");
            }

            using var closing = _closing.Token.Register(() => pending.Result.TrySetException(new InstanceClosedException($"instance channel closed: {_closeReason}")));
            return await pending.Result.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _awaiting.TryRemove(requestId, out _);
            pending.Result.TrySetCanceled(CancellationToken.None);

            // Nothing prefetched for this invocation is of use to the next one.
            _prefetches.DropAll();
        }
    }

    /// <summary>
    /// Starts fetching the inputs <paramref name="invocationEvent"/> names (S3 event records, the manifest's inputs) into
    /// this instance's response slots, so that the function's GetObject of them finds the bytes already there. Called when
    /// the invocation is bound to this instance, also before its sandbox has started.
    /// </summary>
    public void BeginPrefetch(ReadOnlySpan<byte> invocationEvent)
    {
        if (_closeReason is null)
        {
            _prefetches.Begin(Manifest, invocationEvent);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Close("detached from the backend");
        await _pump.ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_running.Keys.ToArray()).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Request tasks report their own failures to the sandbox; on close there is nobody left to tell.
        }

        _closing.Dispose();
        _inFlight.Dispose();
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

            _closeReason = reason;
        }

        _backend.Detach(this);
        _closing.Cancel();
        _prefetches.DropAll();
        _invocations.Writer.TryComplete();
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

    internal void OnDoorbell()
    {
        Interlocked.Exchange(ref _doorbell, NewSignal()).TrySetResult();
        Interlocked.Exchange(ref _ringSpace, NewSignal()).TrySetResult();
    }

    /// <summary>Posts a completion and rings the sandbox, waiting (bounded) for ring space.</summary>
    internal async Task PostAsync(ChannelRecord record, CancellationToken cancellationToken)
    {
        while (true)
        {
            var space = Volatile.Read(ref _ringSpace).Task;
            bool posted;
            try
            {
                posted = Channel.TryPostCompletion(record);
            }
            catch (ChannelProtocolException e)
            {
                Close(e.Message);
                throw new InstanceClosedException(e.Message, e);
            }
            catch (ObjectDisposedException e)
            {
                Close("channel disposed");
                throw new InstanceClosedException("channel disposed", e);
            }

            if (posted)
            {
                Channel.SignalSandbox();
                return;
            }

            await WaitOnSandboxAsync(ct => space.WaitAsync(ct), "completion-ring space", cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Waits for the sandbox to do something, at most the stall timeout; a stalled sandbox loses its channel.</summary>
    internal async Task<T> WaitOnSandboxAsync<T>(Func<CancellationToken, Task<T>> wait, string what, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closing.Token);
        cts.CancelAfter(StallTimeout);
        try
        {
            return await wait(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            if (!_closing.IsCancellationRequested)
            {
                Close($"sandbox stalled: waited {StallTimeout.TotalSeconds:0.#} s for {what}");
            }

            throw new InstanceClosedException($"instance channel closed: {_closeReason}");
        }
    }

    internal Task WaitOnSandboxAsync(Func<CancellationToken, Task> wait, string what, CancellationToken cancellationToken) =>
        WaitOnSandboxAsync(
            async ct =>
            {
                await wait(ct).ConfigureAwait(false);
                return true;
            },
            what,
            cancellationToken);

    /// <summary>
    /// Sends a response message (JSON header, then a body from bytes or a stream of known length) through response
    /// slots, one chunk per slot, waiting for the sandbox to return slots when all are lent.
    /// </summary>
    internal async Task SendAsync(InboundRequest request, int status, ReadOnlyMemory<byte> header, ReadOnlyMemory<byte> bodyBytes, Stream? bodyStream, long bodyLength, CancellationToken cancellationToken)
    {
        // Chunks still arriving for this request are dropped from now on: the first completion frees its extents.
        _inbound.TryRemove(request.Id, out _);
        var total = header.Length + bodyLength;
        if (total == 0)
        {
            await PostAsync(NewCompletion(request, status, ChannelRecord.NoSlot, 0, 0, 0, header.Length, bodyLength, more: false), cancellationToken).ConfigureAwait(false);
            return;
        }

        var layout = Channel.Layout;
        long sent = 0;
        uint chunk = 0;
        while (sent < total)
        {
            var slot = await WaitOnSandboxAsync(ct => _slots.RentAsync(ct).AsTask(), "a free response slot", cancellationToken).ConfigureAwait(false);
            int pos;
            try
            {
                var memory = Channel.SlotMemory(slot);
                pos = 0;
                var want = (int)Math.Min(layout.SlotSize, total - sent);
                if (sent < header.Length)
                {
                    var h = (int)Math.Min(want, header.Length - sent);
                    header.Span.Slice((int)sent, h).CopyTo(memory.Span);
                    pos = h;
                }

                while (pos < want)
                {
                    var bodyAt = sent + pos - header.Length;
                    int n;
                    if (bodyStream is null)
                    {
                        n = want - pos;
                        bodyBytes.Span.Slice((int)bodyAt, n).CopyTo(memory.Span[pos..]);
                    }
                    else
                    {
                        // Zero-copy data plane: the store's response bytes land directly in the shared slot.
                        n = await bodyStream.ReadAsync(memory[pos..want], cancellationToken).ConfigureAwait(false);
                        if (n == 0)
                        {
                            throw new IOException($"the store's response ended after {bodyAt} of {bodyLength} bytes");
                        }
                    }

                    pos += n;
                }
            }
            catch
            {
                _slots.Return(slot);
                if (chunk > 0)
                {
                    // The sandbox already has the first chunk: tell it the rest will not come.
                    var abort = NewCompletion(request, -1, ChannelRecord.NoSlot, 0, 0, chunk, 0, 0, more: false);
                    abort.Op = ChannelOp.Data;
                    await PostAsync(abort, CancellationToken.None).ConfigureAwait(false);
                }

                throw;
            }

            sent += pos;
            var record = NewCompletion(request, status, (uint)slot, (ulong)layout.SlotOffset(slot), (uint)pos, chunk, header.Length, bodyLength, more: sent < total);
            if (chunk > 0)
            {
                record.Op = ChannelOp.Data;
                record.Status = 0;
                record.HeaderLength = 0;
                record.TotalLength = 0;
            }

            await PostAsync(record, cancellationToken).ConfigureAwait(false);
            Interlocked.Add(ref Stats._bytesToSandbox, pos);
            chunk++;
        }
    }

    /// <summary>
    /// Answers a GetObject from an object prefetched for this instance, when one matches the request (bucket, key,
    /// no range or conditions it cannot honour) and is still current; returns false when the store must be asked.
    /// </summary>
    internal Task<bool> TryServePrefetchedAsync(InboundRequest request, string bucket, string key, JsonElement parameters, CancellationToken cancellationToken) =>
        _prefetches.TryServeAsync(request, bucket, key, Json.OptionalString(parameters, "IfMatch") is not null || Json.OptionalString(parameters, "IfNoneMatch") is not null, cancellationToken);

    internal void MarkPrefetchStale(string bucket, string key) => _prefetches.MarkStale(bucket, key);

    internal int[]? TryRentSlots(int count) => _slots.TryRentMany(count);

    internal void ReturnSlots(IEnumerable<int> slots)
    {
        foreach (var slot in slots)
        {
            _slots.Return(slot);
        }
    }

    /// <summary>Sends a response whose chunks already sit in rented slots (a prefetch): each slot is lent as it is posted.</summary>
    internal async Task SendPrefilledAsync(InboundRequest request, int status, int headerLength, long bodyLength, IReadOnlyList<(int Slot, int Length)> chunks, CancellationToken cancellationToken)
    {
        _inbound.TryRemove(request.Id, out _);
        var layout = Channel.Layout;
        for (var i = 0; i < chunks.Count; i++)
        {
            var (slot, length) = chunks[i];
            var record = NewCompletion(request, status, (uint)slot, (ulong)layout.SlotOffset(slot), (uint)length, (uint)i, headerLength, bodyLength, more: i < chunks.Count - 1);
            if (i > 0)
            {
                record.Op = ChannelOp.Data;
                record.Status = 0;
                record.HeaderLength = 0;
                record.TotalLength = 0;
            }

            await PostAsync(record, cancellationToken).ConfigureAwait(false);
            Interlocked.Add(ref Stats._bytesToSandbox, length);
        }
    }

    internal Task SendJsonAsync(InboundRequest request, int status, Action<Utf8JsonWriter> write, CancellationToken cancellationToken) =>
        SendAsync(request, status, Json.Write(write), default, null, 0, cancellationToken);

    internal Task SendErrorAsync(InboundRequest request, int status, string code, string message, CancellationToken cancellationToken) =>
        SendJsonAsync(request, status, w => Json.WriteError(w, code, message), cancellationToken);

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static ChannelRecord NewCompletion(InboundRequest request, int status, uint slot, ulong offset, uint length, uint chunk, int headerLength, long bodyLength, bool more) => new()
    {
        RequestId = request.Id,
        Op = request.Op,
        Flags = more ? ChannelFlags.More : ChannelFlags.None,
        Status = status,
        Offset = offset,
        Length = length,
        HeaderLength = (uint)headerLength,
        TotalLength = (ulong)bodyLength,
        Slot = slot,
        Chunk = chunk,
    };

    private async Task PumpAsync()
    {
        var records = new ChannelRecord[64];
        try
        {
            while (!_closing.IsCancellationRequested)
            {
                var wake = Volatile.Read(ref _doorbell).Task;
                int n;
                while ((n = Channel.DrainSubmissions(records)) > 0)
                {
                    for (var i = 0; i < n; i++)
                    {
                        Handle(records[i]);
                    }
                }

                await wake.WaitAsync(_closing.Token).ConfigureAwait(false);
            }
        }
        catch (ChannelProtocolException e)
        {
            Close(e.Message);
        }
        catch (ObjectDisposedException)
        {
            Close("channel disposed");
        }
        catch (OperationCanceledException)
        {
            // Closed.
        }
    }

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
                        _inbound.TryRemove(record.RequestId, out _);
                        inbound.Fail(RequestException.Invalid($"chunk {record.Chunk} of request {record.RequestId} is out of sequence, empty, outside the request area or beyond the queue limit"));
                    }
                }

                // A chunk for a request that has already been answered is a benign race: it is dropped.
                return;
            default:
                Start(record);
                return;
        }
    }

    private void Start(in ChannelRecord record)
    {
        Interlocked.Increment(ref Stats._requests);
        if (Interlocked.Increment(ref _outstanding) > _backend.Options.MaxOutstandingPerInstance)
        {
            throw new ChannelProtocolException($"the sandbox has more than {_backend.Options.MaxOutstandingPerInstance} requests outstanding");
        }

        var request = new InboundRequest(this, record, Channel.Layout.RingEntries);
        var problem = Validate(record);
        if (problem is null && !_inbound.TryAdd(record.RequestId, request))
        {
            problem = RequestException.Invalid($"request id {record.RequestId} is already in use");
        }

        Track(problem is null ? RunAsync(request) : RejectAsync(request, problem));
    }

    private RequestException? Validate(in ChannelRecord record)
    {
        var layout = Channel.Layout;
        if (!IsRequestOp(record.Op))
        {
            return new RequestException(400, "InvalidRequest", $"unknown operation code {(ushort)record.Op}");
        }

        if (record.HeaderLength > (uint)layout.MaxHeaderBytes)
        {
            return new RequestException(400, "RequestHeaderSectionTooLarge", $"request header is {record.HeaderLength} bytes; the limit is {layout.MaxHeaderBytes}");
        }

        if (record.TotalLength > 5UL << 30)
        {
            return new RequestException(400, "EntityTooLarge", $"request body of {record.TotalLength} bytes exceeds 5 GiB");
        }

        var stream = record.HeaderLength + record.TotalLength;
        var more = (record.Flags & ChannelFlags.More) != 0;
        if (record.Chunk != 0 || record.Length > stream || (!more && record.Length != stream) || (more && record.Length == 0))
        {
            return RequestException.Invalid($"first chunk of request {record.RequestId} has length {record.Length} for a {stream}-byte message");
        }

        if (record.Length > 0 && !layout.InRequestArea(record.Offset, record.Length))
        {
            return RequestException.Invalid($"request {record.RequestId} points at [{record.Offset}, +{record.Length}), outside the request area");
        }

        return null;
    }

    private static bool IsRequestOp(ChannelOp op) => op is >= ChannelOp.GetObject and <= ChannelOp.CopyObject
        or >= ChannelOp.NextInvocation and <= ChannelOp.InitError;

    private void Track(Task task)
    {
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

    private async Task RejectAsync(InboundRequest request, RequestException problem)
    {
        Interlocked.Increment(ref Stats._rejected);
        try
        {
            await SendErrorAsync(request, problem.Status, problem.Code, problem.Message, _closing.Token).ConfigureAwait(false);
        }
        catch (Exception) when (_closing.IsCancellationRequested)
        {
            // The channel closed meanwhile.
        }
        catch (InstanceClosedException)
        {
            // The channel closed meanwhile.
        }
    }

    private async Task RunAsync(InboundRequest request)
    {
        await Task.Yield();
        var ct = _closing.Token;
        try
        {
            if (request.Op is >= ChannelOp.GetObject and <= ChannelOp.CopyObject)
            {
                await _inFlight.WaitAsync(ct).ConfigureAwait(false);
                try
                {
                    await _backend.Workers.WaitAsync(ct).ConfigureAwait(false);
                    try
                    {
                        using var doc = await ReadHeaderJsonAsync(request, ct).ConfigureAwait(false);
                        await StorageOperations.ExecuteAsync(this, _backend, request, doc.RootElement, ct).ConfigureAwait(false);
                    }
                    finally
                    {
                        _backend.Workers.Release();
                    }
                }
                finally
                {
                    _inFlight.Release();
                }
            }
            else
            {
                using var doc = await ReadHeaderJsonAsync(request, ct).ConfigureAwait(false);
                await HandleInvocationOpAsync(request, doc.RootElement, ct).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (Unwrap(e) is RequestException problem)
        {
            Interlocked.Increment(ref Stats._rejected);
            await TrySendErrorAsync(request, problem.Status, problem.Code, problem.Message).ConfigureAwait(false);
        }
        catch (Exception) when (ct.IsCancellationRequested)
        {
            // The channel closed; the sandbox has been told.
        }
        catch (InstanceClosedException)
        {
            // The channel closed; the sandbox has been told.
        }
        catch (Exception e)
        {
            await TrySendErrorAsync(request, 500, "InternalError", $"{e.GetType().Name}: {e.Message}").ConfigureAwait(false);
        }
        finally
        {
            _inbound.TryRemove(request.Id, out _);
        }
    }

    // A bad chunk surfaces inside the SDK's upload (and the chunk queue's closing exception); find the cause.
    private static Exception Unwrap(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            if (x is RequestException)
            {
                return x;
            }
        }

        return e;
    }

    private async Task TrySendErrorAsync(InboundRequest request, int status, string code, string message)
    {
        try
        {
            await SendErrorAsync(request, status, code, message, _closing.Token).ConfigureAwait(false);
        }
        catch (Exception) when (_closing.IsCancellationRequested)
        {
            // Closed while reporting.
        }
        catch (InstanceClosedException)
        {
            // Closed while reporting.
        }
    }

    private async Task<JsonDocument> ReadHeaderJsonAsync(InboundRequest request, CancellationToken ct)
    {
        var header = await request.ReadHeaderAsync(ct).ConfigureAwait(false);
        Interlocked.Add(ref Stats._bytesFromSandbox, header.Length);
        try
        {
            return header.Length == 0
                ? JsonDocument.Parse("{}")
                : JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw RequestException.Invalid($"request header is not valid JSON: {e.Message}");
        }
    }

    private async Task<byte[]> ReadBodyAsync(InboundRequest request, CancellationToken ct)
    {
        if (request.BodyLength > (ulong)_backend.Options.MaxInvocationPayloadBytes)
        {
            throw new RequestException(413, "RequestEntityTooLarge", $"payload of {request.BodyLength} bytes exceeds the {_backend.Options.MaxInvocationPayloadBytes}-byte limit");
        }

        var body = new byte[request.BodyLength];
        var done = 0;
        while (done < body.Length)
        {
            var n = await request.ReadAsync(body.AsMemory(done), ct).ConfigureAwait(false);
            if (n == 0)
            {
                throw RequestException.Invalid("request body ended early");
            }

            done += n;
        }

        Interlocked.Add(ref Stats._bytesFromSandbox, body.Length);
        return body;
    }

    private async Task HandleInvocationOpAsync(InboundRequest request, JsonElement header, CancellationToken ct)
    {
        if (header.ValueKind != JsonValueKind.Object)
        {
            throw RequestException.Invalid("request header must be a JSON object");
        }

        switch (request.Op)
        {
            case ChannelOp.NextInvocation:
                {
                    PendingInvocation next;
                    do
                    {
                        next = await _invocations.Reader.ReadAsync(ct).ConfigureAwait(false);
                    }
                    while (next.Result.Task.IsCompleted);

                    var arn = $"arn:aws:lambda:{_backend.Options.Region}:000000000000:function:{Manifest.Name}";
                    var meta = Json.Write(w =>
                    {
                        w.WriteStartObject();
                        w.WriteString("RequestId", next.RequestId);
                        w.WriteNumber("DeadlineMs", next.Deadline.ToUnixTimeMilliseconds());
                        w.WriteString("FunctionArn", arn);
                        w.WriteEndObject();
                    });
                    await SendAsync(request, 200, meta, next.Event, null, next.Event.Length, ct).ConfigureAwait(false);
                    return;
                }

            case ChannelOp.InvocationResponse:
            case ChannelOp.InvocationError:
                {
                    var id = Json.RequiredString(header, "RequestId");
                    if (!_awaiting.TryGetValue(id, out var pending))
                    {
                        throw new RequestException(400, "InvalidRequestID", $"no invocation {id} is waiting for a result");
                    }

                    byte[] body;
                    try
                    {
                        body = await ReadBodyAsync(request, ct).ConfigureAwait(false);
                    }
                    catch (RequestException e) when (e.Status == 413)
                    {
                        var error = Json.Write(w =>
                        {
                            w.WriteStartObject();
                            w.WriteString("errorMessage", $"Response payload size ({request.BodyLength} bytes) exceeded maximum allowed payload size ({_backend.Options.MaxInvocationPayloadBytes} bytes).");
                            w.WriteString("errorType", "Function.ResponseSizeTooLarge");
                            w.WriteEndObject();
                        });
                        pending.Result.TrySetResult(new InvocationResult(InvocationStatus.FunctionError, error, "Function.ResponseSizeTooLarge"));
                        throw;
                    }

                    var result = request.Op == ChannelOp.InvocationResponse
                        ? new InvocationResult(InvocationStatus.Success, body, null)
                        : new InvocationResult(InvocationStatus.FunctionError, body, Json.ErrorType(body) ?? "Unhandled");
                    pending.Result.TrySetResult(result);
                    await SendJsonAsync(request, 202, EmptyObject, ct).ConfigureAwait(false);
                    return;
                }

            default:
                {
                    var body = await ReadBodyAsync(request, ct).ConfigureAwait(false);
                    var result = new InvocationResult(InvocationStatus.InitError, body, Json.ErrorType(body) ?? "Runtime.InitError");
                    Volatile.Write(ref _initError, result);
                    foreach (var pending in _awaiting.Values)
                    {
                        pending.Result.TrySetResult(result);
                    }

                    await SendJsonAsync(request, 202, EmptyObject, ct).ConfigureAwait(false);
                    return;
                }
        }
    }

    private static void EmptyObject(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteEndObject();
    }

    private sealed class PendingInvocation(string requestId, byte[] eventJson, DateTimeOffset deadline)
    {
        public string RequestId { get; } = requestId;

        public byte[] Event { get; } = eventJson;

        public DateTimeOffset Deadline { get; } = deadline;

        public TaskCompletionSource<InvocationResult> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
