// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;
using Nexus.Vmm.Devices.Virtio.Transport;
using Nexus.Vmm.Devices.Virtio.Vsock.Unix;
using Nexus.Vmm.VState;

namespace Nexus.Vmm.Devices.Virtio.Vsock;

/// <summary>
/// virtio-vsock (device 19) with the host side bridged to Unix stream sockets as Firecracker does (the muxer,
/// <see cref="VsockMuxer"/>): a guest connection to host port P connects to <c>&lt;uds_path&gt;_P</c>; a host client
/// connects to <c>uds_path</c>, writes <c>CONNECT &lt;port&gt;\n</c> and, once the guest accepts, reads
/// <c>OK &lt;host port&gt;\n</c>. This class is the device: its queues, config space and the checks of every header the
/// guest writes (CIDs, type, op, length against the chain and the 64 KiB packet cap) before the muxer sees it; a bad one
/// is answered with RST or dropped, never trusted. All work runs under the transport's lock: queue notifications on the
/// VM's device thread, host sockets from the same thread's epoll loop.
/// </summary>
public sealed class VirtioVsock : IVirtioDevice, IDisposable
{
    public const ushort QueueSize = 256;

    /// <summary>Largest payload of one packet (Firecracker's MAX_PKT_BUF_SIZE).</summary>
    public const int MaxPayload = 64 * 1024;

    /// <summary>The receive buffer we advertise per connection (buf_alloc): unsent guest data is bounded by it.</summary>
    public const uint BufferSize = 64 * 1024;

    /// <summary>At most this many connections (Firecracker's MAX_CONNECTIONS); more get RST.</summary>
    public const int MaxConnections = 1023;

    /// <summary>How long the guest has to answer our REQUEST, or our SHUTDOWN after host EOF, before an RST ends the stream.</summary>
    public static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Control packets waiting for a guest RX buffer (Firecracker's MUXER_RXQ_SIZE); more are dropped and counted.</summary>
    public const int MaxPendingControl = 256;

    private const int RxQueue = 0;
    private const int TxQueue = 1;
    private const int EventQueue = 2;
    private const uint TransportResetEvent = 0;

    private readonly Queue[] _queues = [new(QueueSize), new(QueueSize), new(QueueSize)];
    private readonly VsockMuxer _muxer;
    private readonly byte[] _buffer = new byte[MaxPayload];
    private MmioTransport? _transport;
    private GuestMemory? _memory;
    private VirtioInterrupt? _interrupt;
    private bool _disposed;

    /// <summary>Listens on <paramref name="udsPath"/> for host-initiated connections; it must not exist yet.</summary>
    public VirtioVsock(ulong guestCid, string udsPath, EventLoop events)
    {
        if (guestCid is < 3 or >= uint.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(guestCid), $"vsock guest CID {guestCid}: must be 3..{uint.MaxValue - 1} (0-2 are reserved)");
        }

        GuestCid = guestCid;
        UdsPath = udsPath;

        // Host socket work takes the transport's lock, then delivers whatever it made ready.
        _muxer = new VsockMuxer(guestCid, udsPath, events, Metrics, work => _transport?.RunDeviceWork(() =>
        {
            work();
            PumpRx();
        }));
        AvailableFeatures = 1UL << VirtioIds.FeatureVersion1;
    }

    public ulong GuestCid { get; }

    public string UdsPath { get; }

    public uint DeviceType => VirtioIds.Vsock;

    public ulong AvailableFeatures { get; }

    public IReadOnlyList<Queue> Queues => _queues;

    /// <summary>Open connections (host- and guest-initiated).</summary>
    public int ConnectionCount => _muxer.ConnectionCount;

    public VsockMetrics Metrics { get; } = new();

    /// <summary>Called once by the VM after the transport exists: host socket work runs under its lock.</summary>
    public void Bind(MmioTransport transport) => _transport = transport;

    public void ReadConfig(ulong offset, Span<byte> data) => VirtioConfig.ReadU64(GuestCid, offset, data);

    public void WriteConfig(ulong offset, ReadOnlySpan<byte> data)
    {
        // The guest CID is read-only.
    }

    public void Activate(GuestMemory memory, VirtioInterrupt interrupt, ulong ackedFeatures)
    {
        _memory = memory;
        _interrupt = interrupt;
    }

    public void ProcessQueue(int index)
    {
        if (index == TxQueue)
        {
            ProcessTx();
        }

        // RX: the guest gave buffers; TX may have queued replies. The event queue is only written on reset.
        PumpRx();
    }

    /// <summary>Parses "CONNECT &lt;port&gt;" (keyword in any case), or null.</summary>
    public static uint? ParseConnect(string line) => VsockMuxer.ParseConnect(line);

    /// <summary>
    /// Ends every stream (host peers see EOF) and tells the guest through the event queue
    /// (VIRTIO_VSOCK_EVENT_TRANSPORT_RESET), as Firecracker does when it snapshots a VM: its streams cannot follow it.
    /// </summary>
    public void ResetTransport()
    {
        _muxer.CloseAll();
        Metrics.TransportResets++;
        if (_memory is not { } memory || _queues[EventQueue].Pop(memory) is not { } chain)
        {
            return;
        }

        Span<byte> resetEvent = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(resetEvent, TransportResetEvent);
        var written = chain.WriteWritable(memory, 0, resetEvent);
        _queues[EventQueue].AddUsed(memory, chain.Head, (uint)written);
        _interrupt!.Signal(VirtioInterrupt.UsedRing);
    }

    public void Reset()
    {
        _muxer.Reset();
        _memory = null;
        _interrupt = null;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Reset();
        _muxer.Dispose();
    }

    private void ProcessTx()
    {
        var memory = _memory!;
        var queue = _queues[TxQueue];
        var used = false;
        while (queue.Pop(memory) is { } chain)
        {
            HandleGuestPacket(chain, memory);
            queue.AddUsed(memory, chain.Head, 0);
            used = true;
        }

        if (used)
        {
            _interrupt!.Signal(VirtioInterrupt.UsedRing);
        }
    }

    /// <summary>Checks one guest packet; only a valid one reaches the muxer.</summary>
    private void HandleGuestPacket(DescriptorChain chain, GuestMemory memory)
    {
        if (chain.ReadableLength < VsockHeader.Size)
        {
            Metrics.DroppedPackets++;
            return;
        }

        Span<byte> raw = stackalloc byte[VsockHeader.Size];
        chain.ReadReadable(memory, 0, raw);
        var header = VsockHeader.Read(raw);
        switch (header.Check(GuestCid, chain.ReadableLength, MaxPayload))
        {
            case VsockPacketCheck.NotForHost:
                Metrics.DroppedPackets++;
                return;
            case VsockPacketCheck.Malformed:
                if (header.Op != VsockOp.Rst)
                {
                    _muxer.Kill(header.DstPort, header.SrcPort);
                }

                return;
        }

        // The check bounded Len by the chain and MaxPayload.
        var payload = _buffer.AsSpan(0, header.Op == VsockOp.Rw ? (int)header.Len : 0);
        chain.ReadReadable(memory, VsockHeader.Size, payload);
        _muxer.SendToHost(header, payload);
    }

    /// <summary>Moves control packets and host data into the guest's RX buffers while both exist.</summary>
    private void PumpRx()
    {
        if (_memory is not { } memory)
        {
            return;
        }

        var queue = _queues[RxQueue];
        var used = false;
        Span<byte> raw = stackalloc byte[VsockHeader.Size];
        while (_muxer.HasRx && queue.Pop(memory) is { } chain)
        {
            if (chain.WritableLength < VsockHeader.Size)
            {
                // A guest bug: the buffer cannot hold a header. Return it empty.
                queue.AddUsed(memory, chain.Head, 0);
                used = true;
                continue;
            }

            var room = (int)Math.Min(chain.WritableLength - VsockHeader.Size, MaxPayload);
            var result = _muxer.TakeRx(room, _buffer, out var header, out var length);
            if (result != VsockRxResult.Packet)
            {
                queue.UndoPop();
                if (result == VsockRxResult.NeedsRoom)
                {
                    // A header-sized buffer holds control packets only: wait for bigger ones.
                    break;
                }

                continue;
            }

            header.Write(raw);
            chain.WriteWritable(memory, 0, raw);
            chain.WriteWritable(memory, VsockHeader.Size, _buffer.AsSpan(0, length));
            queue.AddUsed(memory, chain.Head, (uint)(VsockHeader.Size + length));
            used = true;
        }

        _muxer.RequestCredit();
        if (used)
        {
            _interrupt!.Signal(VirtioInterrupt.UsedRing);
        }
    }
}
