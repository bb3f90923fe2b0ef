// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;

namespace Nexus.Vmm.Devices.Virtio.Net;

/// <summary>
/// The virtio_net_hdr_v1 before every frame on both queues (12 bytes with VIRTIO_F_VERSION_1). With no offload
/// negotiated, a transmitted header must ask for nothing: no checksum to complete, no segmentation.
/// </summary>
public readonly record struct NetHeader(byte Flags, byte GsoType, ushort HeaderLength, ushort GsoSize, ushort ChecksumStart, ushort ChecksumOffset, ushort BufferCount)
{
    public const int Size = 12;

    /// <summary>VIRTIO_NET_HDR_GSO_NONE.</summary>
    public const byte GsoNone = 0;

    /// <summary>The header the device writes before a received frame: nothing offloaded, the frame in one buffer.</summary>
    public static NetHeader Received { get; } = new(0, GsoNone, 0, 0, 0, 0, 1);

    /// <summary>True when the header asks for no offload (the only kind the device accepts without checksum/GSO features).</summary>
    public bool AsksForNothing => Flags == 0 && GsoType == GsoNone;

    public static NetHeader Read(ReadOnlySpan<byte> raw) => new(
        raw[0],
        raw[1],
        BinaryPrimitives.ReadUInt16LittleEndian(raw[2..]),
        BinaryPrimitives.ReadUInt16LittleEndian(raw[4..]),
        BinaryPrimitives.ReadUInt16LittleEndian(raw[6..]),
        BinaryPrimitives.ReadUInt16LittleEndian(raw[8..]),
        BinaryPrimitives.ReadUInt16LittleEndian(raw[10..]));

    public void Write(Span<byte> raw)
    {
        raw[0] = Flags;
        raw[1] = GsoType;
        BinaryPrimitives.WriteUInt16LittleEndian(raw[2..], HeaderLength);
        BinaryPrimitives.WriteUInt16LittleEndian(raw[4..], GsoSize);
        BinaryPrimitives.WriteUInt16LittleEndian(raw[6..], ChecksumStart);
        BinaryPrimitives.WriteUInt16LittleEndian(raw[8..], ChecksumOffset);
        BinaryPrimitives.WriteUInt16LittleEndian(raw[10..], BufferCount);
    }
}
