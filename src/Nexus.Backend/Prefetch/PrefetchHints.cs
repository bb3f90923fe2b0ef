// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Functions;

namespace Nexus.Backend.Prefetch;

/// <summary>
/// The inputs one invocation's event names, being found: started at the node's invoke entry, before the pool is asked
/// for an instance (the event's one parse on the host). A small event (a trigger's record) is searched right there on
/// the invoking thread; a larger one on a thread-pool thread while the invoking thread goes on to acquire an instance
/// and hand the event over. The instance's prefetch starts its fetches as soon as both are known.
/// </summary>
public sealed class PrefetchHints
{
    /// <summary>
    /// Events up to this size are searched inline: their parse costs less than handing it to a thread-pool worker,
    /// which on two busy cores made a warm invocation ~245 us slower (InvokePathBenchmarks, docs/benchmarks.md): the
    /// woken worker competes for the cores with the invoking thread, the doorbell thread and the sandbox.
    /// </summary>
    public const int InlineSearchBytes = 8 * 1024;

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
        var found = manifest.Io != IoMode.Nexus || !manifest.Prefetch || invocationEvent.Length is 0 or > InputHints.MaxEventBytes
            ? s_none
            : invocationEvent.Length <= InlineSearchBytes
                ? Task.FromResult(InputHints.Extract(manifest, invocationEvent))
                : Task.Run(() => InputHints.Extract(manifest, invocationEvent));
        return new PrefetchHints(invocationEvent, found);
    }
}
