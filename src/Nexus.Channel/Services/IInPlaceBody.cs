// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers;

namespace Nexus.Channel.Services;

/// <summary>
/// A request body that can hand its bytes over where they lie in the shared region, so that a consumer which makes its
/// own private copy anyway (the write-back spool's write to its file) spares the copy a stream read would make first.
/// </summary>
public interface IInPlaceBody
{
    /// <summary>
    /// Gives the next bytes of the body, at most <paramref name="max"/>, to <paramref name="consume"/> in place; returns
    /// how many (0 at the end). The sandbox can change them meanwhile: <paramref name="consume"/> reads each byte once.
    /// </summary>
    ValueTask<int> ReadInPlaceAsync<TState>(int max, TState state, ReadOnlySpanAction<byte, TState> consume, CancellationToken cancellationToken = default);
}
