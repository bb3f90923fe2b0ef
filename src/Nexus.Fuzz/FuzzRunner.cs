// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;

namespace Nexus.Fuzz;

/// <summary>An input that crashed (or hung) a target, with what rebuilds it: the run seed and the input's index.</summary>
public sealed record FuzzCrash(string Target, ulong Seed, long Index, byte[] Input, string Error)
{
    /// <summary>The command that runs exactly this input again.</summary>
    public string Reproducer => $"nexus fuzz {Target} --seed {Seed} --input {Index}   (or --replay {Convert.ToHexString(Input)})";
}

/// <summary>What a fuzz run did: inputs run, how many the parser accepted, the crashes and a hang if one stopped it.</summary>
public sealed record FuzzResult(string Target, ulong Seed, long Inputs, long Accepted, TimeSpan Elapsed, IReadOnlyList<FuzzCrash> Crashes, FuzzCrash? Hang)
{
    public double InputsPerSecond => Inputs / Math.Max(Elapsed.TotalSeconds, 1e-9);
}

/// <summary>
/// Runs a target on mutated inputs for a while on one worker thread, watched by the calling thread: an input that
/// runs longer than the hang timeout ends the run and is reported with its reproducer. Crashes are reported as they
/// happen and the run goes on (targets reset their state per input).
/// </summary>
public static class FuzzRunner
{
    /// <summary>Crashes kept in the result; the rest are still reported through the callback and counted.</summary>
    public const int MaxKeptCrashes = 100;

    public static FuzzResult Run(IFuzzTarget target, ulong seed, TimeSpan duration, TimeSpan hangTimeout, Action<FuzzCrash>? onCrash = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        var crashes = new List<FuzzCrash>();
        var buffer = new byte[target.MaxInputLength];
        long done = 0, accepted = 0;
        var stop = 0;
        var clock = Stopwatch.StartNew();
        var worker = new Thread(() =>
        {
            for (long i = 0; Volatile.Read(ref stop) == 0; i++)
            {
                var length = Mutator.Build(target, seed, i, buffer);
                if (Execute(target, seed, i, buffer.AsSpan(0, length), out var outcome) is { } crash)
                {
                    onCrash?.Invoke(crash);
                    if (crashes.Count < MaxKeptCrashes)
                    {
                        lock (crashes)
                        {
                            crashes.Add(crash);
                        }
                    }
                }
                else if (outcome == FuzzOutcome.Accepted)
                {
                    accepted++;
                }

                Volatile.Write(ref done, i + 1);
            }
        })
        {
            IsBackground = true,
            Name = $"fuzz-{target.Name}",
        };
        worker.Start();

        FuzzCrash? hang = null;
        var lastDone = -1L;
        var lastProgress = clock.Elapsed;
        while (!worker.Join(TimeSpan.FromMilliseconds(50)))
        {
            var now = clock.Elapsed;
            var current = Volatile.Read(ref done);
            if (current != lastDone)
            {
                (lastDone, lastProgress) = (current, now);
            }
            else if (now - lastProgress > hangTimeout)
            {
                // The worker is stuck in input `current`; rebuild it (the worker's buffer may be mid-use).
                var stuck = new byte[target.MaxInputLength];
                var length = Mutator.Build(target, seed, current, stuck);
                hang = new FuzzCrash(target.Name, seed, current, stuck[..length], $"no result after {hangTimeout.TotalSeconds:0.#} s");
                Volatile.Write(ref stop, 1);
                break;
            }

            if (now >= duration)
            {
                Volatile.Write(ref stop, 1);
            }
        }

        var elapsed = clock.Elapsed;
        lock (crashes)
        {
            return new FuzzResult(target.Name, seed, Volatile.Read(ref done), Volatile.Read(ref accepted), elapsed, [.. crashes], hang);
        }
    }

    /// <summary>Runs input <paramref name="index"/> of run <paramref name="seed"/> alone (a reproducer).</summary>
    public static FuzzCrash? Replay(IFuzzTarget target, ulong seed, long index)
    {
        ArgumentNullException.ThrowIfNull(target);
        var buffer = new byte[target.MaxInputLength];
        var length = Mutator.Build(target, seed, index, buffer);
        return Execute(target, seed, index, buffer.AsSpan(0, length), out _);
    }

    /// <summary>Runs given bytes alone (a reproducer from a crash's hex).</summary>
    public static FuzzCrash? Replay(IFuzzTarget target, byte[] input)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(input);
        return Execute(target, 0, -1, input, out _);
    }

    private static FuzzCrash? Execute(IFuzzTarget target, ulong seed, long index, ReadOnlySpan<byte> input, out FuzzOutcome outcome)
    {
        outcome = FuzzOutcome.Rejected;
        try
        {
            outcome = target.Execute(input);
            return null;
        }
        catch (Exception e)
        {
            return new FuzzCrash(target.Name, seed, index, input.ToArray(), e.ToString());
        }
    }
}
