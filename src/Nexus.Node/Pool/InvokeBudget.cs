// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Backend;

namespace Nexus.Node.Pool;

/// <summary>
/// Each function's budget of the node's own CPU on the invoke path (handing an invocation to a warm instance, taking
/// its result back, the REPORT, the prefetch it starts), billed as if that work ran in the function's sandbox: while
/// another function has invocations in flight or waiting, a function may use the invoke path at most at its CPU share
/// per busy instance (<see cref="InstancePool.CpuShare"/>), with a burst of one CFS period's worth. A function alone on
/// the node is never held back. A tenant whose invocations end at once (a fork bomb failing on its pids limit) and are
/// re-sent without pause thus pays for the node's work with its own share instead of taking the node's CPU from the
/// functions beside it. Cold starts are not billed here (the restart backoff and the instance caps bound them).
/// </summary>
internal sealed class InvokeBudget(TimeProvider time)
{
    /// <summary>The burst: this long at the function's rate (the sandbox quota's own period).</summary>
    private static readonly TimeSpan s_burst = TimeSpan.FromMilliseconds(100);

    /// <summary>Debt beyond this long at the function's rate is forgiven (one expensive invocation waits at most this).</summary>
    private static readonly TimeSpan s_maxDebt = TimeSpan.FromSeconds(1);

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Account> _accounts = new(StringComparer.Ordinal);
    private int _present;

    /// <summary>
    /// Waits until <paramref name="function"/> may run one invocation at <paramref name="rateCpus"/>; pair each with
    /// <see cref="Exit"/>. The invocation counts as present (holding back others in debt) from now. Returns how long it
    /// waited.
    /// </summary>
    public async Task<TimeSpan> EnterAsync(string function, double rateCpus, CancellationToken cancellationToken)
    {
        Account account;
        lock (_lock)
        {
            if (!_accounts.TryGetValue(function, out account!))
            {
                _accounts[function] = account = new Account { At = time.GetTimestamp(), Tokens = s_burst.TotalSeconds * rateCpus };
            }

            account.Present++;
            _present++;
        }

        var waited = TimeSpan.Zero;
        try
        {
            while (Wait(account, rateCpus) is var wait && wait > TimeSpan.Zero)
            {
                // Re-checked at least every burst period: the other functions may have left meanwhile.
                var started = time.GetTimestamp();
                await Task.Delay(wait < s_burst ? wait : s_burst, time, cancellationToken);
                waited += time.GetElapsedTime(started);
            }

            lock (_lock)
            {
                account.Waited += waited;
            }

            return waited;
        }
        catch (OperationCanceledException)
        {
            lock (_lock)
            {
                account.Present--;
                _present--;
            }

            throw;
        }
    }

    /// <summary>Charges one invocation's CPU time on the invoke path and ends its presence.</summary>
    public void Exit(string function, TimeSpan cpu)
    {
        lock (_lock)
        {
            var account = _accounts[function];
            account.Tokens -= cpu.TotalSeconds;
            account.Charged += cpu;
            account.Present--;
            _present--;
        }
    }

    /// <summary>
    /// Where one invocation's meter sends the pieces charged after <see cref="Exit"/>: to <paramref name="function"/>'s
    /// account (null before its first <see cref="EnterAsync"/>), as far as they take the invocation's total past
    /// <paramref name="leastCharge"/> (below it, Exit charged the least charge, which covers them).
    /// </summary>
    public ICpuLateCharge? LateCharges(string function, TimeSpan leastCharge)
    {
        lock (_lock)
        {
            return _accounts.TryGetValue(function, out var account) ? new LateCharge(_lock, account, leastCharge) : null;
        }
    }

    /// <summary>The invoke-path CPU time charged to <paramref name="function"/> and the time its invocations waited, since the node started.</summary>
    public (TimeSpan Charged, TimeSpan Waited) Totals(string function)
    {
        lock (_lock)
        {
            return _accounts.TryGetValue(function, out var account) ? (account.Charged, account.Waited) : default;
        }
    }

    // How long the invocation must still wait: zero when the function has credit or no other function is present.
    private TimeSpan Wait(Account account, double rateCpus)
    {
        lock (_lock)
        {
            var tokens = RefillLocked(account, rateCpus);
            return tokens >= 0 || _present == account.Present ? TimeSpan.Zero : TimeSpan.FromSeconds(-tokens / rateCpus);
        }
    }

    private double RefillLocked(Account account, double rateCpus)
    {
        var now = time.GetTimestamp();
        var earned = (double)(now - account.At) / time.TimestampFrequency * rateCpus;
        account.Tokens = Math.Clamp(account.Tokens + earned, -s_maxDebt.TotalSeconds * rateCpus, s_burst.TotalSeconds * rateCpus);
        account.At = now;
        return account.Tokens;
    }

    private sealed class LateCharge(Lock accountLock, Account account, TimeSpan leastCharge) : ICpuLateCharge
    {
        public void ChargeLate(TimeSpan before, TimeSpan after)
        {
            var extra = (after > leastCharge ? after : leastCharge) - (before > leastCharge ? before : leastCharge);
            if (extra <= TimeSpan.Zero)
            {
                return;
            }

            lock (accountLock)
            {
                account.Tokens -= extra.TotalSeconds;
                account.Charged += extra;
            }
        }
    }

    private sealed class Account
    {
        /// <summary>CPU-seconds of credit (negative: debt).</summary>
        public double Tokens { get; set; }

        public long At { get; set; }

        /// <summary>This function's invocations in flight or waiting here.</summary>
        public int Present { get; set; }

        public TimeSpan Charged { get; set; }

        public TimeSpan Waited { get; set; }
    }
}
