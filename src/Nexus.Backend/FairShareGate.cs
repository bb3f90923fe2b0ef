// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Backend;

/// <summary>
/// The backend's budgets of storage requests running at once, global and per function, with the global one handed out
/// fairly between functions by the backend CPU time each has used. A request holds one permit while it is served, and
/// the CPU time its flow used meanwhile (<see cref="CpuMeter"/>, once the permit is <see cref="RequestPermit.Measured"/>) is
/// charged to its function (decaying with <c>halfLife</c>, so only recent use counts). A function holds at most
/// <c>perFunction</c> permits. While permits are free nobody waits; once they are all held, a freed permit goes to the
/// oldest waiting request of the function that used least, among functions below their own cap, so a function that
/// burns the backend's CPU waits behind every function that used less, and one that only waits (a slow store, a
/// sandbox slow to take its bytes) is not counted for the time it holds a permit idle. The CPU time is the backend's
/// own threads' (the SDK, signing, hashing, copies into the channel); the store's work on its own threads is not in it.
/// </summary>
internal sealed class FairShareGate
{
    private readonly int _permits;
    private readonly int _perFunction;
    private readonly double _halfLifeTicks;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Tenant> _tenants = new(StringComparer.Ordinal);
    private int _inUse;
    private int _waiting;

    public FairShareGate(int permits, int perFunction, TimeSpan halfLife, TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(permits, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(perFunction, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(halfLife, TimeSpan.Zero);
        _permits = permits;
        _perFunction = perFunction;
        _time = time ?? TimeProvider.System;
        _halfLifeTicks = halfLife.TotalSeconds * _time.TimestampFrequency;
    }

    /// <summary>Permits held now.</summary>
    public int InUse
    {
        get
        {
            lock (_lock)
            {
                return _inUse;
            }
        }
    }

    /// <summary>Requests waiting for a permit now.</summary>
    public int Waiting
    {
        get
        {
            lock (_lock)
            {
                return _waiting;
            }
        }
    }

    /// <summary>Backend CPU time <paramref name="function"/> has used, decayed to now, in seconds.</summary>
    public double UsedSeconds(string function)
    {
        lock (_lock)
        {
            return _tenants.TryGetValue(function, out var tenant) ? tenant.UsedAt(_time.GetTimestamp(), _halfLifeTicks) / _time.TimestampFrequency : 0;
        }
    }

    /// <summary>Waits for a permit for one request of <paramref name="function"/>; dispose it when the request is done.</summary>
    public async ValueTask<RequestPermit> EnterAsync(string function, CancellationToken cancellationToken) =>
        new(this, await EnterTenantAsync(function, cancellationToken).ConfigureAwait(false), function);

    /// <summary>Waits for a permit of <paramref name="function"/>'s and returns its account, which <see cref="Exit"/> takes back.</summary>
    internal async ValueTask<Tenant> EnterTenantAsync(string function, CancellationToken cancellationToken)
    {
        Waiter waiter;
        lock (_lock)
        {
            var tenant = TenantLocked(function);
            // A free permit never has an eligible waiter (every release dispatches), so only this function's own
            // queue can be ahead of this request.
            if (_inUse < _permits && tenant.InUse < _perFunction && tenant.Queue.Count == 0)
            {
                _inUse++;
                tenant.InUse++;
                return tenant;
            }

            waiter = new Waiter(tenant);
            tenant.Queue.AddLast(waiter.Node);
            _waiting++;
        }

        using (cancellationToken.UnsafeRegister(static (state, token) => ((Waiter)state!).Result.TrySetCanceled(token), waiter))
        {
            try
            {
                await waiter.Result.Task.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                lock (_lock)
                {
                    if (waiter.Node.List is not null)
                    {
                        waiter.Tenant.Queue.Remove(waiter.Node);
                        _waiting--;
                        throw;
                    }
                }

                // Granted in the same instant as the cancellation: the permit is this request's, hand it on.
                Exit(waiter.Tenant, TimeSpan.Zero);
                throw;
            }
        }

        return waiter.Tenant;
    }

    /// <summary>Gives back a permit of <paramref name="tenant"/>'s, charging it <paramref name="cpu"/>.</summary>
    internal void Exit(Tenant tenant, TimeSpan cpu)
    {
        Waiter? next;
        lock (_lock)
        {
            var now = _time.GetTimestamp();
            tenant.Charge(cpu.TotalSeconds * _time.TimestampFrequency, now, _halfLifeTicks);
            _inUse--;
            tenant.InUse--;
            next = NextWaiterLocked(now);
            if (next is null)
            {
                return;
            }

            _inUse++;
            next.Tenant.InUse++;
        }

        // The permit passes to the waiter; one cancelled in between hands it on itself.
        next.Result.TrySetResult();
    }

    // The oldest waiter of the function that used the least backend CPU time, among functions below their cap.
    private Waiter? NextWaiterLocked(long now)
    {
        Tenant? least = null;
        var leastUsed = double.MaxValue;
        foreach (var tenant in _tenants.Values)
        {
            if (tenant.Queue.Count == 0 || tenant.InUse >= _perFunction)
            {
                continue;
            }

            var used = tenant.UsedAt(now, _halfLifeTicks);
            if (used < leastUsed)
            {
                (least, leastUsed) = (tenant, used);
            }
        }

        if (least is null)
        {
            return null;
        }

        var waiter = least.Queue.First!.Value;
        least.Queue.RemoveFirst();
        _waiting--;
        return waiter;
    }

    private Tenant TenantLocked(string function)
    {
        if (!_tenants.TryGetValue(function, out var tenant))
        {
            _tenants[function] = tenant = new Tenant(this);
        }

        return tenant;
    }

    /// <summary>
    /// One function's decayed backend CPU time and its waiting requests, oldest first; its leases' meters charge it the
    /// pieces of their flows that end after the lease (<see cref="ICpuLateCharge"/>).
    /// </summary>
    internal sealed class Tenant(FairShareGate gate) : ICpuLateCharge
    {
        private double _used;
        private long _at;

        public LinkedList<Waiter> Queue { get; } = new();

        /// <summary>Permits this function holds.</summary>
        public int InUse { get; set; }

        public double UsedAt(long now, double halfLifeTicks) => _used * Math.Pow(2, -(now - _at) / halfLifeTicks);

        public void Charge(double ticks, long now, double halfLifeTicks)
        {
            _used = UsedAt(now, halfLifeTicks) + ticks;
            _at = now;
        }

        public void ChargeLate(TimeSpan before, TimeSpan after)
        {
            lock (gate._lock)
            {
                Charge((after - before).TotalSeconds * gate._time.TimestampFrequency, gate._time.GetTimestamp(), gate._halfLifeTicks);
            }
        }
    }

    internal sealed class Waiter
    {
        public Waiter(Tenant tenant)
        {
            Tenant = tenant;
            Node = new LinkedListNode<Waiter>(this);
        }

        public Tenant Tenant { get; }

        public LinkedListNode<Waiter> Node { get; }

        public TaskCompletionSource Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
