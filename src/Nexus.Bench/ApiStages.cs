// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using Nexus.Node.Transports;

namespace Nexus.Bench;

/// <summary>
/// A warm invocation through the node's Invoke API (HTTP on loopback, the client in the benchmark's process, one
/// clock) split at the client's and the API's stamps around the pool's own part, in microseconds per stage; and the
/// node's overhead as the client sees it (its wall time minus the sandbox's time).
/// </summary>
public sealed class ApiStages
{
    public static IReadOnlyList<string> Names { get; } =
    [
        "client sends -> API has the request",
        "API has it -> pool entered (body read, JSON check)",
        "pool entered -> pool done (the stages above)",
        "pool done -> API wrote the response",
        "API wrote it -> client has the response",
    ];

    private readonly List<double>[] _samples = [.. Names.Select(_ => new List<double>())];
    private readonly List<double> _overhead = [];

    /// <summary>Adds one invocation the client sent at <paramref name="sent"/> and had answered at <paramref name="received"/>.</summary>
    public void Add(InvocationTimeline t, long sent, long received)
    {
        long[] at = [sent, t.ApiEntered, t.Entered, t.Finished, t.ApiResponded, received];
        if (at.Any(stamp => stamp == 0))
        {
            return;
        }

        for (var stage = 0; stage < at.Length - 1; stage++)
        {
            _samples[stage].Add(Stopwatch.GetElapsedTime(at[stage], at[stage + 1]).TotalMicroseconds);
        }

        _overhead.Add((Stopwatch.GetElapsedTime(sent, received) - t.SandboxTime).TotalMicroseconds);
    }

    public IReadOnlyList<(string Name, Percentiles Us)> Summarize() =>
        [.. Names.Select((n, i) => (n, Percentiles.Of(_samples[i]))), ("node overhead seen by the client", Percentiles.Of(_overhead))];
}
