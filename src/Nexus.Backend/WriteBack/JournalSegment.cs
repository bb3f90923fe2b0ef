// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;
using Nexus.Interop;

namespace Nexus.Backend.WriteBack;

/// <summary>
/// One journal file: <c>[segment header 64][records...]</c>. The header names the segment's generation; only records of
/// that generation belong to it, so a recycled file's old records (an older generation) are never read as new ones. A
/// free segment has a zeroed header. Counters are guarded by the journal's lock.
/// </summary>
internal sealed class JournalSegment : IDisposable
{
    public const int HeaderBytes = 64;

    private static readonly byte[] s_magic = "NXWJSEG1"u8.ToArray();

    private readonly Action<string>? _beforeSync;

    /// <summary>A segment file; <paramref name="beforeSync"/> is told its path just before every fdatasync (tests: a model of what a power loss keeps).</summary>
    public JournalSegment(string path, SafeFileHandle handle, long capacity, Action<string>? beforeSync)
    {
        Path = path;
        Handle = handle;
        Capacity = capacity;
        _beforeSync = beforeSync;
        Sync = new GroupSync(DataSync);
    }

    public string Path { get; }

    public SafeFileHandle Handle { get; }

    /// <summary>Bytes this segment takes records up to (a segment made for one oversized record is that record's size).</summary>
    public long Capacity { get; }

    public GroupSync Sync { get; }

    public long Generation { get; set; }

    /// <summary>Where the next record goes.</summary>
    public long Position { get; set; }

    /// <summary>Records being written or written and not retired.</summary>
    public int Live { get; set; }

    /// <summary>Open bodies: a segment is not recycled under a reader.</summary>
    public int Readers { get; set; }

    /// <summary>No more records go here.</summary>
    public bool Sealed { get; set; }

    /// <summary>
    /// The sync (<see cref="GroupSync.NextTarget"/>) that makes the state marks written here so far durable; 0 when no
    /// mark waits for one. Appends' group syncs usually cover it on the way.
    /// </summary>
    public long MarksSyncTarget { get; set; }

    /// <summary>Reads the generation a segment file's header names, or null for a free or foreign file.</summary>
    public static long? ReadGeneration(SafeFileHandle handle)
    {
        Span<byte> header = stackalloc byte[HeaderBytes];
        if (RandomAccess.Read(handle, header, 0) < HeaderBytes || !header[..8].SequenceEqual(s_magic)
            || BinaryPrimitives.ReadUInt32LittleEndian(header[16..]) != Crc32C.Append(0, header[..16]))
        {
            return null;
        }

        return BinaryPrimitives.ReadInt64LittleEndian(header[8..]);
    }

    /// <summary>Starts the segment over as <paramref name="generation"/> (durable with its first record's sync).</summary>
    public void Activate(long generation)
    {
        Span<byte> header = stackalloc byte[HeaderBytes];
        header.Clear();
        s_magic.CopyTo(header);
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], generation);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], Crc32C.Append(0, header[..16]));
        RandomAccess.Write(Handle, header, 0);
        Generation = generation;
        Position = HeaderBytes;
        Sealed = false;
        MarksSyncTarget = 0;
    }

    /// <summary>Durably forgets every record: the header is zeroed and synced, so a restart reads nothing here.</summary>
    public void Clear()
    {
        RandomAccess.Write(Handle, new byte[HeaderBytes], 0);
        DataSync();
        MarksSyncTarget = 0;
    }

    public void Dispose() => Handle.Dispose();

    private void DataSync()
    {
        _beforeSync?.Invoke(Path);
        FileSync.DataSync(Handle);
    }
}
