// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nexus.Interop;

/// <summary>
/// A reflected CRC of up to 64 bits over its raw register (no initial value or final XOR: callers add theirs). Where the
/// CPU has carry-less multiplication (PCLMULQDQ), long inputs are folded 64 bytes at a time into a 128-bit remainder that
/// has the same CRC, and only that remainder and the tail go through the byte table: an order of magnitude faster than a
/// table, so checking an object's S3 checksum costs a small part of what its MD5 did. Where it also has the 512-bit form
/// (VPCLMULQDQ with AVX-512), four 128-bit lanes fold at once, 256 bytes a round: the check of a 10 MiB GET body, a tenth
/// of the node's CPU for such a call, costs about a third of that (docs/evaluation.md).
/// </summary>
internal sealed class ReflectedCrc
{
    private readonly ulong[] _table = new ulong[256];

    // Folding constants (x^(D+63) mod P, x^(D-1) mod P as 64-bit reflected values) for a distance D of 128 and 512 bits.
    private readonly Vector128<ulong> _fold1;
    private readonly Vector128<ulong> _fold4;

    // The same for 512 bits (one 512-bit block on: each lane by its 128-bit neighbour four lanes later) and 2048 bits (one
    // 256-byte round on), in every 128-bit lane of a 512-bit vector.
    private readonly Vector512<ulong> _wideFold1;
    private readonly Vector512<ulong> _wideFold4;

    /// <param name="width">Bits of the CRC (8 to 64).</param>
    /// <param name="polynomial">The generator without its x^width term, in normal (not reflected) bit order.</param>
    public ReflectedCrc(int width, ulong polynomial)
    {
        var reflected = ReverseBits(polynomial) >> (64 - width);
        for (ulong i = 0; i < 256; i++)
        {
            var c = i;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? reflected ^ (c >> 1) : c >> 1;
            }

            _table[i] = c;
        }

        _fold1 = Vector128.Create(Constant(width, polynomial, 128 + 63), Constant(width, polynomial, 128 - 1));
        _fold4 = Vector128.Create(Constant(width, polynomial, 512 + 63), Constant(width, polynomial, 512 - 1));
        _wideFold1 = Lanes(_fold4);
        _wideFold4 = Lanes(Vector128.Create(Constant(width, polynomial, 2048 + 63), Constant(width, polynomial, 2048 - 1)));
    }

    /// <summary>The register after <paramref name="data"/>, from <paramref name="register"/>.</summary>
    public ulong Update(ulong register, ReadOnlySpan<byte> data)
    {
        if (Pclmulqdq.V512.IsSupported && data.Length >= 512)
        {
            register = UpdateWide(register, ref data);
        }

        if (Pclmulqdq.IsSupported && data.Length >= 128)
        {
            // The register enters as the first bytes of the message XORed with it (a reflected CRC's register is the
            // pending remainder of the bytes to come), so the folded stream starts from zero.
            var x0 = Load(data) ^ Vector128.CreateScalar(register);
            var x1 = Load(data[16..]);
            var x2 = Load(data[32..]);
            var x3 = Load(data[48..]);
            data = data[64..];
            while (data.Length >= 64)
            {
                x0 = Fold(x0, _fold4) ^ Load(data);
                x1 = Fold(x1, _fold4) ^ Load(data[16..]);
                x2 = Fold(x2, _fold4) ^ Load(data[32..]);
                x3 = Fold(x3, _fold4) ^ Load(data[48..]);
                data = data[64..];
            }

            var x = Fold(Fold(Fold(x0, _fold1) ^ x1, _fold1) ^ x2, _fold1) ^ x3;
            while (data.Length >= 16)
            {
                x = Fold(x, _fold1) ^ Load(data);
                data = data[16..];
            }

            Span<byte> remainder = stackalloc byte[16];
            BinaryPrimitives.WriteUInt64LittleEndian(remainder, x.GetElement(0));
            BinaryPrimitives.WriteUInt64LittleEndian(remainder[8..], x.GetElement(1));
            register = Bytewise(0, remainder);
        }

        return Bytewise(register, data);
    }

    /// <summary>
    /// Folds whole 256-byte rounds in four 512-bit accumulators (each lane a 128-bit remainder, as in <see cref="Update"/>),
    /// then the 64-byte blocks left, and reduces the result to the register of what it consumed; leaves the rest in <paramref name="data"/>.
    /// </summary>
    private ulong UpdateWide(ulong register, ref ReadOnlySpan<byte> data)
    {
        var y0 = Load512(data) ^ Vector512.CreateScalar(register);
        var y1 = Load512(data[64..]);
        var y2 = Load512(data[128..]);
        var y3 = Load512(data[192..]);
        data = data[256..];
        while (data.Length >= 256)
        {
            y0 = Fold(y0, _wideFold4) ^ Load512(data);
            y1 = Fold(y1, _wideFold4) ^ Load512(data[64..]);
            y2 = Fold(y2, _wideFold4) ^ Load512(data[128..]);
            y3 = Fold(y3, _wideFold4) ^ Load512(data[192..]);
            data = data[256..];
        }

        var y = Fold(Fold(Fold(y0, _wideFold1) ^ y1, _wideFold1) ^ y2, _wideFold1) ^ y3;
        while (data.Length >= 64)
        {
            y = Fold(y, _wideFold1) ^ Load512(data);
            data = data[64..];
        }

        var x = Fold(Fold(Fold(y.GetLower().GetLower(), _fold1) ^ y.GetLower().GetUpper(), _fold1) ^ y.GetUpper().GetLower(), _fold1) ^ y.GetUpper().GetUpper();
        Span<byte> remainder = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(remainder, x.GetElement(0));
        BinaryPrimitives.WriteUInt64LittleEndian(remainder[8..], x.GetElement(1));
        return Bytewise(0, remainder);
    }

    /// <summary>The byte-at-a-time table: short inputs, the folded remainder, and CPUs without carry-less multiply.</summary>
    private ulong Bytewise(ulong register, ReadOnlySpan<byte> data)
    {
        var table = _table;
        foreach (var b in data)
        {
            register = table[(byte)(register ^ b)] ^ (register >> 8);
        }

        return register;
    }

    // Little-endian, as Load: each 128-bit lane holds 16 consecutive bytes with the first 8 in its low half.
    private static Vector512<ulong> Load512(ReadOnlySpan<byte> data) => Vector512.Create(data[..64]).AsUInt64();

    private static Vector512<ulong> Lanes(Vector128<ulong> lane) => Vector512.Create(Vector256.Create(lane, lane), Vector256.Create(lane, lane));

    private static Vector512<ulong> Fold(Vector512<ulong> block, Vector512<ulong> constants) =>
        Pclmulqdq.V512.CarrylessMultiply(block, constants, 0x00) ^ Pclmulqdq.V512.CarrylessMultiply(block, constants, 0x11);

    private static Vector128<ulong> Load(ReadOnlySpan<byte> data) => Vector128.Create(
        BinaryPrimitives.ReadUInt64LittleEndian(data),
        BinaryPrimitives.ReadUInt64LittleEndian(data[8..]));

    // A 128-bit block B = H·x^64 + L (H: its first 8 bytes) moved D bits on: H·(x^(D+64) mod P) + L·(x^D mod P). A
    // carry-less product of two 64-bit reflected values reads as the product times x, hence the constants' D+63 and D-1.
    private static Vector128<ulong> Fold(Vector128<ulong> block, Vector128<ulong> constants) =>
        Pclmulqdq.CarrylessMultiply(block, constants, 0x00) ^ Pclmulqdq.CarrylessMultiply(block, constants, 0x11);

    /// <summary>x^n mod P as a 64-bit reflected value (bit i holds the coefficient of x^(63-i)).</summary>
    private static ulong Constant(int width, ulong polynomial, int n)
    {
        var top = 1UL << (width - 1);
        var mask = width == 64 ? ulong.MaxValue : (1UL << width) - 1;
        ulong value = 1;
        for (var i = 0; i < n; i++)
        {
            var carry = (value & top) != 0;
            value = (value << 1) & mask;
            if (carry)
            {
                value ^= polynomial;
            }
        }

        return ReverseBits(value);
    }

    private static ulong ReverseBits(ulong value)
    {
        ulong result = 0;
        for (var i = 0; i < 64; i++)
        {
            result = (result << 1) | ((value >> i) & 1);
        }

        return result;
    }
}

/// <summary>CRC-64/NVME (S3's x-amz-checksum-crc64nvme, the checksum S3 keeps for every new object).</summary>
public static class Crc64Nvme
{
    private static readonly ReflectedCrc s_crc = new(64, 0xAD93D23594C93659);

    public static ulong Append(ulong crc, ReadOnlySpan<byte> data) => ~s_crc.Update(~crc, data);
}

/// <summary>CRC-32 (IEEE 802.3, zlib's; S3's x-amz-checksum-crc32).</summary>
public static class Crc32
{
    private static readonly ReflectedCrc s_crc = new(32, 0x04C11DB7);

    public static uint Append(uint crc, ReadOnlySpan<byte> data) => ~(uint)s_crc.Update(~crc, data);
}
