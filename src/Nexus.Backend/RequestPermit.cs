// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Backend;

/// <summary>
/// One request's permit of the backend's request budgets (<see cref="FairShareGate"/>): disposing it charges the CPU time
/// measured to the function and passes the permit on. Owned by the one flow that serves the request.
/// </summary>
public sealed class RequestPermit : IDisposable
{
    private readonly FairShareGate _gate;
    private readonly FairShareGate.Tenant _tenant;
    private readonly string _function;
    private CpuMeter? _meter;
    private bool _held = true;

    internal RequestPermit(FairShareGate gate, FairShareGate.Tenant tenant, string function) =>
        (_gate, _tenant, _function) = (gate, tenant, function);

    /// <summary>
    /// The permit, charging from now the CPU time of the calling flow: call it in the flow that serves the request (the
    /// <c>using</c> that holds the permit), not in an async method that returns before the work is done, whose changes
    /// to the flow's context are undone when it returns.
    /// </summary>
    public RequestPermit Measured()
    {
        _meter = CpuMeter.Start(_tenant);
        return this;
    }

    /// <summary>
    /// Gives the permit back while <paramref name="wait"/> runs, then waits for one again (as any request of the
    /// function does) before returning its result: for a call whose answer waits on other requests of the backend (a
    /// synchronous Lambda invoke waits for its callee, whose storage calls need permits), so that callers waiting cannot
    /// hold every permit their callees need. A result that is not returned (the second wait was cancelled) is disposed.
    /// </summary>
    public async Task<T> ReleasedWhileAsync<T>(Func<CancellationToken, Task<T>> wait, CancellationToken cancellationToken)
        where T : IDisposable
    {
        ArgumentNullException.ThrowIfNull(wait);
        ObjectDisposedException.ThrowIf(!_held, this);
        _held = false;
        _gate.Exit(_tenant, TimeSpan.Zero);
        var result = await wait(cancellationToken).ConfigureAwait(false);
        try
        {
            await _gate.EnterTenantAsync(_function, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            result.Dispose();
            throw;
        }

        _held = true;
        return result;
    }

    public void Dispose()
    {
        // Once only, and not while given back: the meter's total goes to the function either way.
        var cpu = _meter?.Stop() ?? TimeSpan.Zero;
        _meter = null;
        if (_held)
        {
            _held = false;
            _gate.Exit(_tenant, cpu);
        }
        else if (cpu > TimeSpan.Zero)
        {
            _tenant.ChargeLate(TimeSpan.Zero, cpu);
        }
    }
}
