// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using Nexus.Node.Transports;

namespace Nexus.Bench;

/// <summary>
/// A warm invocation's wall time split at the stamps the pool, the transport and the sandbox took
/// (<see cref="InvocationTimeline"/>), in microseconds per stage. The stages chain from the caller's entry to its
/// resumption, so they add up to the wall time; a stage whose stamps a transport does not take (the sandbox's own,
/// in baseline mode) is left out of that invocation's sample. The last entry is outside the chain: the doorbell write
/// after the hand-over, which overlaps the sandbox's start.
/// </summary>
public sealed class NodeStages
{
    /// <summary>The stages in order: name, and whether the time is the node's (else the sandbox's).</summary>
    public static IReadOnlyList<(string Name, bool Node)> Names { get; } =
    [
        ("entry -> inputs searched", true),
        ("inputs searched -> instance acquired", true),
        ("acquired -> prefetch begun", true),
        ("prefetch begun -> transport called (START)", true),
        ("transport called -> event handed (header, slot, post)", true),
        ("event handed -> sandbox has it", false),
        ("sandbox: event -> result", false),
        ("result submitted -> node has it", false),
        ("node has result -> read and checked", true),
        ("checked -> pool resumes (continuations)", true),
        ("pool resumes -> REPORT queued", true),
        ("REPORT queued -> done (release, metrics)", true),
        ("pool done -> caller resumes", true),
        ("(event handed -> doorbell write returned: overlaps the sandbox)", false),
    ];

    private readonly List<double>[] _samples = [.. Names.Select(_ => new List<double>())];

    /// <summary>Adds one invocation, entered at <paramref name="entry"/> and resumed at <paramref name="resumed"/> (Stopwatch timestamps).</summary>
    public void Add(InvocationTimeline t, long entry, long resumed)
    {
        long[] at = [entry, t.HintsSearched, t.Acquired, t.PrefetchBegun, t.Invoking, t.Handed, t.PickedUp, t.Submitted, t.Arrived, t.Completed, t.Resumed, t.Reported, t.Finished, resumed];
        for (var stage = 0; stage < at.Length - 1; stage++)
        {
            // A stamp that is missing joins its stage to the next one; only stages with both ends known are counted.
            if (at[stage] != 0 && at[stage + 1] != 0)
            {
                _samples[stage].Add(Stopwatch.GetElapsedTime(at[stage], at[stage + 1]).TotalMicroseconds);
            }
        }

        if (t.Handed != 0 && t.Rung != 0)
        {
            _samples[^1].Add(Stopwatch.GetElapsedTime(t.Handed, t.Rung).TotalMicroseconds);
        }
    }

    public IReadOnlyList<(string Name, Percentiles Us)> Summarize() =>
        [.. Names.Select((n, i) => (n.Name, Percentiles.Of(_samples[i])))];
}
