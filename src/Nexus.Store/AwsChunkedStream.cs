// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Nexus.Store;

/// <summary>
/// Decodes an aws-chunked body (Content-Encoding: aws-chunked): "hex-size[;chunk-signature=sig]\r\n data \r\n" ...
/// "0[;chunk-signature=sig]\r\n" then optional trailer lines and an empty line. Signed variants have every
/// chunk signature (and the trailer signature) verified, chained from the request's seed signature; a bad one
/// throws SignatureDoesNotMatch, so a body is never committed unless every chunk verified.
/// </summary>
internal sealed class AwsChunkedStream : Stream
{
    private const int MaxLine = 4096;
    private const int MaxTrailerBytes = 16 * 1024;

    private readonly Stream _inner;
    private readonly SignatureCheck? _signature;
    private readonly bool _expectTrailer;
    private readonly long _maxChunk;
    private readonly IncrementalHash? _chunkHash;
    private readonly List<KeyValuePair<string, string>> _trailers = [];
    private byte[] _buffer;
    private int _start;
    private int _end;
    private State _state;
    private long _remaining;
    private string? _chunkSignature;
    private string _previousSignature;

    /// <param name="inner">The raw request body.</param>
    /// <param name="signature">The verified request signature when chunks are signed; null for unsigned chunks.</param>
    /// <param name="expectTrailer">Whether trailing headers follow the last chunk.</param>
    /// <param name="maxChunk">The largest chunk accepted (bounds a hostile size line).</param>
    public AwsChunkedStream(Stream inner, SignatureCheck? signature, bool expectTrailer, long maxChunk)
    {
        _inner = inner;
        _signature = signature;
        _expectTrailer = expectTrailer;
        _maxChunk = maxChunk;
        _previousSignature = signature?.Signature ?? string.Empty;
        _chunkHash = signature is null ? null : IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        _buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
    }

    private enum State
    {
        Header,
        Data,
        DataEnd,
        Trailer,
        FinalLine,
        Done,
    }

    /// <summary>Trailing headers (name lower-cased), available once the stream returned 0.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Trailers => _trailers;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            switch (_state)
            {
                case State.Header:
                    await ReadHeaderAsync(cancellationToken);
                    break;
                case State.Data:
                    if (destination.IsEmpty)
                    {
                        return 0;
                    }

                    if (_start == _end && !await FillAsync(cancellationToken))
                    {
                        throw S3Errors.IncompleteBody("the aws-chunked body ended inside a chunk.");
                    }

                    var n = (int)Math.Min(Math.Min(destination.Length, _remaining), _end - _start);
                    var chunk = _buffer.AsSpan(_start, n);
                    chunk.CopyTo(destination.Span);
                    _chunkHash?.AppendData(chunk);
                    _start += n;
                    _remaining -= n;
                    if (_remaining == 0)
                    {
                        _state = State.DataEnd;
                    }

                    return n;
                case State.DataEnd:
                    var crlf = await ReadLineAsync(cancellationToken);
                    if (crlf is null || crlf.Length != 0)
                    {
                        throw S3Errors.IncompleteBody("an aws-chunked chunk is not followed by CRLF.");
                    }

                    VerifyChunk();
                    _state = State.Header;
                    break;
                case State.Trailer:
                    await ReadTrailerAsync(cancellationToken);
                    _state = State.Done;
                    break;
                case State.FinalLine:
                    var last = await ReadLineAsync(cancellationToken);
                    if (last is { Length: > 0 })
                    {
                        throw S3Errors.IncompleteBody("unexpected data after the last aws-chunked chunk.");
                    }

                    _state = State.Done;
                    break;
                default:
                    return 0;
            }
        }
    }

    private async ValueTask ReadHeaderAsync(CancellationToken cancellationToken)
    {
        var line = await ReadLineAsync(cancellationToken) ?? throw S3Errors.IncompleteBody("the aws-chunked body ended before its last (zero-length) chunk.");
        var semicolon = line.IndexOf(';', StringComparison.Ordinal);
        var sizeText = semicolon < 0 ? line : line[..semicolon];
        if (sizeText.Length is 0 or > 16 || !long.TryParse(sizeText, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var size) || size < 0 || size > _maxChunk)
        {
            throw new S3Exception(400, "InvalidChunkSizeError", $"The aws-chunked chunk size line '{Truncate(line)}' is not a hex size up to {_maxChunk}.");
        }

        _chunkSignature = null;
        if (semicolon >= 0)
        {
            const string prefix = "chunk-signature=";
            var extension = line.AsSpan(semicolon + 1).Trim();
            if (extension.StartsWith(prefix))
            {
                _chunkSignature = extension[prefix.Length..].ToString();
            }
        }

        if (_signature is not null && _chunkSignature is null)
        {
            throw S3Errors.SignatureDoesNotMatch("An aws-chunked chunk has no chunk-signature in a signed streaming upload.");
        }

        if (size == 0)
        {
            VerifyChunk();
            _state = _expectTrailer ? State.Trailer : State.FinalLine;
        }
        else
        {
            _remaining = size;
            _state = State.Data;
        }
    }

    private void VerifyChunk()
    {
        if (_signature is null)
        {
            return;
        }

        var hash = Convert.ToHexStringLower(_chunkHash!.GetHashAndReset());
        var expected = SigV4.Sign(_signature.SigningKey, SigV4.ChunkStringToSign(_signature.AmzDate, _signature.Scope, _previousSignature, hash));
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(_chunkSignature ?? string.Empty)))
        {
            throw S3Errors.SignatureDoesNotMatch("An aws-chunked chunk signature does not verify.");
        }

        _previousSignature = expected;
    }

    private async ValueTask ReadTrailerAsync(CancellationToken cancellationToken)
    {
        string? trailerSignature = null;
        var canonical = new StringBuilder();
        var total = 0;
        while (true)
        {
            var line = await ReadLineAsync(cancellationToken);
            if (line is null || line.Length == 0)
            {
                break;
            }

            total += line.Length;
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || total > MaxTrailerBytes)
            {
                throw S3Errors.IncompleteBody($"the aws-chunked trailer line '{Truncate(line)}' is not 'name:value'.");
            }

            var name = line[..colon].Trim().ToLowerInvariant();
            var value = line[(colon + 1)..].Trim();
            if (name == "x-amz-trailer-signature")
            {
                trailerSignature = value;
            }
            else
            {
                _trailers.Add(new(name, value));
                canonical.Append(name).Append(':').Append(value).Append('\n');
            }
        }

        if (_signature is not null)
        {
            var expected = SigV4.Sign(_signature.SigningKey, SigV4.TrailerStringToSign(_signature.AmzDate, _signature.Scope, _previousSignature, SigV4.HexSha256(canonical.ToString())));
            if (trailerSignature is null || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(trailerSignature)))
            {
                throw S3Errors.SignatureDoesNotMatch("The aws-chunked trailer signature is missing or does not verify.");
            }
        }
    }

    /// <summary>Reads one CRLF- (or LF-) terminated line; null at a clean end of the body.</summary>
    private async ValueTask<string?> ReadLineAsync(CancellationToken cancellationToken)
    {
        var scanned = 0;
        while (true)
        {
            var span = _buffer.AsSpan(_start + scanned, _end - _start - scanned);
            var lf = span.IndexOf((byte)'\n');
            if (lf >= 0)
            {
                var length = scanned + lf;
                var text = Encoding.ASCII.GetString(_buffer, _start, length > 0 && _buffer[_start + length - 1] == '\r' ? length - 1 : length);
                _start += length + 1;
                return text;
            }

            scanned = _end - _start;
            if (scanned > MaxLine)
            {
                throw S3Errors.IncompleteBody($"an aws-chunked line is longer than {MaxLine} bytes.");
            }

            if (!await FillAsync(cancellationToken))
            {
                if (_end == _start)
                {
                    return null;
                }

                throw S3Errors.IncompleteBody("the aws-chunked body ended inside a line.");
            }
        }
    }

    private async ValueTask<bool> FillAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        var read = await _inner.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
        _end += read;
        return read > 0;
    }

    private static string Truncate(string line) => line.Length > 80 ? line[..80] + "..." : line;

    protected override void Dispose(bool disposing)
    {
        if (disposing && _buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
            _chunkHash?.Dispose();
        }

        base.Dispose(disposing);
    }
}
