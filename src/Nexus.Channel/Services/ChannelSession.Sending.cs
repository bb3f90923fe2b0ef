// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text.Json;

namespace Nexus.Channel.Services;

/// <summary>The session's answering side: completions, response messages cut into slots, and bounded waits on the sandbox.</summary>
public sealed partial class ChannelSession
{
    /// <summary>Posts a completion and rings the sandbox, waiting (bounded) for ring space.</summary>
    public Task PostAsync(ChannelRecord record, CancellationToken cancellationToken) => PostAsync(record, ring: true, cancellationToken);

    /// <summary>Rings the sandbox for what was posted without a ring (<see cref="SendUnrungAsync"/>).</summary>
    public void Ring() => Channel.SignalSandbox();

    private async Task PostAsync(ChannelRecord record, bool ring, CancellationToken cancellationToken)
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
                throw new ChannelClosedException(e.Message, e);
            }
            catch (ObjectDisposedException e)
            {
                Close("channel disposed");
                throw new ChannelClosedException("channel disposed", e);
            }

            if (posted)
            {
                if (ring)
                {
                    Channel.SignalSandbox();
                }

                return;
            }

            await WaitOnSandboxAsync(ct => WaitForCompletionSpaceAsync(space, ct), "completion-ring space", cancellationToken).ConfigureAwait(false);
        }
    }

    // The sandbox rings when it drains a full ring and sees the host's flag; its store of the head and load of the flag
    // have no fence between them (Python has none to give), so the head is also looked at again now and then.
    private async Task WaitForCompletionSpaceAsync(Task space, CancellationToken cancellationToken)
    {
        var recheck = TimeSpan.FromMilliseconds(1);
        while (true)
        {
            try
            {
                await space.WaitAsync(recheck, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (TimeoutException)
            {
                if (Channel.HasCompletionSpace)
                {
                    return;
                }

                recheck = TimeSpan.FromTicks(Math.Min(recheck.Ticks * 2, TimeSpan.FromMilliseconds(100).Ticks));
            }
        }
    }

    /// <summary>Waits for the sandbox to do something, at most the stall timeout; a stalled sandbox loses its channel.</summary>
    public async Task<T> WaitOnSandboxAsync<T>(Func<CancellationToken, Task<T>> wait, string what, CancellationToken cancellationToken)
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

            throw new ChannelClosedException($"instance channel closed: {_closeReason}");
        }
    }

    /// <inheritdoc cref="WaitOnSandboxAsync{T}"/>
    public Task WaitOnSandboxAsync(Func<CancellationToken, Task> wait, string what, CancellationToken cancellationToken) =>
        WaitOnSandboxAsync(
            async ct =>
            {
                await wait(ct).ConfigureAwait(false);
                return true;
            },
            what,
            cancellationToken);

    /// <summary>Sends a response message (JSON header, then body bytes) through response slots, one chunk per slot.</summary>
    public Task SendAsync(ChannelRequest request, int status, ReadOnlyMemory<byte> header, ReadOnlyMemory<byte> body, CancellationToken cancellationToken) =>
        SendAsync(request, status, header, body, null, body.Length, ringLast: true, cancellationToken);

    /// <summary>
    /// As <see cref="SendAsync(ChannelRequest, int, ReadOnlyMemory{byte}, ReadOnlyMemory{byte}, CancellationToken)"/>,
    /// but the last chunk is posted without a ring: the caller calls <see cref="Ring"/>. Lets it note that the message
    /// is out before the wake, which the kernel may serve by running the sandbox in the ringing thread's place.
    /// </summary>
    public Task SendUnrungAsync(ChannelRequest request, int status, ReadOnlyMemory<byte> header, ReadOnlyMemory<byte> body, CancellationToken cancellationToken) =>
        SendAsync(request, status, header, body, null, body.Length, ringLast: false, cancellationToken);

    /// <summary>
    /// Sends a response whose body is read from <paramref name="body"/> (<paramref name="bodyLength"/> bytes) straight
    /// into the slots: the stream's bytes land in shared memory without an intermediate buffer.
    /// </summary>
    public Task SendStreamAsync(ChannelRequest request, int status, ReadOnlyMemory<byte> header, Stream? body, long bodyLength, CancellationToken cancellationToken) =>
        SendAsync(request, status, header, default, body, body is null ? 0 : bodyLength, ringLast: true, cancellationToken);

    public Task SendJsonAsync(ChannelRequest request, int status, Action<Utf8JsonWriter> write, CancellationToken cancellationToken) =>
        SendAsync(request, status, ChannelJson.Write(write), default, cancellationToken);

    public Task SendErrorAsync(ChannelRequest request, ChannelRequestException error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(error);
        return SendJsonAsync(request, error.Status, w => ChannelJson.WriteError(w, error.Code, error.Message, error.Resource), cancellationToken);
    }

    /// <summary>Sends a response whose chunks already sit in rented slots (a prefetch): each slot is lent as it is posted.</summary>
    public async Task SendPrefilledAsync(ChannelRequest request, int status, int headerLength, long bodyLength, IReadOnlyList<(int Slot, int Length)> chunks, CancellationToken cancellationToken)
    {
        _inbound.TryRemove(KeyValuePair.Create(request.Id, request));
        for (var i = 0; i < chunks.Count; i++)
        {
            var (slot, length) = chunks[i];
            await PostChunkAsync(request, status, slot, length, (uint)i, headerLength, bodyLength, more: i < chunks.Count - 1, ring: true, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Takes <paramref name="count"/> free response slots at once, or none (null); never waits.</summary>
    public int[]? TryRentSlots(int count) => _slots.TryRentMany(count);

    public void ReturnSlots(IEnumerable<int> slots)
    {
        foreach (var slot in slots)
        {
            _slots.Return(slot);
        }
    }

    private async Task SendAsync(ChannelRequest request, int status, ReadOnlyMemory<byte> header, ReadOnlyMemory<byte> bodyBytes, Stream? bodyStream, long bodyLength, bool ringLast, CancellationToken cancellationToken)
    {
        // Chunks still arriving for this request are dropped from now on: the first completion frees its extents.
        _inbound.TryRemove(KeyValuePair.Create(request.Id, request));
        var total = header.Length + bodyLength;
        if (total == 0)
        {
            await PostAsync(NewCompletion(request, status, ChannelRecord.NoSlot, 0, 0, 0, header.Length, bodyLength, more: false), ringLast, cancellationToken).ConfigureAwait(false);
            return;
        }

        var layout = Channel.Layout;
        long sent = 0;
        uint chunk = 0;
        while (sent < total)
        {
            if (!_slots.TryRent(out var slot))
            {
                slot = await WaitOnSandboxAsync(ct => _slots.RentAsync(ct).AsTask(), "a free response slot", cancellationToken).ConfigureAwait(false);
            }

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
                        // Zero-copy data plane: the source's bytes land directly in the shared slot.
                        n = await bodyStream.ReadAsync(memory[pos..want], cancellationToken).ConfigureAwait(false);
                        if (n == 0)
                        {
                            throw new IOException($"the response body ended after {bodyAt} of {bodyLength} bytes");
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
            await PostChunkAsync(request, status, slot, pos, chunk, header.Length, bodyLength, more: sent < total, ring: ringLast || sent < total, cancellationToken).ConfigureAwait(false);
            chunk++;
        }
    }

    // Chunk 0 carries the op, status and message lengths; later chunks are Data records.
    private async Task PostChunkAsync(ChannelRequest request, int status, int slot, int length, uint chunk, int headerLength, long bodyLength, bool more, bool ring, CancellationToken cancellationToken)
    {
        var record = NewCompletion(request, status, (uint)slot, (ulong)Channel.Layout.SlotOffset(slot), (uint)length, chunk, headerLength, bodyLength, more);
        if (chunk > 0)
        {
            record.Op = ChannelOp.Data;
            record.Status = 0;
            record.HeaderLength = 0;
            record.TotalLength = 0;
        }

        await PostAsync(record, ring, cancellationToken).ConfigureAwait(false);
        Interlocked.Add(ref Stats._bytesToSandbox, length);
    }

    private static ChannelRecord NewCompletion(ChannelRequest request, int status, uint slot, ulong offset, uint length, uint chunk, int headerLength, long bodyLength, bool more) => new()
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
}
