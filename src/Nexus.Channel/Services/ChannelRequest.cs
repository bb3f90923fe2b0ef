// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text.Json;
using System.Threading.Channels;

namespace Nexus.Channel.Services;

/// <summary>
/// One request message arriving from the sandbox: its JSON header (copied once into private memory) followed by its
/// body, read in place from the request area chunk by chunk. Chunk records are validated by the session's pump
/// before they are queued here; each fully read chunk that is not the last is acknowledged so the sandbox can reuse it.
/// A service reads the header once (<c>ReadHeaderAsync</c>), then the body, in order.
/// </summary>
public sealed class ChannelRequest
{
    private readonly ChannelSession _session;

    // The continuation chunks of a request sent in more than one; a request in one chunk (most) needs no queue.
    private readonly Channel<ChannelRecord>? _chunks;
    private readonly ChannelRecord _first;
    private bool _firstPending = true;
    private ChannelRecord _current;
    private uint _currentPos;
    private bool _haveCurrent;
    private bool _sawLast;
    private uint _nextChunk;
    private ulong _streamLeft;
    private bool _headerRead;

    internal ChannelRequest(ChannelSession session, in ChannelRecord first, int maxQueuedChunks)
    {
        _session = session;
        Id = first.RequestId;
        Op = first.Op;
        HeaderLength = first.HeaderLength;
        BodyLength = first.TotalLength;
        _streamLeft = first.HeaderLength + first.TotalLength;
        _first = first;
        _nextChunk = 1;
        _sawLast = (first.Flags & ChannelFlags.More) == 0;
        if (!_sawLast)
        {
            // With the first chunk, at most maxQueuedChunks are held unread.
            _chunks = System.Threading.Channels.Channel.CreateBounded<ChannelRecord>(new BoundedChannelOptions(Math.Max(1, maxQueuedChunks - 1))
            {
                SingleReader = true,
                SingleWriter = true,
                FullMode = BoundedChannelFullMode.Wait,
            });
        }
    }

    public ulong Id { get; }

    public ChannelOp Op { get; }

    public uint HeaderLength { get; }

    public ulong BodyLength { get; }

    /// <summary>The session this request arrived on (to answer it).</summary>
    public ChannelSession Session => _session;

    /// <summary>Queues a validated continuation chunk; false when it is out of sequence or too many are queued.</summary>
    internal bool TryAddChunk(in ChannelRecord record)
    {
        if (_sawLast || record.Chunk != _nextChunk)
        {
            return false;
        }

        _nextChunk++;
        _sawLast = (record.Flags & ChannelFlags.More) == 0;
        return _chunks!.Writer.TryWrite(record);
    }

    /// <summary>Copies the header into a private array (the single fetch of those bytes).</summary>
    public async ValueTask<byte[]> ReadHeaderAsync(CancellationToken cancellationToken)
    {
        var header = HeaderLength == 0 ? [] : new byte[HeaderLength];
        await ReadHeaderAsync(header, cancellationToken).ConfigureAwait(false);
        return header;
    }

    /// <summary>
    /// Copies the header into the start of <paramref name="destination"/>, private memory of at least
    /// <see cref="HeaderLength"/> bytes (the single fetch of those bytes; a pooled buffer spares the array).
    /// </summary>
    public async ValueTask ReadHeaderAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan((uint)destination.Length, HeaderLength, nameof(destination));
        _headerRead = true;
        var header = destination[..(int)HeaderLength];
        var done = 0;
        while (done < header.Length)
        {
            var n = await ReadAsync(header[done..], cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                throw ChannelRequestException.Invalid("request ended inside its header");
            }

            done += n;
        }

        _session.CountFromSandbox(header.Length);
    }

    /// <summary>The header parsed as a JSON object (an empty header is <c>{}</c>); anything else fails the request with 400.</summary>
    public async ValueTask<JsonDocument> ReadParametersAsync(CancellationToken cancellationToken)
    {
        var header = await ReadHeaderAsync(cancellationToken).ConfigureAwait(false);

        // The parser leaves a string's UTF-8 unchecked until a handler reads it, which then fails with a host exception.
        if (!System.Text.Unicode.Utf8.IsValid(header))
        {
            throw ChannelRequestException.Invalid("request header is not valid UTF-8");
        }

        JsonDocument doc;
        try
        {
            doc = header.Length == 0 ? JsonDocument.Parse("{}"u8.ToArray()) : JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw ChannelRequestException.Invalid($"request header is not valid JSON: {e.Message}");
        }

        if (doc.RootElement.ValueKind != JsonValueKind.Object)
        {
            doc.Dispose();
            throw ChannelRequestException.Invalid("request parameters must be a JSON object");
        }

        return doc;
    }

    /// <summary>Reads the next bytes of the message stream (header then body) out of the request area.</summary>
    public async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        if (_streamLeft == 0 || destination.IsEmpty)
        {
            return 0;
        }

        while (!_haveCurrent || _currentPos == _current.Length)
        {
            if (_haveCurrent)
            {
                await FinishCurrentAsync(cancellationToken).ConfigureAwait(false);
            }

            if (_firstPending)
            {
                _current = _first;
                _firstPending = false;
            }
            else if (_chunks is null)
            {
                // Unreachable for a validated request: a one-chunk request's chunk is its whole message.
                throw ChannelRequestException.Invalid("request ended before its stated length");
            }
            else if (!_chunks.Reader.TryRead(out _current))
            {
                var chunks = _chunks;
                _current = await _session.WaitOnSandboxAsync(
                    ct => chunks.Reader.ReadAsync(ct).AsTask(), "the next request chunk", cancellationToken).ConfigureAwait(false);
            }

            _currentPos = 0;
            _haveCurrent = true;
        }

        var take = (int)Math.Min(Math.Min((ulong)destination.Length, _current.Length - _currentPos), _streamLeft);
        _session.Channel.RequestBytes(_current.Offset + _currentPos, (uint)take).CopyTo(destination.Span);
        _currentPos += (uint)take;
        _streamLeft -= (ulong)take;
        if (_currentPos == _current.Length)
        {
            await FinishCurrentAsync(cancellationToken).ConfigureAwait(false);
        }

        return take;
    }

    /// <summary>
    /// Reads the whole body into a new array; a body over <paramref name="limit"/> bytes fails with 413 before
    /// anything is read.
    /// </summary>
    public async ValueTask<byte[]> ReadBodyAsync(int limit, CancellationToken cancellationToken)
    {
        if (BodyLength > (ulong)limit)
        {
            throw new ChannelRequestException(413, "RequestEntityTooLarge", $"body of {BodyLength} bytes exceeds the {limit}-byte limit");
        }

        if (!_headerRead)
        {
            await ReadHeaderAsync(cancellationToken).ConfigureAwait(false);
        }

        var body = new byte[BodyLength];
        var done = 0;
        while (done < body.Length)
        {
            var n = await ReadAsync(body.AsMemory(done), cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                throw ChannelRequestException.Invalid("request body ended early");
            }

            done += n;
        }

        _session.CountFromSandbox(body.Length);
        return body;
    }

    /// <summary>A stream over the body (after the header has been read), for the SDK to upload from.</summary>
    public Stream OpenBody(CancellationToken cancellationToken) => new BodyStream(this, cancellationToken);

    private async ValueTask FinishCurrentAsync(CancellationToken cancellationToken)
    {
        _haveCurrent = false;
        if ((_current.Flags & ChannelFlags.More) != 0)
        {
            var ack = new ChannelRecord
            {
                RequestId = Id,
                Op = ChannelOp.DataAck,
                Offset = _current.Offset,
                Chunk = _current.Chunk,
                Slot = ChannelRecord.NoSlot,
            };
            await _session.PostAsync(ack, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Fails the request's reader (a bad continuation chunk arrived).</summary>
    internal void Fail(ChannelRequestException error) => _chunks?.Writer.TryComplete(error);

    /// <summary>Forward-only, known-length stream reading the body straight out of the shared region.</summary>
    private sealed class BodyStream : ForwardOnlyStream
    {
        private readonly ChannelRequest _request;
        private readonly CancellationToken _cancellationToken;

        public BodyStream(ChannelRequest request, CancellationToken cancellationToken)
        {
            _request = request;
            _cancellationToken = cancellationToken;
        }

        public override long Length => (long)_request.BodyLength;

        public override int Read(byte[] buffer, int offset, int count) =>
            ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _cancellationToken);
            var n = await _request.ReadAsync(buffer, linked.Token).ConfigureAwait(false);
            Consumed += n;
            return n;
        }
    }
}
