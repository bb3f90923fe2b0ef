// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net;
using Nexus.Interop;

namespace Nexus.Backend.WriteBack;

/// <summary>
/// An upload's body sent from the spool segment's mapping (<see cref="JournalSegment.View"/>): the connection's write
/// reads the page cache directly, with no read into a buffer of ours first. The caller keeps the record's segment from
/// being recycled while this content is sent (it holds the record's body open); each send borrows the mapping.
/// </summary>
internal sealed class MappedBodyContent : HttpContent
{
    private readonly SafeMemoryMapping _view;
    private readonly long _offset;
    private readonly long _length;

    public MappedBodyContent(SafeMemoryMapping view, long offset, long length)
    {
        _view = view;
        _offset = offset;
        _length = length;
        Headers.ContentLength = length;
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        for (long at = 0; at < _length; at += int.MaxValue)
        {
            using var lent = _view.Lend(_offset + at, (int)Math.Min(int.MaxValue, _length - at));
            await stream.WriteAsync(lent.Memory, cancellationToken).ConfigureAwait(false);
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = _length;
        return true;
    }
}
