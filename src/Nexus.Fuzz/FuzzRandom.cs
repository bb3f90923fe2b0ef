// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Fuzz;

/// <summary>
/// SplitMix64: a tiny, fast generator whose whole state is one number, so input i of a run is rebuilt from
/// (run seed, i) alone and a crash is reproduced without replaying the inputs before it.
/// </summary>
public struct FuzzRandom
{
    private ulong _state;

    public FuzzRandom(ulong seed) => _state = seed;

    /// <summary>The generator of input <paramref name="index"/> of the run seeded with <paramref name="runSeed"/>.</summary>
    public static FuzzRandom ForInput(ulong runSeed, long index)
    {
        var mixed = new FuzzRandom(runSeed ^ ((ulong)index * 0x9E3779B97F4A7C15UL));
        return new FuzzRandom(mixed.NextU64());
    }

    public ulong NextU64()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A number in [0, <paramref name="bound"/>); <paramref name="bound"/> must be positive.</summary>
    public int Next(int bound) => (int)((NextU64() >> 33) % (ulong)bound);
}
