// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;

namespace Nexus.Channel.Services;

/// <summary>
/// Bounds what a doorbell storm costs the doorbell thread every session shares: each wake of a session whose ring
/// held nothing is counted, and past <c>maxEmptyWakes</c> within one window the session is not watched until the
/// window ends (its rings meanwhile add up in the eventfd's counter and cost one wake then). A sandbox that rings
/// only when it has submitted something never comes near the limit; one that rings in a loop gets at most
/// <c>maxEmptyWakes</c> wakes a window. Used by the doorbell thread only.
/// </summary>
internal sealed class DoorbellStormGuard(int maxEmptyWakes, TimeSpan window)
{
    private readonly long _windowTicks = Math.Max(1, (long)(window.TotalSeconds * Stopwatch.Frequency));
    private long _windowEnds;
    private int _emptyWakes;

    /// <summary>
    /// Counts a wake at <paramref name="now"/> (a <see cref="Stopwatch"/> timestamp); returns when the session may be
    /// watched again, or 0 when it stays watched.
    /// </summary>
    public long OnWake(bool empty, long now)
    {
        if (now >= _windowEnds)
        {
            _windowEnds = now + _windowTicks;
            _emptyWakes = 0;
        }

        return empty && ++_emptyWakes > maxEmptyWakes ? _windowEnds : 0;
    }
}
