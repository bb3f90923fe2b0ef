// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;

namespace Nexus.Vmm.Devices.Virtio.Vsock;

/// <summary>virtio-vsock operations (virtio 1.2 §5.10.6).</summary>
public enum VsockOp : ushort
{
    Request = 1,
    Response = 2,
    Rst = 3,
    Shutdown = 4,
    Rw = 5,
    CreditUpdate = 6,
    CreditRequest = 7,
}

/// <summary>What a guest packet's header says about the packet, before any connection state is looked at.</summary>
public enum VsockPacketCheck
{
    /// <summary>Addressed from our guest to the host, a stream packet, a known op, a payload the chain holds.</summary>
    Valid,

    /// <summary>Not from this guest's CID or not to the host: dropped without an answer.</summary>
    NotForHost,

    /// <summary>Wrong type, unknown op, or a length past the cap or the chain: the pair is reset.</summary>
    Malformed,
}

/// <summary>
/// The 44-byte little-endian packet header (struct virtio_vsock_hdr). Read once from guest memory into this
/// value, so the guest cannot change a field after it was checked.
/// </summary>
public readonly record struct VsockHeader(
    ulong SrcCid, ulong DstCid, uint SrcPort, uint DstPort, uint Len, ushort Type, VsockOp Op, uint Flags, uint BufAlloc, uint FwdCnt)
{
    public const int Size = 44;
    public const ushort TypeStream = 1;
    public const ulong HostCid = 2;
    public const uint ShutdownReceive = 1;
    public const uint ShutdownSend = 2;

    public static VsockHeader Read(ReadOnlySpan<byte> b) => new(
        BinaryPrimitives.ReadUInt64LittleEndian(b),
        BinaryPrimitives.ReadUInt64LittleEndian(b[8..]),
        BinaryPrimitives.ReadUInt32LittleEndian(b[16..]),
        BinaryPrimitives.ReadUInt32LittleEndian(b[20..]),
        BinaryPrimitives.ReadUInt32LittleEndian(b[24..]),
        BinaryPrimitives.ReadUInt16LittleEndian(b[28..]),
        (VsockOp)BinaryPrimitives.ReadUInt16LittleEndian(b[30..]),
        BinaryPrimitives.ReadUInt32LittleEndian(b[32..]),
        BinaryPrimitives.ReadUInt32LittleEndian(b[36..]),
        BinaryPrimitives.ReadUInt32LittleEndian(b[40..]));

    /// <summary>
    /// Checks this header of a packet whose chain has <paramref name="chainReadable"/> device-readable bytes (at least
    /// <see cref="Size"/>) against the guest's CID and the payload cap; every field the device later uses is covered.
    /// </summary>
    public VsockPacketCheck Check(ulong guestCid, ulong chainReadable, uint maxPayload)
    {
        if (SrcCid != guestCid || DstCid != HostCid)
        {
            return VsockPacketCheck.NotForHost;
        }

        return Type != TypeStream || Len > maxPayload || chainReadable < Size || Len > chainReadable - Size
            || Op is < VsockOp.Request or > VsockOp.CreditRequest
            ? VsockPacketCheck.Malformed
            : VsockPacketCheck.Valid;
    }

    public void Write(Span<byte> b)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(b, SrcCid);
        BinaryPrimitives.WriteUInt64LittleEndian(b[8..], DstCid);
        BinaryPrimitives.WriteUInt32LittleEndian(b[16..], SrcPort);
        BinaryPrimitives.WriteUInt32LittleEndian(b[20..], DstPort);
        BinaryPrimitives.WriteUInt32LittleEndian(b[24..], Len);
        BinaryPrimitives.WriteUInt16LittleEndian(b[28..], Type);
        BinaryPrimitives.WriteUInt16LittleEndian(b[30..], (ushort)Op);
        BinaryPrimitives.WriteUInt32LittleEndian(b[32..], Flags);
        BinaryPrimitives.WriteUInt32LittleEndian(b[36..], BufAlloc);
        BinaryPrimitives.WriteUInt32LittleEndian(b[40..], FwdCnt);
    }
}
