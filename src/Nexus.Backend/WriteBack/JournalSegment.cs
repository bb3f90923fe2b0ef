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

    /// <summary>
    /// Group syncs of one segment that may run at once (<see cref="GroupSync"/>): the next batch's sync starts while the
    /// one before it still runs, so a put under many writers waits about one sync. Three, not two: with two, 8 writers
    /// still often found both busy (p50 no better than one at a time in `nexus bench spool`; docs/benchmarks.md).
    /// </summary>
    public const int SyncSlots = 3;

    private readonly Action<string>? _beforeSync;
    private readonly Action<string, long>? _beforeWrite;

    // One open file description per sync slot (slot 0 is Handle): each description reports a writeback error once, so
    // two fdatasyncs at once on one description could let the second succeed after the first took the error. Opened
    // here, before any record is written, so every later error reaches each of them.
    private readonly SafeFileHandle[] _syncHandles;

    /// <summary>
    /// A segment file; <paramref name="beforeSync"/> is told its path just before every fdatasync (tests: a model of what
    /// a power loss keeps), and <paramref name="beforeWrite"/> its path and the offset before every write of a record or
    /// a mark (tests: a write the disk refuses). With <paramref name="syncSlots"/> above 1 the file is opened again for
    /// each further slot.
    /// </summary>
    public JournalSegment(string path, SafeFileHandle handle, long capacity, Action<string>? beforeSync, int syncSlots = SyncSlots, Action<string, long>? beforeWrite = null)
    {
        Path = path;
        Handle = handle;
        Capacity = capacity;
        _beforeSync = beforeSync;
        _beforeWrite = beforeWrite;
        _syncHandles = new SafeFileHandle[syncSlots];
        _syncHandles[0] = handle;
        try
        {
            for (var slot = 1; slot < syncSlots; slot++)
            {
                _syncHandles[slot] = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
            }
        }
        catch
        {
            Dispose();
            throw;
        }

        Sync = new GroupSync(slot => DataSync(SyncHandles[slot]), syncSlots);
    }

    public string Path { get; }

    public SafeFileHandle Handle { get; }

    /// <summary>Bytes this segment takes records up to (a segment made for one oversized record is that record's size).</summary>
    public long Capacity { get; }

    public GroupSync Sync { get; }

    /// <summary>The descriptor each sync slot runs its fdatasync on, slot 0 first (<see cref="Handle"/>).</summary>
    public IReadOnlyList<SafeFileHandle> SyncHandles => _syncHandles;

    public long Generation { get; set; }

    /// <summary>Where the next record goes.</summary>
    public long Position { get; set; }

    /// <summary>Records being written or written and not retired, and puts whose room is set aside here (<see cref="Promised"/>).</summary>
    public int Live { get; set; }

    /// <summary>
    /// Bytes set aside for puts whose room was made before their bodies were read, and whose place is not reserved yet:
    /// no other put takes them, so a put that had room when it began still has it once its body is in.
    /// </summary>
    public long Promised { get; set; }

    /// <summary>A record's write here failed: nothing more may be written behind it (see <see cref="Sealed"/>, also set).</summary>
    public bool Refused { get; set; }

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

    /// <summary>Writes a record's bytes, or a mark, at <paramref name="offset"/>: a plain positional write into the page cache.</summary>
    public void Write(ReadOnlySpan<byte> bytes, long offset)
    {
        _beforeWrite?.Invoke(Path, offset);
        RandomAccess.Write(Handle, bytes, offset);
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
        Refused = false;
        MarksSyncTarget = 0;
    }

    /// <summary>
    /// Durably forgets every record: the header is zeroed and synced, so a restart reads nothing here. Synced on Handle
    /// (slot 0's description), outside the group: nothing here is live any more, so no put waits on an error it may take.
    /// </summary>
    public void Clear()
    {
        RandomAccess.Write(Handle, new byte[HeaderBytes], 0);
        DataSync(Handle);
        MarksSyncTarget = 0;
    }

    public void Dispose()
    {
        // Slot 0 is Handle; a slot whose open failed is null.
        foreach (var handle in _syncHandles.AsSpan(1))
        {
            handle?.Dispose();
        }

        Handle.Dispose();
    }

    private void DataSync(SafeFileHandle handle)
    {
        _beforeSync?.Invoke(Path);
        FileSync.DataSync(handle);
    }
}
