// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;

namespace Nexus.Fuzz;

/// <summary>
/// Builds input i of a run from a seed input and a few random edits: bit flips, random bytes, boundary integers of
/// 1, 2, 4 and 8 bytes, the target's own interesting values, small arithmetic on a field, copied, inserted or
/// deleted ranges, truncation and splicing with another seed. Every choice comes from the input's
/// <see cref="FuzzRandom"/>, so the same (seed, index) always gives the same bytes.
/// </summary>
public static class Mutator
{
    private const int MaxEdits = 8;

    private static readonly ulong[] s_boundaries =
    [
        0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff,
        0x1_0000_0000, 0x7fff_ffff_ffff_ffff, 0x8000_0000_0000_0000, ulong.MaxValue, ulong.MaxValue - 1,
    ];

    /// <summary>Writes input <paramref name="index"/> of the run <paramref name="runSeed"/> into <paramref name="buffer"/>; returns its length.</summary>
    public static int Build(IFuzzTarget target, ulong runSeed, long index, byte[] buffer)
    {
        var random = FuzzRandom.ForInput(runSeed, index);
        var seeds = target.Seeds;
        var seed = seeds[random.Next(seeds.Count)];
        var length = Math.Min(seed.Length, buffer.Length);
        seed.AsSpan(0, length).CopyTo(buffer);
        var edits = 1 + random.Next(MaxEdits);
        for (var i = 0; i < edits; i++)
        {
            length = Edit(ref random, target, buffer, length);
        }

        return length;
    }

    private static int Edit(ref FuzzRandom random, IFuzzTarget target, byte[] buffer, int length)
    {
        if (length == 0)
        {
            buffer[0] = (byte)random.Next(256);
            return 1;
        }

        switch (random.Next(10))
        {
            case 0:
                buffer[random.Next(length)] ^= (byte)(1 << random.Next(8));
                return length;
            case 1:
                buffer[random.Next(length)] = (byte)random.Next(256);
                return length;
            case 2:
                WriteValue(ref random, buffer, length, s_boundaries[random.Next(s_boundaries.Length)]);
                return length;
            case 3:
                var interesting = target.InterestingValues;
                WriteValue(ref random, buffer, length, interesting.Count == 0 ? random.NextU64() : interesting[random.Next(interesting.Count)] + (ulong)(random.Next(5) - 2));
                return length;
            case 4:
                AddToField(ref random, buffer, length);
                return length;
            case 5:
                var from = random.Next(length);
                var to = random.Next(length);
                var count = random.Next(Math.Min(length - from, length - to) + 1);
                buffer.AsSpan(from, count).CopyTo(buffer.AsSpan(to));
                return length;
            case 6:
                return Insert(ref random, buffer, length);
            case 7:
                var at = random.Next(length);
                var cut = 1 + random.Next(Math.Min(64, length - at));
                buffer.AsSpan(at + cut, length - at - cut).CopyTo(buffer.AsSpan(at));
                return length - cut;
            case 8:
                return random.Next(length + 1);
            default:
                var other = target.Seeds[random.Next(target.Seeds.Count)];
                var start = random.Next(length);
                var take = Math.Min(other.Length - Math.Min(start, other.Length), buffer.Length - start);
                other.AsSpan(Math.Min(start, other.Length), take).CopyTo(buffer.AsSpan(start));
                return Math.Max(length, start + take);
        }
    }

    private static void WriteValue(ref FuzzRandom random, byte[] buffer, int length, ulong value)
    {
        var width = 1 << random.Next(4);
        if (width > length)
        {
            width = 1;
        }

        // Fields in these formats are naturally aligned; an aligned offset hits a whole field more often.
        var offset = random.Next(length - width + 1);
        if (random.Next(2) == 0)
        {
            offset -= offset % width;
        }

        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        bytes[..width].CopyTo(buffer.AsSpan(offset));
    }

    private static void AddToField(ref FuzzRandom random, byte[] buffer, int length)
    {
        var delta = (ulong)(long)(random.Next(65) - 32);
        if (length >= 8 && random.Next(2) == 0)
        {
            var offset = random.Next(length - 7) & ~7;
            var field = buffer.AsSpan(offset, 8);
            BinaryPrimitives.WriteUInt64LittleEndian(field, BinaryPrimitives.ReadUInt64LittleEndian(field) + delta);
        }
        else if (length >= 4)
        {
            var offset = random.Next(length - 3) & ~3;
            var field = buffer.AsSpan(offset, 4);
            BinaryPrimitives.WriteUInt32LittleEndian(field, BinaryPrimitives.ReadUInt32LittleEndian(field) + (uint)delta);
        }
        else
        {
            buffer[random.Next(length)] += (byte)delta;
        }
    }

    private static int Insert(ref FuzzRandom random, byte[] buffer, int length)
    {
        var room = buffer.Length - length;
        if (room == 0)
        {
            return length;
        }

        var at = random.Next(length + 1);
        var count = 1 + random.Next(Math.Min(64, room));
        buffer.AsSpan(at, length - at).CopyTo(buffer.AsSpan(at + count));
        var fill = (byte)(random.Next(2) == 0 ? 0 : random.Next(256));
        buffer.AsSpan(at, count).Fill(fill);
        return length + count;
    }
}
