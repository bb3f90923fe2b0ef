// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Interop;
using Nexus.Vmm.Devices.Virtio;
using Nexus.Vmm.Devices.Virtio.Net;
using Nexus.Vmm.VState;

namespace Nexus.Vmm.Tests;

/// <summary>
/// The virtio-net device on plain guest memory (no KVM), its TAP end played by a SOCK_SEQPACKET pair (one frame per
/// read and write, as a TAP): what the guest receives, what waits, what is dropped, and when it is interrupted.
/// </summary>
public sealed class NetDeviceTests : IDisposable
{
    private const ushort Size = 8;
    private const ulong RxBuffers = 0x100000;
    private const ulong TxBuffer = 0x200000;
    private static readonly byte[] s_mac = [0x06, 0, 0, 0, 0, 2];

    private readonly GuestMemory _memory = new();
    private readonly EventLoop _events = new("test-devices");
    private readonly Tap _host;
    private readonly VirtioNet _net;
    private int _interrupts;
    private ushort _rxUsedSeen;
    private ushort _rxAvail;
    private ushort _txAvail;

    public NetDeviceTests()
    {
        _memory.Add(GuestMemory.Anonymous(0, 16 << 20));
        var (device, host) = UnixSeqPacket.CreatePair();
        _host = new Tap(host, "host");
        _net = new VirtioNet(new Tap(device, "test0"), s_mac, _events);
        for (var q = 0; q < 2; q++)
        {
            var queue = _net.Queues[q];
            queue.Size = Size;
            queue.Ready = true;
            queue.DescTable = (ulong)(0x1000 + (q * 0x3000));
            queue.AvailRing = queue.DescTable + 0x1000;
            queue.UsedRing = queue.DescTable + 0x2000;
        }

        _net.Activate(_memory, new VirtioInterrupt(() => Interlocked.Increment(ref _interrupts)), 1UL << VirtioIds.FeatureVersion1);
    }

    public void Dispose()
    {
        _net.Dispose();
        _host.Dispose();
        _events.Dispose();
        _memory.Dispose();
    }

    [Fact]
    public void ConfigSpaceHoldsTheMacAndOnlyVersion1AndMacAreOffered()
    {
        var config = new byte[8];
        _net.ReadConfig(0, config);
        Assert.Equal([.. s_mac, 0, 0], config);
        Assert.Equal((1UL << 32) | (1UL << 5), _net.AvailableFeatures);
        var (a, b) = UnixSeqPacket.CreatePair();
        b.Dispose();
        using var tap = new Tap(a, "multicast");
        var e = Assert.Throws<ArgumentException>(() => new VirtioNet(tap, [1, 0, 0, 0, 0, 0], _events));
        Assert.Contains("unicast", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HostFrameReachesAGuestBufferBehindAHeader()
    {
        PostRx(0, 2048);
        var frame = Frame(60, 0x42);
        HostSend(frame);
        _net.ProcessQueue(0);

        var (id, length) = Assert.Single(Used());
        Assert.Equal((0u, (uint)(NetHeader.Size + 60)), (id, length));
        var raw = new byte[NetHeader.Size + 60];
        _memory.Read(RxBuffers, raw);
        Assert.Equal(NetHeader.Received, NetHeader.Read(raw));
        Assert.Equal(frame, raw[NetHeader.Size..]);
        Assert.Equal((1, 60L, 1, 1), (_net.Metrics.RxFrames, _net.Metrics.RxBytes, _interrupts, _net.Metrics.Interrupts));
    }

    [Fact]
    public void FrameWaitsForABufferInsteadOfBeingLost()
    {
        HostSend(Frame(100, 1));
        HostSend(Frame(101, 2));
        _net.ProcessQueue(0);
        Assert.Empty(Used());
        Assert.Equal(1, _net.Metrics.RxNoBuffer);

        // Posting buffers (the driver's RX notify) delivers the waiting frame first, then the next, in order.
        PostRx(0, 2048);
        PostRx(1, 2048);
        _net.ProcessQueue(0);
        Assert.Equal([(0u, (uint)(NetHeader.Size + 100)), (1u, (uint)(NetHeader.Size + 101))], Used());
        Assert.Equal(0, _net.Metrics.RxDropped);
    }

    [Fact]
    public void OversizedHostFrameAndTooSmallGuestBufferAreDroppedAndCounted()
    {
        // 2000 bytes exceed a 1518-byte Ethernet frame: dropped without using a buffer. A 64-byte buffer cannot hold
        // header + 100 bytes (no MRG_RXBUF): it comes back empty and that frame is dropped. The 50-byte frame waits.
        HostSend(Frame(2000, 3));
        HostSend(Frame(100, 4));
        HostSend(Frame(50, 5));
        PostRx(0, 64);
        _net.ProcessQueue(0);
        Assert.Equal([(0u, 0u)], Used());

        PostRx(1, 2048);
        _net.ProcessQueue(0);
        Assert.Equal([(1u, (uint)(NetHeader.Size + 50))], Used());
        Assert.Equal((2L, 1L), (_net.Metrics.RxDropped, _net.Metrics.RxFrames));
    }

    [Fact]
    public void DriverThatPollsIsNotInterrupted()
    {
        // VRING_AVAIL_F_NO_INTERRUPT on the RX ring (Linux NAPI while it polls): frames arrive, no interrupt.
        _memory.WriteU16(_net.Queues[0].AvailRing, Queue.AvailFlagNoInterrupt);
        PostRx(0, 2048);
        PostRx(1, 2048);
        HostSend(Frame(60, 6));
        HostSend(Frame(60, 7));
        _net.ProcessQueue(0);
        Assert.Equal(2, Used().Count);
        Assert.Equal((0, 0L, 1L), (_interrupts, _net.Metrics.Interrupts, _net.Metrics.InterruptsSuppressed));
    }

    [Fact]
    public void TxChainsAreCheckedBeforeAByteReachesTheTap()
    {
        // Valid: header of zeros + a 60-byte frame. One interrupt for the batch of five.
        var good = new byte[NetHeader.Size + 60];
        good[NetHeader.Size] = 0xaa;
        var gso = (byte[])good.Clone();
        gso[1] = 1;
        var needsChecksum = (byte[])good.Clone();
        needsChecksum[0] = 1;
        Transmit(good, new byte[NetHeader.Size + 5], new byte[NetHeader.Size + 1519], gso, needsChecksum);

        var received = new byte[4096];
        Assert.Equal(60, _host.Read(received));
        Assert.Equal(0xaa, received[0]);
        Assert.Equal(0, _host.Read(received)); // nothing else reached the host
        var m = _net.Metrics;
        Assert.Equal((1, 1L, 1L, 2L), ((int)m.TxFrames, m.TxShortDropped, m.TxOversizedDropped, m.TxMalformedDropped));
        Assert.Equal(5, _memory.ReadU16(_net.Queues[1].UsedRing + 2));
        Assert.Equal(1, _interrupts);
    }

    private static byte[] Frame(int length, byte fill)
    {
        var frame = new byte[length];
        Array.Fill(frame, fill);
        return frame;
    }

    private void HostSend(byte[] frame) => Assert.True(_host.Write(frame));

    private void PostRx(ushort index, uint length)
    {
        var rx = _net.Queues[0];
        WriteDesc(rx, index, RxBuffers + (index * 0x1000UL), length, DescriptorChain.FlagWrite);
        _memory.WriteU16(rx.AvailRing + 4 + (2UL * (ulong)(_rxAvail % Size)), index);
        _memory.WriteU16(rx.AvailRing + 2, ++_rxAvail);
    }

    private void Transmit(params byte[][] chains)
    {
        var tx = _net.Queues[1];
        for (var i = 0; i < chains.Length; i++)
        {
            var at = TxBuffer + ((ulong)i * 0x1000);
            _memory.Write(at, chains[i]);
            WriteDesc(tx, (ushort)i, at, (uint)chains[i].Length, 0);
            _memory.WriteU16(tx.AvailRing + 4 + (2UL * (ulong)(_txAvail % Size)), (ushort)i);
            _txAvail++;
        }

        _memory.WriteU16(tx.AvailRing + 2, _txAvail);
        _net.ProcessQueue(1);
    }

    /// <summary>RX used-ring entries (buffer id, bytes written) since the last call.</summary>
    private List<(uint Id, uint Length)> Used()
    {
        var rx = _net.Queues[0];
        var used = new List<(uint, uint)>();
        for (var end = _memory.ReadU16(rx.UsedRing + 2); _rxUsedSeen != end; _rxUsedSeen++)
        {
            var slot = rx.UsedRing + 4 + (8UL * (ulong)(_rxUsedSeen % Size));
            used.Add((_memory.ReadU32(slot), _memory.ReadU32(slot + 4)));
        }

        return used;
    }

    private void WriteDesc(Queue queue, ushort index, ulong address, uint length, ushort flags)
    {
        var at = queue.DescTable + (index * 16UL);
        _memory.WriteU64(at, address);
        _memory.WriteU32(at + 8, length);
        _memory.WriteU16(at + 12, flags);
        _memory.WriteU16(at + 14, 0);
    }
}
