// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Interop;
using Nexus.Vmm.Devices.Virtio.Transport;
using Nexus.Vmm.VState;

namespace Nexus.Vmm.Devices.Virtio.Net;

/// <summary>
/// virtio-net (device 1) over a TAP, Firecracker's model without offloads: an RX and a TX queue of 256, the guest's
/// MAC in config space, VERSION_1 and MAC the only features. Every TX chain is checked before a byte reaches the
/// TAP (no device-writable buffers, a 12-byte header that asks for no offload, an Ethernet frame of 14..1518 bytes);
/// anything else is dropped and counted, and the chain returned. RX reads the TAP only while the guest has buffers
/// (one frame waits in the device otherwise), at most a queue's worth per wake, with one interrupt per batch and none
/// while the driver polls. All work runs under the transport's lock: notifications and TAP readiness alike on the
/// VM's device thread.
/// </summary>
public sealed class VirtioNet : IVirtioDevice, IDisposable
{
    public const ushort QueueSize = 256;

    public const int EthernetHeaderLength = 14;

    /// <summary>A 1500-byte MTU frame with one VLAN tag; VIRTIO_NET_F_MTU is not offered, so nothing longer is valid.</summary>
    public const int MaxFrameLength = 1518;

    public const int MacLength = 6;

    private const int FeatureMac = 5;
    private const int RxQueue = 0;
    private const int TxQueue = 1;

    /// <summary>A TAP read needs room for whatever the host hands over, so a frame longer than ours is seen and dropped whole.</summary>
    private const int TapReadBuffer = 64 * 1024;

    private readonly Queue[] _queues = [new(QueueSize), new(QueueSize)];
    private readonly Tap _tap;
    private readonly EventLoop _events;
    private readonly ulong _tapToken;
    private readonly byte[] _mac;
    private readonly byte[] _rxFrame = new byte[TapReadBuffer];
    private readonly byte[] _txFrame = new byte[MaxFrameLength];
    private MmioTransport? _transport;
    private GuestMemory? _memory;
    private VirtioInterrupt? _interrupt;
    private int _pendingRxLength;
    private bool _disposed;

    /// <summary>Takes ownership of <paramref name="tap"/>; <paramref name="mac"/> is the guest's unicast address.</summary>
    public VirtioNet(Tap tap, ReadOnlySpan<byte> mac, EventLoop events)
    {
        if (mac.Length != MacLength || (mac[0] & 1) != 0)
        {
            throw new ArgumentException($"virtio-net: guest MAC {Convert.ToHexString(mac)} must be 6 bytes and unicast (bit 0 of the first byte clear)", nameof(mac));
        }

        _tap = tap;
        _mac = mac.ToArray();
        _events = events;

        // Registered disarmed: the TAP is read only once the driver activated the device.
        _tapToken = events.Add(tap.Handle, PollEvents.OneShot, _ => _transport?.RunDeviceWork(PumpRx));
        AvailableFeatures = (1UL << VirtioIds.FeatureVersion1) | (1UL << FeatureMac);
    }

    public uint DeviceType => VirtioIds.Net;

    public ulong AvailableFeatures { get; }

    public IReadOnlyList<Queue> Queues => _queues;

    public ReadOnlySpan<byte> Mac => _mac;

    public string TapName => _tap.Name;

    public NetMetrics Metrics { get; } = new();

    /// <summary>A locally administered unicast MAC with random low bytes (06:xx:xx:xx:xx:xx).</summary>
    public static byte[] RandomMac()
    {
        var mac = new byte[MacLength];
        System.Security.Cryptography.RandomNumberGenerator.Fill(mac);
        mac[0] = 0x06;
        return mac;
    }

    /// <summary>Called once by the VM after the transport exists: TAP work runs under its lock.</summary>
    public void Bind(MmioTransport transport) => _transport = transport;

    public void ReadConfig(ulong offset, Span<byte> data)
    {
        if (offset < MacLength)
        {
            var n = Math.Min(data.Length, MacLength - (int)offset);
            _mac.AsSpan((int)offset, n).CopyTo(data);
        }
    }

    public void WriteConfig(ulong offset, ReadOnlySpan<byte> data)
    {
        // The MAC is read-only (VIRTIO_NET_F_CTRL_MAC_ADDR is not offered).
    }

    public void Activate(GuestMemory memory, VirtioInterrupt interrupt, ulong ackedFeatures)
    {
        _memory = memory;
        _interrupt = interrupt;
        ArmTap();
    }

    public void ProcessQueue(int index)
    {
        if (index == TxQueue)
        {
            ProcessTx();
        }
        else if (index == RxQueue)
        {
            // New receive buffers: deliver the frame that waited for one and resume reading the TAP.
            PumpRx();
        }
    }

    public void Reset()
    {
        _pendingRxLength = 0;
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
        _events.Remove(_tap.Handle, _tapToken);
        _tap.Dispose();
    }

    private void ProcessTx()
    {
        if (_memory is not { } memory)
        {
            return;
        }

        var queue = _queues[TxQueue];
        var used = false;
        while (queue.Pop(memory) is { } chain)
        {
            Transmit(memory, chain);
            queue.AddUsed(memory, chain.Head, 0);
            used = true;
        }

        if (used)
        {
            Interrupt(memory, queue);
        }
    }

    /// <summary>Sends the frame of one TX chain to the TAP, or drops and counts it.</summary>
    private void Transmit(GuestMemory memory, DescriptorChain chain)
    {
        if (chain.WritableLength > 0)
        {
            Metrics.TxMalformedDropped++;
            return;
        }

        if (chain.ReadableLength < NetHeader.Size + EthernetHeaderLength)
        {
            Metrics.TxShortDropped++;
            return;
        }

        var frameLength = chain.ReadableLength - NetHeader.Size;
        if (frameLength > MaxFrameLength)
        {
            Metrics.TxOversizedDropped++;
            return;
        }

        Span<byte> raw = stackalloc byte[NetHeader.Size];
        chain.ReadReadable(memory, 0, raw);
        if (!NetHeader.Read(raw).AsksForNothing)
        {
            Metrics.TxMalformedDropped++;
            return;
        }

        // One copy out of guest memory: the guest cannot change the frame between the checks and the TAP.
        var frame = _txFrame.AsSpan(0, (int)frameLength);
        chain.ReadReadable(memory, NetHeader.Size, frame);
        if (_tap.Write(frame))
        {
            Metrics.TxFrames++;
            Metrics.TxBytes += frame.Length;
        }
        else
        {
            Metrics.TxTapErrors++;
        }
    }

    /// <summary>Moves TAP frames into the guest's receive buffers, at most a queue's worth per call.</summary>
    private void PumpRx()
    {
        if (_memory is not { } memory)
        {
            return;
        }

        var queue = _queues[RxQueue];
        var used = false;
        Span<byte> header = stackalloc byte[NetHeader.Size];
        NetHeader.Received.Write(header);
        for (var budget = QueueSize; ; budget--)
        {
            if (budget == 0)
            {
                // Yield the device thread to other devices; the TAP reports again at once if frames remain.
                ArmTap();
                break;
            }

            if (_pendingRxLength == 0)
            {
                _pendingRxLength = _tap.Read(_rxFrame);
                if (_pendingRxLength == 0)
                {
                    ArmTap();
                    break;
                }
            }

            var length = _pendingRxLength;
            if (length is < EthernetHeaderLength or > MaxFrameLength)
            {
                Metrics.RxDropped++;
                _pendingRxLength = 0;
                continue;
            }

            if (queue.Pop(memory) is not { } chain)
            {
                // The frame waits here and the TAP stays disarmed (the host's queue holds the rest) until the guest
                // posts buffers and notifies the RX queue.
                Metrics.RxNoBuffer++;
                break;
            }

            _pendingRxLength = 0;
            if (chain.WritableLength < (ulong)(NetHeader.Size + length))
            {
                // Too small for the frame (no MRG_RXBUF: one chain per frame): the chain goes back empty.
                Metrics.RxDropped++;
                queue.AddUsed(memory, chain.Head, 0);
                used = true;
                continue;
            }

            chain.WriteWritable(memory, 0, header);
            chain.WriteWritable(memory, NetHeader.Size, _rxFrame.AsSpan(0, length));
            queue.AddUsed(memory, chain.Head, (uint)(NetHeader.Size + length));
            Metrics.RxFrames++;
            Metrics.RxBytes += length;
            used = true;
        }

        if (used)
        {
            Interrupt(memory, queue);
        }
    }

    private void Interrupt(GuestMemory memory, Queue queue)
    {
        if (queue.DriverWantsInterrupt(memory))
        {
            Metrics.Interrupts++;
            _interrupt!.Signal(VirtioInterrupt.UsedRing);
        }
        else
        {
            Metrics.InterruptsSuppressed++;
        }
    }

    private void ArmTap() => _events.Modify(_tap.Handle, _tapToken, PollEvents.Readable | PollEvents.OneShot);
}
