// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Functions;

namespace Nexus.Backend.Prefetch;

/// <summary>
/// The inputs one invocation's event names, being found: started at the node's invoke entry, before the pool is asked
/// for an instance, on a thread-pool thread (the event's one parse on the host), while the invoking thread goes on to
/// acquire an instance and hand the event over. The instance's prefetch starts its fetches as soon as both are known.
/// </summary>
public sealed class PrefetchHints
{
    private static readonly Task<(IReadOnlyList<(string Bucket, string Key)> Allowed, int Denied)> s_none =
        Task.FromResult<(IReadOnlyList<(string, string)>, int)>(([], 0));

    internal PrefetchHints(ReadOnlyMemory<byte> invocationEvent, Task<(IReadOnlyList<(string Bucket, string Key)> Allowed, int Denied)> found)
    {
        Event = invocationEvent;
        Found = found;
    }

    /// <summary>The invocation's event.</summary>
    public ReadOnlyMemory<byte> Event { get; }

    /// <summary>Completes once the event was searched (never faults: an event that is not JSON has no hints).</summary>
    public Task Searched => Found;

    internal Task<(IReadOnlyList<(string Bucket, string Key)> Allowed, int Denied)> Found { get; }

    /// <summary>
    /// Starts searching <paramref name="invocationEvent"/> for inputs of a nexus-mode function that prefetches; any other
    /// function (baseline: the sandbox does its own I/O) gets none without a parse.
    /// </summary>
    public static PrefetchHints Start(FunctionManifest manifest, ReadOnlyMemory<byte> invocationEvent)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var found = manifest.Io == IoMode.Nexus && manifest.Prefetch && invocationEvent.Length is > 0 and <= InputHints.MaxEventBytes
            ? Task.Run(() => InputHints.Extract(manifest, invocationEvent))
            : s_none;
        return new PrefetchHints(invocationEvent, found);
    }
}
