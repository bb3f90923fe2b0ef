// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Channel;

/// <summary>Sizes of one instance's channel region (docs/channel.md, layout version 2).</summary>
public sealed record ChannelOptions
{
    /// <summary>Total size of the shared region.</summary>
    public long RegionSize { get; init; } = 64L << 20;

    /// <summary>Entries in each ring (power of two).</summary>
    public int RingEntries { get; init; } = 256;

    /// <summary>Size of one host-owned response slot, which is also the chunk size of streamed responses.</summary>
    public int SlotSize { get; init; } = 1 << 20;

    /// <summary>Fraction of the data area given to the sandbox-owned request area; the rest holds response slots.</summary>
    public double RequestAreaFraction { get; init; } = 0.5;

    /// <summary>Largest JSON header of a request the host accepts.</summary>
    public int MaxHeaderBytes { get; init; } = 4 << 20;
}

/// <summary>
/// The fixed layout of a channel region: a header page, the submission ring (sandbox → host), the completion ring
/// (host → sandbox), the sandbox-owned request area and the host-owned response slots. All little-endian.
/// </summary>
public sealed class ChannelLayout
{
    public const uint Magic = 0x4843584E; // "NXCH"
    public const ushort Version = 2;
    public const int RecordSize = 64;
    public const int HeaderSize = 4096;

    // Header field offsets.
    public const int OffMagic = 0;
    public const int OffVersion = 4;
    public const int OffRecordSize = 6;
    public const int OffRegionSize = 8;
    public const int OffSubEntries = 16;
    public const int OffCmpEntries = 20;
    public const int OffSubRing = 24;
    public const int OffCmpRing = 32;
    public const int OffRequestArea = 40;
    public const int OffRequestAreaSize = 48;
    public const int OffSlotArea = 56;
    public const int OffSlotSize = 64;
    public const int OffSlotCount = 68;
    public const int OffMaxHeader = 72;

    // Ring indices and wake flags, one cache line each.
    public const int OffSubTail = 128;
    public const int OffSubHead = 192;
    public const int OffCmpTail = 256;
    public const int OffCmpHead = 320;
    public const int OffHostWantsCmpSpace = 384;
    public const int OffSandboxWantsSubSpace = 448;
    public const int OffHostClosed = 512;

    public ChannelLayout(ChannelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.RingEntries < 2 || options.RingEntries > 65536 || (options.RingEntries & (options.RingEntries - 1)) != 0)
        {
            throw new ArgumentException($"RingEntries must be a power of two in [2, 65536], got {options.RingEntries}", nameof(options));
        }

        if (options.SlotSize < 4096 || options.SlotSize % 4096 != 0)
        {
            throw new ArgumentException($"SlotSize must be a positive multiple of 4096, got {options.SlotSize}", nameof(options));
        }

        if (options.RequestAreaFraction is <= 0 or >= 1)
        {
            throw new ArgumentException($"RequestAreaFraction must be in (0, 1), got {options.RequestAreaFraction}", nameof(options));
        }

        RegionSize = options.RegionSize;
        RingEntries = options.RingEntries;
        SlotSize = options.SlotSize;
        MaxHeaderBytes = options.MaxHeaderBytes;
        SubRingOffset = HeaderSize;
        CmpRingOffset = SubRingOffset + ((long)RingEntries * RecordSize);
        RequestAreaOffset = AlignUp(CmpRingOffset + ((long)RingEntries * RecordSize), 4096);
        var data = RegionSize - RequestAreaOffset;
        var responseBytes = AlignDown((long)(data * (1 - options.RequestAreaFraction)), SlotSize);
        SlotCount = (int)Math.Min(responseBytes / SlotSize, 65535);
        RequestAreaSize = AlignDown(data - ((long)SlotCount * SlotSize), 4096);
        SlotAreaOffset = RequestAreaOffset + RequestAreaSize;
        if (SlotCount < 1 || RequestAreaSize < SlotSize)
        {
            throw new ArgumentException($"a {RegionSize}-byte region cannot hold rings, a request area and {SlotSize}-byte slots", nameof(options));
        }
    }

    public long RegionSize { get; }

    public int RingEntries { get; }

    public int SlotSize { get; }

    public int SlotCount { get; }

    public int MaxHeaderBytes { get; }

    public long SubRingOffset { get; }

    public long CmpRingOffset { get; }

    public long RequestAreaOffset { get; }

    public long RequestAreaSize { get; }

    public long SlotAreaOffset { get; }

    /// <summary>Region offset of response slot <paramref name="slot"/>.</summary>
    public long SlotOffset(int slot) => SlotAreaOffset + ((long)slot * SlotSize);

    /// <summary>True when [offset, offset+length) lies inside the sandbox-owned request area (overflow-safe).</summary>
    public bool InRequestArea(ulong offset, uint length) =>
        offset >= (ulong)RequestAreaOffset
        && offset <= (ulong)(RequestAreaOffset + RequestAreaSize)
        && length <= (ulong)(RequestAreaOffset + RequestAreaSize) - offset;

    private static long AlignUp(long value, long alignment) => (value + alignment - 1) / alignment * alignment;

    private static long AlignDown(long value, long alignment) => value / alignment * alignment;
}
