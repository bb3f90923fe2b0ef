// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;

namespace Nexus.Vmm.Devices.Virtio.Block;

/// <summary>The virtio_blk_req header at the start of every request chain (16 bytes: type, reserved, sector).</summary>
public readonly record struct BlockHeader(uint Type, ulong Sector)
{
    public const int Size = 16;

    public const uint RequestIn = 0;
    public const uint RequestOut = 1;
    public const uint RequestFlush = 4;
    public const uint RequestGetId = 8;

    public const byte StatusOk = 0;
    public const byte StatusIoErr = 1;
    public const byte StatusUnsupported = 2;

    public static BlockHeader Read(ReadOnlySpan<byte> raw) =>
        new(BinaryPrimitives.ReadUInt32LittleEndian(raw), BinaryPrimitives.ReadUInt64LittleEndian(raw[8..]));
}
