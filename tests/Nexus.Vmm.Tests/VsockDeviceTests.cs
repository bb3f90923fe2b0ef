// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net.Sockets;
using System.Text;
using Nexus.Vmm.Devices.Virtio;
using Nexus.Vmm.Devices.Virtio.Vsock;
using Nexus.Vmm.VState;

namespace Nexus.Vmm.Tests;

/// <summary>The virtio-vsock device against hostile guest packets, on plain guest memory (no KVM).</summary>
public sealed class VsockDeviceTests : IDisposable
{
    private const ulong GuestCid = 3;
    private const ushort Size = 8;
    private const ulong RxBuffers = 0x100000;
    private const ulong TxBuffer = 0x200000;

    private readonly string _dir = Directory.CreateTempSubdirectory("nexus-vsock-").FullName;
    private readonly GuestMemory _memory = new();
    private readonly EventLoop _events = new("test-devices");
    private readonly VirtioVsock _vsock;
    private ushort _txAvail;
    private ushort _rxUsedSeen;

    public VsockDeviceTests()
    {
        _memory.Add(GuestMemory.Anonymous(0, 16 << 20));
        _vsock = new VirtioVsock(GuestCid, Path.Combine(_dir, "v.sock"), _events);
        for (var q = 0; q < 3; q++)
        {
            var queue = _vsock.Queues[q];
            queue.Size = Size;
            queue.Ready = true;
            queue.DescTable = (ulong)(0x1000 + (q * 0x3000));
            queue.AvailRing = queue.DescTable + 0x1000;
            queue.UsedRing = queue.DescTable + 0x2000;
        }

        var rx = _vsock.Queues[0];
        for (ushort i = 0; i < Size; i++)
        {
            WriteDesc(rx, i, RxBuffers + (i * 0x1000UL), 4096, DescriptorChain.FlagWrite);
            _memory.WriteU16(rx.AvailRing + 4 + (2UL * i), i);
        }

        _memory.WriteU16(rx.AvailRing + 2, Size);
        _vsock.Activate(_memory, new VirtioInterrupt(() => { }), 1UL << VirtioIds.FeatureVersion1);
    }

    public void Dispose()
    {
        _vsock.Dispose();
        _events.Dispose();
        _memory.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void HeaderRoundTripsThroughItsWireLayout()
    {
        var header = new VsockHeader(3, 2, 5000, 1234, 16, 1, VsockOp.Rw, 3, 65536, 99);
        var raw = new byte[VsockHeader.Size];
        header.Write(raw);
        Assert.Equal(header, VsockHeader.Read(raw));
        Assert.Equal(5, raw[30]);
        Assert.Equal(99, raw[40]);
    }

    [Theory]
    [InlineData("CONNECT 52", 52u)]
    [InlineData("connect 1234\r", 1234u)]
    [InlineData("CONNECT", null)]
    [InlineData("CONNECT -1", null)]
    [InlineData("CONNECT +7", null)]
    [InlineData("CONNECT 52 extra", null)]
    [InlineData("CONNECT 99999999999", null)]
    [InlineData("LISTEN 52", null)]
    public void ConnectLineIsParsedStrictly(string line, uint? port) => Assert.Equal(port, VirtioVsock.ParseConnect(line));

    [Fact]
    public void ShortPacketsAndForeignCidsAreDroppedWithoutReply()
    {
        SendRaw(new byte[20]);
        Send(new VsockHeader(7, 2, 5000, 1234, 0, 1, VsockOp.Request, 0, 65536, 0));
        Send(new VsockHeader(GuestCid, 9, 5000, 1234, 0, 1, VsockOp.Request, 0, 65536, 0));

        Assert.Equal(3, _vsock.Metrics.DroppedPackets);
        Assert.Empty(Replies());
    }

    [Fact]
    public void BadLengthTypeOrOpIsAnsweredWithRst()
    {
        // Claims 60000 payload bytes in a 49-byte chain; a datagram type; an op the protocol does not have.
        Send(new VsockHeader(GuestCid, 2, 5002, 1234, 60000, 1, VsockOp.Rw, 0, 65536, 0), "short"u8.ToArray());
        Send(new VsockHeader(GuestCid, 2, 5003, 1234, 0, 2, VsockOp.Request, 0, 65536, 0));
        Send(new VsockHeader(GuestCid, 2, 5004, 1234, 0, 1, (VsockOp)99, 0, 65536, 0));
        Send(new VsockHeader(GuestCid, 2, 5005, 1234, 70000, 1, VsockOp.Rw, 0, 65536, 0), new byte[70000 - VsockHeader.Size]);

        var replies = Replies();
        Assert.Equal([5002u, 5003u, 5004u, 5005u], replies.Select(r => r.DstPort));
        Assert.All(replies, r => Assert.Equal(VsockOp.Rst, r.Op));
        Assert.All(replies, r => Assert.Equal((GuestCid, VsockHeader.HostCid, 1234u), (r.DstCid, r.SrcCid, r.SrcPort)));
        Assert.Equal(0, _vsock.ConnectionCount);
    }

    [Fact]
    public void GuestConnectionBridgesToTheHostPortSocket()
    {
        // Nobody listens on port 1234: RST. Port 1235 has a listener: RESPONSE, then the data reaches it.
        Send(new VsockHeader(GuestCid, 2, 5000, 1234, 0, 1, VsockOp.Request, 0, 65536, 0));
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(Path.Combine(_dir, "v.sock_1235")));
        listener.Listen();
        Send(new VsockHeader(GuestCid, 2, 5001, 1235, 0, 1, VsockOp.Request, 0, 65536, 0));
        using var host = listener.Accept();
        Send(new VsockHeader(GuestCid, 2, 5001, 1235, 5, 1, VsockOp.Rw, 0, 65536, 0), "hello"u8.ToArray());

        var replies = Replies();
        Assert.Equal([(VsockOp.Rst, 5000u), (VsockOp.Response, 5001u)], replies.Select(r => (r.Op, r.DstPort)));
        var received = new byte[5];
        Assert.Equal(5, host.Receive(received));
        Assert.Equal("hello", Encoding.ASCII.GetString(received));
        Assert.Equal(1, _vsock.ConnectionCount);

        // SHUTDOWN both ways closes the pair with RST, and the host end sees EOF.
        Send(new VsockHeader(GuestCid, 2, 5001, 1235, 0, 1, VsockOp.Shutdown, 3, 65536, 0));
        var closing = Replies();
        Assert.Equal(VsockOp.Rst, Assert.Single(closing).Op);
        Assert.Equal(0, _vsock.ConnectionCount);
        Assert.Equal(0, host.Receive(received));
    }

    [Fact]
    public void GuestIgnoringItsCreditIsResetOnceTheBufferIsFull()
    {
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(Path.Combine(_dir, "v.sock_1236")));
        listener.Listen();
        Send(new VsockHeader(GuestCid, 2, 5006, 1236, 0, 1, VsockOp.Request, 0, 65536, 0));
        using var host = listener.Accept();
        Assert.Equal(VsockOp.Response, Assert.Single(Replies()).Op);

        // The host never reads: its socket buffer fills, then the device's 64 KiB; the packet after that is an overrun.
        var chunk = new byte[60000];
        var sent = 0;
        while (_vsock.ConnectionCount == 1 && sent < 100)
        {
            Send(new VsockHeader(GuestCid, 2, 5006, 1236, (uint)chunk.Length, 1, VsockOp.Rw, 0, 65536, 0), chunk);
            sent++;
        }

        Assert.Equal(0, _vsock.ConnectionCount);
        Assert.Contains(Replies(), r => r.Op == VsockOp.Rst && r.DstPort == 5006);
        Assert.True(sent > 1, "the first packet already overran");
    }

    private void Send(VsockHeader header, byte[]? payload = null)
    {
        var raw = new byte[VsockHeader.Size + (payload?.Length ?? 0)];
        header.Write(raw);
        payload?.CopyTo(raw, VsockHeader.Size);
        SendRaw(raw);
    }

    private void SendRaw(byte[] packet)
    {
        var tx = _vsock.Queues[1];
        _memory.Write(TxBuffer, packet);
        WriteDesc(tx, 0, TxBuffer, (uint)packet.Length, 0);
        _memory.WriteU16(tx.AvailRing + 4 + (2UL * (ulong)(_txAvail % Size)), 0);
        _memory.WriteU16(tx.AvailRing + 2, ++_txAvail);
        _vsock.ProcessQueue(1);
    }

    /// <summary>Packets the device put into RX buffers since the last call.</summary>
    private List<VsockHeader> Replies()
    {
        var rx = _vsock.Queues[0];
        var replies = new List<VsockHeader>();
        var raw = new byte[VsockHeader.Size];
        for (var used = _memory.ReadU16(rx.UsedRing + 2); _rxUsedSeen != used; _rxUsedSeen++)
        {
            var id = _memory.ReadU32(rx.UsedRing + 4 + (8UL * (ulong)(_rxUsedSeen % Size)));
            _memory.Read(RxBuffers + (id * 0x1000UL), raw);
            replies.Add(VsockHeader.Read(raw));

            // Recycle the buffer as a driver would.
            var avail = _memory.ReadU16(rx.AvailRing + 2);
            _memory.WriteU16(rx.AvailRing + 4 + (2UL * (ulong)(avail % Size)), (ushort)id);
            _memory.WriteU16(rx.AvailRing + 2, (ushort)(avail + 1));
        }

        return replies;
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
