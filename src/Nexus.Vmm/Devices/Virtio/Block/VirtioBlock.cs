// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text;
using Microsoft.Win32.SafeHandles;
using Nexus.Vmm.VState;
using static Nexus.Vmm.Devices.Virtio.Block.BlockHeader;

namespace Nexus.Vmm.Devices.Virtio.Block;

/// <summary>
/// virtio-blk backed by a host file (Firecracker's sync engine): IN, OUT, FLUSH, GET_ID on one queue.
/// Requests are bounds-checked against the disk; a bad request fails with IOERR, not the device.
/// </summary>
public sealed class VirtioBlock : IVirtioDevice, IDisposable
{
    public const int SectorSize = 512;
    public const ushort QueueSize = 256;

    private const int FeatureReadOnly = 5;
    private const int FeatureFlush = 9;
    private const int IdLength = 20;

    private readonly FileStream _file;
    private readonly Queue[] _queues = [new(QueueSize)];
    private GuestMemory? _memory;
    private VirtioInterrupt? _interrupt;

    public VirtioBlock(string path, bool readOnly)
    {
        Path = path;
        ReadOnly = readOnly;
        try
        {
            _file = new FileStream(path, FileMode.Open, readOnly ? FileAccess.Read : FileAccess.ReadWrite, FileShare.ReadWrite, 1, FileOptions.None);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"virtio-blk: cannot open {path} {(readOnly ? "read-only" : "read-write")}: {e.Message}", e);
        }

        CapacitySectors = (ulong)_file.Length / SectorSize;
        AvailableFeatures = (1UL << VirtioIds.FeatureVersion1) | (1UL << FeatureFlush) | (readOnly ? 1UL << FeatureReadOnly : 0);
    }

    public string Path { get; }

    public bool ReadOnly { get; }

    public ulong CapacitySectors { get; }

    public uint DeviceType => VirtioIds.Block;

    public ulong AvailableFeatures { get; }

    public IReadOnlyList<Queue> Queues => _queues;

    public BlockMetrics Metrics { get; } = new();

    private SafeFileHandle Handle => _file.SafeFileHandle;

    public void ReadConfig(ulong offset, Span<byte> data) => VirtioConfig.ReadU64(CapacitySectors, offset, data);

    public void WriteConfig(ulong offset, ReadOnlySpan<byte> data)
    {
        // The block config space is read-only here (no writeback toggle).
    }

    public void Activate(GuestMemory memory, VirtioInterrupt interrupt, ulong ackedFeatures)
    {
        _memory = memory;
        _interrupt = interrupt;
    }

    public void ProcessQueue(int index)
    {
        if (_memory is null || _interrupt is null)
        {
            return;
        }

        var queue = _queues[0];
        var used = false;
        while (queue.Pop(_memory) is { } chain)
        {
            var written = Execute(_memory, chain);
            queue.AddUsed(_memory, chain.Head, written);
            used = true;
        }

        if (used)
        {
            _interrupt.Signal(VirtioInterrupt.UsedRing);
        }
    }

    public void Reset()
    {
        _memory = null;
        _interrupt = null;
    }

    public void Dispose() => _file.Dispose();

    /// <summary>Runs one request; returns the number of bytes written into the chain (data + status).</summary>
    private uint Execute(GuestMemory memory, DescriptorChain chain)
    {
        if (chain.ReadableLength < BlockHeader.Size || chain.WritableLength < 1)
        {
            Metrics.Malformed++;
            return 0; // no room for a status byte: nothing can be reported
        }

        Span<byte> raw = stackalloc byte[BlockHeader.Size];
        chain.ReadReadable(memory, 0, raw);
        var (type, sector) = BlockHeader.Read(raw);
        var statusOffset = chain.WritableLength - 1;
        uint dataWritten = 0;
        byte status;
        try
        {
            (status, dataWritten) = type switch
            {
                RequestIn => (Transfer(memory, chain, sector, chain.WritableLength - 1, toGuest: true), (uint)(chain.WritableLength - 1)),
                RequestOut => (ReadOnly ? StatusIoErr : Transfer(memory, chain, sector, chain.ReadableLength - BlockHeader.Size, toGuest: false), 0u),
                RequestFlush => (Flush(), 0u),
                RequestGetId => (WriteId(memory, chain), (uint)Math.Min(IdLength, chain.WritableLength - 1)),
                _ => (StatusUnsupported, 0u),
            };
        }
        catch (IOException)
        {
            (status, dataWritten) = (StatusIoErr, 0);
        }

        if (status != StatusOk)
        {
            dataWritten = 0;
            if (status == StatusUnsupported)
            {
                Metrics.Unsupported++;
            }
            else
            {
                Metrics.Failed++;
            }
        }
        else
        {
            Metrics.Completed++;
            Metrics.ReadBytes += type == RequestIn ? dataWritten : 0;
            Metrics.WrittenBytes += type == RequestOut ? (long)(chain.ReadableLength - BlockHeader.Size) : 0;
        }

        Span<byte> statusByte = [status];
        chain.WriteWritable(memory, statusOffset, statusByte);
        return dataWritten + 1;
    }

    private byte Transfer(GuestMemory memory, DescriptorChain chain, ulong sector, ulong length, bool toGuest)
    {
        if (length % SectorSize != 0 || sector > CapacitySectors || length / SectorSize > CapacitySectors - sector)
        {
            return StatusIoErr;
        }

        var fileOffset = (long)(sector * SectorSize);
        var skip = toGuest ? 0UL : BlockHeader.Size;
        var remaining = length;
        foreach (var b in chain.Buffers)
        {
            if (b.Writable != toGuest || remaining == 0)
            {
                continue;
            }

            if (skip >= b.Length)
            {
                skip -= b.Length;
                continue;
            }

            var n = (int)Math.Min(b.Length - skip, remaining);
            var span = memory.GetSpan(b.Address + skip, n);
            if (toGuest)
            {
                var read = RandomAccess.Read(Handle, span, fileOffset);
                span[read..].Clear();
            }
            else
            {
                RandomAccess.Write(Handle, span, fileOffset);
            }

            fileOffset += n;
            remaining -= (ulong)n;
            skip = 0;
        }

        return StatusOk;
    }

    private byte Flush()
    {
        if (!ReadOnly)
        {
            _file.Flush(flushToDisk: true);
        }

        return StatusOk;
    }

    private byte WriteId(GuestMemory memory, DescriptorChain chain)
    {
        Span<byte> id = stackalloc byte[IdLength];
        id.Clear();
        Encoding.ASCII.GetBytes("nexus-blk", id);
        chain.WriteWritable(memory, 0, id[..(int)Math.Min(IdLength, chain.WritableLength - 1)]);
        return StatusOk;
    }
}
