// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;

namespace Nexus.Channel;

/// <summary>Operation codes of channel records (docs/channel.md).</summary>
public enum ChannelOp : ushort
{
    None = 0,
    GetObject = 1,
    PutObject = 2,
    HeadObject = 3,
    DeleteObject = 4,
    DeleteObjects = 5,
    ListObjectsV2 = 6,
    CopyObject = 7,
    HeadBucket = 8,
    ListBuckets = 9,
    GetObjectTagging = 10,
    PutObjectTagging = 11,
    DeleteObjectTagging = 12,
    CreateBucket = 13,
    NextInvocation = 16,
    InvocationResponse = 17,
    InvocationError = 18,
    InitError = 19,
    CreateMultipartUpload = 20,
    UploadPart = 21,
    CompleteMultipartUpload = 22,
    AbortMultipartUpload = 23,
    ListParts = 24,
    GeneratePresignedUrl = 25,

    /// <summary>The generic path: one serialized, unsigned AWS request the backend checks, signs and sends.</summary>
    ServiceRequest = 26,

    /// <summary>A continuation chunk of a message (either direction).</summary>
    Data = 32,

    /// <summary>Submission: the sandbox returns response slot <see cref="ChannelRecord.Slot"/> to the host.</summary>
    Release = 33,

    /// <summary>Completion: the host has finished reading the request chunk at <see cref="ChannelRecord.Offset"/>.</summary>
    DataAck = 48,
}

/// <summary>Record flags.</summary>
[Flags]
public enum ChannelFlags : ushort
{
    None = 0,

    /// <summary>More chunks of this message follow.</summary>
    More = 1,
}

/// <summary>
/// One 64-byte control record, as a private copy: the host reads a record out of shared memory exactly once into
/// this struct and validates the copy, never the shared bytes.
/// </summary>
public struct ChannelRecord
{
    public const uint NoSlot = uint.MaxValue;

    public ulong RequestId;
    public ChannelOp Op;
    public ChannelFlags Flags;
    public int Status;

    /// <summary>Absolute region offset of this chunk's bytes.</summary>
    public ulong Offset;

    /// <summary>Bytes of the message stream (header JSON then body) in this chunk.</summary>
    public uint Length;

    /// <summary>Length of the message's JSON header (first chunk only).</summary>
    public uint HeaderLength;

    /// <summary>Length of the message's body (first chunk only).</summary>
    public ulong TotalLength;

    /// <summary>Response slot carrying this chunk (completions) or being returned (Release).</summary>
    public uint Slot;

    /// <summary>Chunk sequence number within the message, from 0.</summary>
    public uint Chunk;

    public static ChannelRecord Read(ReadOnlySpan<byte> source) => new()
    {
        RequestId = BinaryPrimitives.ReadUInt64LittleEndian(source),
        Op = (ChannelOp)BinaryPrimitives.ReadUInt16LittleEndian(source[8..]),
        Flags = (ChannelFlags)BinaryPrimitives.ReadUInt16LittleEndian(source[10..]),
        Status = BinaryPrimitives.ReadInt32LittleEndian(source[12..]),
        Offset = BinaryPrimitives.ReadUInt64LittleEndian(source[16..]),
        Length = BinaryPrimitives.ReadUInt32LittleEndian(source[24..]),
        HeaderLength = BinaryPrimitives.ReadUInt32LittleEndian(source[28..]),
        TotalLength = BinaryPrimitives.ReadUInt64LittleEndian(source[32..]),
        Slot = BinaryPrimitives.ReadUInt32LittleEndian(source[40..]),
        Chunk = BinaryPrimitives.ReadUInt32LittleEndian(source[44..]),
    };

    public readonly void Write(Span<byte> destination)
    {
        destination[..ChannelLayout.RecordSize].Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(destination, RequestId);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[8..], (ushort)Op);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[10..], (ushort)Flags);
        BinaryPrimitives.WriteInt32LittleEndian(destination[12..], Status);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], Offset);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[24..], Length);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[28..], HeaderLength);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[32..], TotalLength);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[40..], Slot);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[44..], Chunk);
    }
}
