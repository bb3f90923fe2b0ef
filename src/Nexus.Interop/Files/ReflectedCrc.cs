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
/// table, so checking an object's S3 checksum costs a small part of what its MD5 did.
/// </summary>
internal sealed class ReflectedCrc
{
    private readonly ulong[] _table = new ulong[256];

    // Folding constants (x^(D+63) mod P, x^(D-1) mod P as 64-bit reflected values) for a distance D of 128 and 512 bits.
    private readonly Vector128<ulong> _fold1;
    private readonly Vector128<ulong> _fold4;

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
    }

    /// <summary>The register after <paramref name="data"/>, from <paramref name="register"/>.</summary>
    public ulong Update(ulong register, ReadOnlySpan<byte> data)
    {
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
