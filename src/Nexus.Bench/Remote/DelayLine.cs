// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers;
using System.Collections.Concurrent;
using Nexus.Interop;

namespace Nexus.Bench.Remote;

/// <summary>
/// A link emulator in user space: two TAP devices, one in each network namespace, and every Ethernet frame read from
/// one written to the other a fixed delay later (FIFO, so frames are never reordered). This machine's kernel has no
/// netem qdisc (CONFIG_NET_SCH_NETEM is off), so delay cannot be added in the kernel; tbf, which it has, limits the
/// rate on the same devices. Per direction one thread reads and stamps, another sleeps to each frame's due time
/// (timer slack 1 us) and writes it. Runs in a process of its own, so its CPU is neither the node's nor the store's.
/// </summary>
public sealed class DelayLine
{
    /// <summary>Largest frame carried (the devices' MTU is set below it, 65000, so TCP sends few large segments).</summary>
    public const int MaxFrame = 65536 + 14;

    private readonly Tap _a;
    private readonly Tap _b;
    private readonly long _delayNs;
    private long _frames;
    private long _dropped;

    public DelayLine(Tap a, Tap b, TimeSpan oneWayDelay)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(oneWayDelay, TimeSpan.Zero);
        _a = a;
        _b = b;
        _delayNs = oneWayDelay.Ticks * 100;
    }

    /// <summary>Frames carried and frames the far device refused (its queue full or the device down).</summary>
    public (long Frames, long Dropped) Counts => (Interlocked.Read(ref _frames), Interlocked.Read(ref _dropped));

    /// <summary>Starts both directions on background threads; they run until the process ends.</summary>
    public void Start()
    {
        StartDirection(_a, _b);
        StartDirection(_b, _a);
    }

    private void StartDirection(Tap from, Tap to)
    {
        var queue = new ConcurrentQueue<(long Due, byte[] Frame, int Length)>();
        var ready = new SemaphoreSlim(0);
        new Thread(() => Read(from, queue, ready)) { IsBackground = true, Name = $"delay {from.Name}>{to.Name} read" }.Start();
        new Thread(() => Write(to, queue, ready)) { IsBackground = true, Name = $"delay {from.Name}>{to.Name} write" }.Start();
    }

    private void Read(Tap from, ConcurrentQueue<(long, byte[], int)> queue, SemaphoreSlim ready)
    {
        using var poller = new FdPoller();
        poller.Add(from.Handle, 1);
        Span<ulong> tokens = stackalloc ulong[1];
        while (true)
        {
            poller.Wait(tokens, -1);
            while (true)
            {
                var frame = ArrayPool<byte>.Shared.Rent(MaxFrame);
                var length = from.Read(frame);
                if (length == 0)
                {
                    ArrayPool<byte>.Shared.Return(frame);
                    break;
                }

                queue.Enqueue((PreciseClock.NowNs() + _delayNs, frame, length));
                ready.Release();
            }
        }
    }

    private void Write(Tap to, ConcurrentQueue<(long Due, byte[] Frame, int Length)> queue, SemaphoreSlim ready)
    {
        PreciseClock.SetThreadTimerSlack(TimeSpan.FromMicroseconds(1));
        while (true)
        {
            ready.Wait();
            if (!queue.TryDequeue(out var item))
            {
                continue;
            }

            PreciseClock.SleepUntil(item.Due);
            if (to.Write(item.Frame.AsSpan(0, item.Length)))
            {
                Interlocked.Increment(ref _frames);
            }
            else
            {
                Interlocked.Increment(ref _dropped);
            }

            ArrayPool<byte>.Shared.Return(item.Frame);
        }
    }
}
