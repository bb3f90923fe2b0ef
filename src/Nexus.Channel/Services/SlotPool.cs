// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Channel.Services;

/// <summary>
/// The host-owned response slots of one channel. The allocator state lives only here, in private memory: the sandbox
/// can only ask for a slot back (Release), which is honoured only when that slot is currently lent to it.
/// </summary>
public sealed class SlotPool
{
    private readonly object _lock = new();
    private readonly Stack<int> _free = new();
    private readonly bool[] _lent;
    private readonly bool[] _written;
    private readonly Queue<TaskCompletionSource<int>> _waiters = new();

    public SlotPool(int count)
    {
        _lent = new bool[count];
        _written = new bool[count];
        for (var i = count - 1; i >= 0; i--)
        {
            _free.Push(i);
        }
    }

    /// <summary>Takes a free slot if one is free now (no allocation, no wait).</summary>
    public bool TryRent(out int slot)
    {
        lock (_lock)
        {
            if (_free.TryPop(out slot))
            {
                _lent[slot] = true;
                return true;
            }

            return false;
        }
    }

    /// <summary>Takes a free slot, waiting (first come, first served) until the sandbox returns one.</summary>
    public async ValueTask<int> RentAsync(CancellationToken cancellationToken)
    {
        TaskCompletionSource<int> waiter;
        lock (_lock)
        {
            if (_free.TryPop(out var slot))
            {
                _lent[slot] = true;
                return slot;
            }

            waiter = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Enqueue(waiter);
        }

        try
        {
            return await waiter.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            lock (_lock)
            {
                // A slot handed over just as the wait was cancelled goes back to the pool.
                if (waiter.Task.IsCompletedSuccessfully)
                {
                    ReturnLocked(waiter.Task.Result);
                }
                else
                {
                    waiter.TrySetCanceled(cancellationToken);
                }
            }

            throw;
        }
    }

    public int FreeCount
    {
        get
        {
            lock (_lock)
            {
                return _free.Count;
            }
        }
    }

    /// <summary>Takes <paramref name="count"/> free slots at once, or none (null) when fewer are free; never waits.</summary>
    public int[]? TryRentMany(int count)
    {
        lock (_lock)
        {
            if (_free.Count < count)
            {
                return null;
            }

            var slots = new int[count];
            for (var i = 0; i < count; i++)
            {
                slots[i] = _free.Pop();
                _lent[slots[i]] = true;
            }

            return slots;
        }
    }

    /// <summary>The sandbox returns a slot; false when that slot is not lent to it (a protocol violation).</summary>
    public bool Return(int slot)
    {
        lock (_lock)
        {
            if ((uint)slot >= (uint)_lent.Length || !_lent[slot])
            {
                return false;
            }

            ReturnLocked(slot);
            return true;
        }
    }

    private void ReturnLocked(int slot)
    {
        while (_waiters.TryDequeue(out var waiter))
        {
            if (waiter.TrySetResult(slot))
            {
                return;
            }
        }

        _lent[slot] = false;
        _written[slot] = true;
        _free.Push(slot);
    }

    /// <summary>
    /// Calls <paramref name="release"/> for every free slot used since its last release, under the pool's lock, so no
    /// slot can be rented while its pages go; returns how many. A slot rented now and written later simply faults its
    /// pages in again.
    /// </summary>
    public int ReleaseFree(Action<int> release)
    {
        lock (_lock)
        {
            var released = 0;
            foreach (var slot in _free)
            {
                if (_written[slot])
                {
                    release(slot);
                    _written[slot] = false;
                    released++;
                }
            }

            return released;
        }
    }
}
