// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Nexus.Interop;
using Nexus.Vmm.Devices.Virtio.Transport;
using Nexus.Vmm.VState;

namespace Nexus.Vmm.Devices.Virtio.Vsock;

/// <summary>
/// virtio-vsock (device 19) with the host side bridged to Unix stream sockets as Firecracker does: a guest
/// connection to host port P connects to <c>&lt;uds_path&gt;_P</c>; a host client connects to <c>uds_path</c>,
/// writes <c>CONNECT &lt;port&gt;\n</c> and, once the guest accepts, reads <c>OK &lt;host port&gt;\n</c>.
/// Every header the guest writes is checked before use (CIDs, type, op, length against the chain and the 64 KiB
/// packet cap); a bad one is answered with RST or dropped, never trusted. All work runs under the transport's
/// lock: queue notifications on the VM's device thread, host sockets from the same thread's epoll loop.
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
    private const uint CreditUpdateThreshold = 4096;
    private const int ConnectLineMax = 32;

    private readonly Queue[] _queues = [new(QueueSize), new(QueueSize), new(QueueSize)];
    private readonly Dictionary<(uint Local, uint Peer), VsockConnection> _connections = [];
    private readonly Dictionary<Socket, (ulong Token, List<byte> Line)> _handshakes = [];
    private readonly Queue<VsockHeader> _control = new();
    private readonly EventLoop _events;
    private readonly Socket _listener;
    private readonly ulong _listenerToken;
    private readonly TimerFd _deadlines = TimerFd.Create();
    private readonly ulong _deadlinesToken;
    private bool _deadlinesArmed;
    private readonly byte[] _buffer = new byte[MaxPayload];
    private MmioTransport? _transport;
    private GuestMemory? _memory;
    private VirtioInterrupt? _interrupt;
    private uint _lastLocalPort = (1u << 30) - 1;
    private bool _disposed;

    /// <summary>Listens on <paramref name="udsPath"/> for host-initiated connections; it must not exist yet.</summary>
    public VirtioVsock(ulong guestCid, string udsPath, EventLoop events)
    {
        if (guestCid is < 3 or >= uint.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(guestCid), $"vsock guest CID {guestCid}: must be 3..{uint.MaxValue - 1} (0-2 are reserved)");
        }

        if (File.Exists(udsPath) || Directory.Exists(udsPath))
        {
            throw new IOException($"vsock: {udsPath} already exists; remove it or choose another --vsock path");
        }

        GuestCid = guestCid;
        UdsPath = udsPath;
        _events = events;
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { Blocking = false };
        try
        {
            _listener.Bind(new UnixDomainSocketEndPoint(udsPath));
            _listener.Listen(64);
        }
        catch (SocketException e)
        {
            _listener.Dispose();
            throw new IOException($"vsock: cannot listen on {udsPath}: {e.Message}", e);
        }

        _listenerToken = events.Add(_listener.SafeHandle, PollEvents.Readable, _ => OnListenerReady());
        _deadlinesToken = events.Add(_deadlines.Handle, PollEvents.Readable, _ =>
        {
            if (_deadlines.TryRead(out ulong _))
            {
                _transport?.RunDeviceWork(() => ExpireDeadlines(Stopwatch.GetTimestamp()));
            }
        });
        AvailableFeatures = 1UL << VirtioIds.FeatureVersion1;
    }

    public ulong GuestCid { get; }

    public string UdsPath { get; }

    public uint DeviceType => VirtioIds.Vsock;

    public ulong AvailableFeatures { get; }

    public IReadOnlyList<Queue> Queues => _queues;

    /// <summary>Open connections (host- and guest-initiated).</summary>
    public int ConnectionCount => _connections.Count;

    /// <summary>Guest packets dropped without a reply: too short for a header, or a foreign source or destination CID.</summary>
    public long DroppedPackets { get; private set; }

    /// <summary>Transport resets (one per snapshot of the VM).</summary>
    public long TransportResets { get; private set; }

    /// <summary>RSTs sent to the guest (refused connections, bad packets, overruns, failed host sockets).</summary>
    public long ResetsSent { get; private set; }

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

    /// <summary>
    /// Ends every stream (host peers see EOF) and tells the guest through the event queue
    /// (VIRTIO_VSOCK_EVENT_TRANSPORT_RESET), as Firecracker does when it snapshots a VM: its streams cannot follow it.
    /// </summary>
    public void ResetTransport()
    {
        foreach (var connection in _connections.Values.ToList())
        {
            Close(connection);
        }

        _control.Clear();
        TransportResets++;
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
        foreach (var connection in _connections.Values.ToList())
        {
            Close(connection);
        }

        _control.Clear();
        _deadlines.SetPeriodic(TimeSpan.Zero);
        _deadlinesArmed = false;
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
        foreach (var (socket, handshake) in _handshakes)
        {
            _events.Remove(socket.SafeHandle, handshake.Token);
            socket.Dispose();
        }

        _handshakes.Clear();
        _events.Remove(_listener.SafeHandle, _listenerToken);
        _listener.Dispose();
        _events.Remove(_deadlines.Handle, _deadlinesToken);
        _deadlines.Dispose();
        File.Delete(UdsPath);
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

    private void HandleGuestPacket(DescriptorChain chain, GuestMemory memory)
    {
        if (chain.ReadableLength < VsockHeader.Size)
        {
            DroppedPackets++;
            return;
        }

        Span<byte> raw = stackalloc byte[VsockHeader.Size];
        chain.ReadReadable(memory, 0, raw);
        var header = VsockHeader.Read(raw);
        switch (header.Check(GuestCid, chain.ReadableLength, MaxPayload))
        {
            case VsockPacketCheck.NotForHost:
                DroppedPackets++;
                return;
            case VsockPacketCheck.Malformed:
                if (header.Op != VsockOp.Rst)
                {
                    Kill(header.DstPort, header.SrcPort);
                }

                return;
        }

        var connection = _connections.GetValueOrDefault((header.DstPort, header.SrcPort));
        if (connection is null)
        {
            if (header.Op == VsockOp.Request)
            {
                ConnectToHost(header);
            }
            else if (header.Op != VsockOp.Rst)
            {
                SendReset(header.DstPort, header.SrcPort);
            }

            return;
        }

        connection.PeerBufAlloc = header.BufAlloc;
        connection.PeerForwardedCount = header.FwdCnt;
        connection.CreditRequested = false;
        switch (header.Op)
        {
            case VsockOp.Response when connection.State == VsockConnectionState.LocalInit:
                connection.State = VsockConnectionState.Established;
                connection.Deadline = null;

                // A fresh socket's send buffer takes the short line whole; if not, the host end is gone.
                var ok = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"OK {connection.LocalPort}\n"));
                if (connection.Host.Send(ok, SocketFlags.None, out var okError) != ok.Length || okError != SocketError.Success)
                {
                    Kill(connection);
                    return;
                }

                connection.HostReadable = true;
                break;
            case VsockOp.Rw when connection.State == VsockConnectionState.Established:
                var payload = _buffer.AsSpan(0, (int)header.Len);
                chain.ReadReadable(memory, VsockHeader.Size, payload);
                if (!connection.TryQueueToHost(payload))
                {
                    // The guest sent past the credit we gave it.
                    Kill(connection);
                    return;
                }

                FlushToHost(connection);
                break;
            case VsockOp.CreditUpdate:
                break;
            case VsockOp.CreditRequest:
                QueueControl(Reply(connection, VsockOp.CreditUpdate));
                break;
            case VsockOp.Shutdown:
                connection.GuestDoneSending |= (header.Flags & VsockHeader.ShutdownSend) != 0;
                if ((header.Flags & (VsockHeader.ShutdownSend | VsockHeader.ShutdownReceive)) == (VsockHeader.ShutdownSend | VsockHeader.ShutdownReceive)
                    && connection.PendingToHostCount == 0)
                {
                    Kill(connection);
                    return;
                }

                FlushToHost(connection);
                break;
            case VsockOp.Rst:
                Close(connection);
                return;
            default:
                // A RESPONSE to nothing we asked, a REQUEST on an open pair, data before the handshake.
                Kill(connection);
                return;
        }

        Rearm(connection);
    }

    /// <summary>A guest REQUEST to host port P: connect to uds_path_P; RESPONSE on success, RST otherwise.</summary>
    private void ConnectToHost(VsockHeader request)
    {
        if (_connections.Count >= MaxConnections)
        {
            SendReset(request.DstPort, request.SrcPort);
            return;
        }

        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { Blocking = false };
        try
        {
            // Non-blocking: a full backlog fails at once instead of stalling the device thread.
            socket.Connect(new UnixDomainSocketEndPoint(string.Create(CultureInfo.InvariantCulture, $"{UdsPath}_{request.DstPort}")));
        }
        catch (SocketException)
        {
            socket.Dispose();
            SendReset(request.DstPort, request.SrcPort);
            return;
        }

        var connection = new VsockConnection(request.DstPort, request.SrcPort, socket, VsockConnectionState.Established)
        {
            PeerBufAlloc = request.BufAlloc,
            PeerForwardedCount = request.FwdCnt,
        };
        Register(connection);
        QueueControl(Reply(connection, VsockOp.Response));
    }

    private void Register(VsockConnection connection)
    {
        _connections[(connection.LocalPort, connection.PeerPort)] = connection;
        connection.Token = _events.Add(connection.Host.SafeHandle, PollEvents.Readable | PollEvents.OneShot, events => OnHostSocketReady(connection, events));
    }

    private void OnHostSocketReady(VsockConnection connection, PollEvents events)
    {
        _transport?.RunDeviceWork(() =>
        {
            if (!_connections.ContainsKey((connection.LocalPort, connection.PeerPort)))
            {
                return;
            }

            if ((events & (PollEvents.Readable | PollEvents.Hangup | PollEvents.Error)) != 0)
            {
                connection.HostReadable = true;
            }

            if (!FlushToHost(connection))
            {
                return;
            }

            PumpRx();
            if (_connections.ContainsKey((connection.LocalPort, connection.PeerPort)))
            {
                Rearm(connection);
            }
        });
    }

    /// <summary>Host-initiated connections: accept each, then read its CONNECT line.</summary>
    private void OnListenerReady()
    {
        while (true)
        {
            Socket client;
            try
            {
                client = _listener.Accept();
            }
            catch (SocketException)
            {
                return;
            }

            client.Blocking = false;
            if (_handshakes.Count + _connections.Count >= MaxConnections)
            {
                client.Dispose();
                continue;
            }

            var line = new List<byte>();
            var token = _events.Add(client.SafeHandle, PollEvents.Readable, _ => OnConnectLine(client));
            _handshakes[client] = (token, line);
        }
    }

    private void OnConnectLine(Socket client)
    {
        var (token, line) = _handshakes[client];
        Span<byte> chunk = stackalloc byte[ConnectLineMax];
        var n = client.Receive(chunk, SocketFlags.None, out var error);
        if (error == SocketError.WouldBlock)
        {
            return;
        }

        line.AddRange(chunk[..Math.Max(n, 0)].ToArray());
        var newline = line.IndexOf((byte)'\n');
        if (error == SocketError.Success && n > 0 && newline < 0 && line.Count < ConnectLineMax)
        {
            return;
        }

        _events.Remove(client.SafeHandle, token);
        _handshakes.Remove(client);
        var port = newline < 0 ? null : ParseConnect(Encoding.ASCII.GetString(line.ToArray(), 0, newline));
        var started = false;
        if (port is { } p)
        {
            _transport?.RunDeviceWork(() => started = StartHostConnection(client, p, [.. line.Skip(newline + 1)]));
        }

        if (!started)
        {
            client.Dispose();
        }
    }

    /// <summary>Parses "CONNECT &lt;port&gt;" (keyword in any case), or null.</summary>
    public static uint? ParseConnect(string line)
    {
        var parts = line.TrimEnd('\r').Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return parts.Length == 2 && parts[0].Equals("connect", StringComparison.OrdinalIgnoreCase)
            && uint.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            ? port
            : null;
    }

    /// <summary>Sends the guest a REQUEST for a host client; false (the client is refused) when the table is full.</summary>
    private bool StartHostConnection(Socket client, uint guestPort, byte[] prefix)
    {
        if (_connections.Count >= MaxConnections)
        {
            return false;
        }

        uint local;
        do
        {
            _lastLocalPort = ((_lastLocalPort + 1) & ~(1u << 31)) | (1u << 30);
            local = _lastLocalPort;
        }
        while (_connections.ContainsKey((local, guestPort)));

        var connection = new VsockConnection(local, guestPort, client, VsockConnectionState.LocalInit) { Prefix = prefix };
        Register(connection);
        QueueControl(Reply(connection, VsockOp.Request));
        SetDeadline(connection);
        PumpRx();
        return true;
    }

    /// <summary>
    /// Resets the streams whose guest did not answer in time (<see cref="AnswerTimeout"/>): a REQUEST nobody accepted
    /// or rejected, a SHUTDOWN nobody closed. Runs on the device thread when the deadline timer fires.
    /// </summary>
    internal void ExpireDeadlines(long now)
    {
        foreach (var connection in _connections.Values.Where(c => c.Deadline <= now).ToList())
        {
            Kill(connection);
        }

        if (!_connections.Values.Any(c => c.Deadline is not null) && _deadlinesArmed)
        {
            _deadlines.SetPeriodic(TimeSpan.Zero);
            _deadlinesArmed = false;
        }

        PumpRx();
    }

    private void SetDeadline(VsockConnection connection)
    {
        connection.Deadline = Stopwatch.GetTimestamp() + (long)(AnswerTimeout.TotalSeconds * Stopwatch.Frequency);
        if (!_deadlinesArmed)
        {
            // A quarter of the timeout: a stream ends between 2 and 2.5 s after its deadline was set.
            _deadlines.SetPeriodic(AnswerTimeout / 4);
            _deadlinesArmed = true;
        }
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
        while (true)
        {
            // Control packets first; otherwise the next connection with host data and credit.
            var sender = _control.Count > 0 ? null : NextSender();
            if (_control.Count == 0 && sender is null)
            {
                break;
            }

            if (queue.Pop(memory) is not { } chain)
            {
                break;
            }

            if (chain.WritableLength < VsockHeader.Size)
            {
                // A guest bug: the buffer cannot hold a header. Return it empty.
                queue.AddUsed(memory, chain.Head, 0);
                used = true;
                continue;
            }

            if (sender is null)
            {
                _control.Dequeue().Write(raw);
                chain.WriteWritable(memory, 0, raw);
                queue.AddUsed(memory, chain.Head, VsockHeader.Size);
                used = true;
                continue;
            }

            var connection = sender;
            var room = (int)Math.Min(Math.Min(chain.WritableLength - VsockHeader.Size, MaxPayload), connection.PeerCredit);
            if (room == 0)
            {
                // A header-sized buffer holds control packets only: wait for bigger ones.
                queue.UndoPop();
                break;
            }
            var n = ReadFromHost(connection, _buffer.AsSpan(0, room));
            if (n <= 0)
            {
                // Nothing after all (EAGAIN re-armed the fd; EOF queued a SHUTDOWN): give the buffer back.
                queue.UndoPop();
                continue;
            }

            var rw = Reply(connection, VsockOp.Rw) with { Len = (uint)n };
            rw.Write(raw);
            chain.WriteWritable(memory, 0, raw);
            chain.WriteWritable(memory, VsockHeader.Size, _buffer.AsSpan(0, n));
            queue.AddUsed(memory, chain.Head, (uint)(VsockHeader.Size + n));
            connection.RxCount += (uint)n;
            used = true;
        }

        // Connections that ran out of credit ask for more once.
        foreach (var c in _connections.Values)
        {
            if (c.State == VsockConnectionState.Established && c.HostReadable && !c.HostEof && c.PeerCredit == 0 && !c.CreditRequested)
            {
                c.CreditRequested = true;
                QueueControl(Reply(c, VsockOp.CreditRequest));
            }
        }

        if (used)
        {
            _interrupt!.Signal(VirtioInterrupt.UsedRing);
        }
    }

    private VsockConnection? NextSender() =>
        _connections.Values.FirstOrDefault(c => c.State == VsockConnectionState.Established && c.HostReadable && !c.HostEof && c.PeerCredit > 0);

    /// <summary>Reads host bytes for the guest: the CONNECT prefix first, then the socket. 0 when there is nothing now.</summary>
    private int ReadFromHost(VsockConnection connection, Span<byte> destination)
    {
        if (connection.Prefix.Length > 0)
        {
            var n = Math.Min(destination.Length, connection.Prefix.Length);
            connection.Prefix.AsSpan(0, n).CopyTo(destination);
            connection.Prefix = connection.Prefix[n..];
            return n;
        }

        var read = connection.Host.Receive(destination, SocketFlags.None, out var error);
        if (error == SocketError.WouldBlock)
        {
            connection.HostReadable = false;
            Rearm(connection);
            return 0;
        }

        if (error != SocketError.Success || read == 0)
        {
            // Host EOF or a broken socket: tell the guest this side sends and receives no more.
            connection.HostReadable = false;
            connection.HostEof = true;
            QueueControl(Reply(connection, VsockOp.Shutdown) with { Flags = VsockHeader.ShutdownSend | VsockHeader.ShutdownReceive });
            SetDeadline(connection);
            return 0;
        }

        return read;
    }

    /// <summary>Writes pending guest data to the host socket; false when the connection died doing so.</summary>
    private bool FlushToHost(VsockConnection connection)
    {
        if (connection.PendingToHostCount > 0)
        {
            var written = connection.Host.Send(connection.PendingToHost, SocketFlags.None, out var error);
            if (error is not (SocketError.Success or SocketError.WouldBlock))
            {
                Kill(connection);
                return false;
            }

            written = Math.Max(written, 0);
            connection.ConsumePendingToHost(written);
            connection.ForwardedCount += (uint)written;
        }

        if (connection.PendingToHostCount == 0 && connection.GuestDoneSending && !connection.HostWriteShut)
        {
            connection.HostWriteShut = true;
            connection.Host.Shutdown(SocketShutdown.Send);
        }

        // Tell the guest about freed buffer space before it stalls (Firecracker's threshold rule).
        if (BufferSize - (connection.ForwardedCount - connection.ReportedForwardedCount) < CreditUpdateThreshold)
        {
            QueueControl(Reply(connection, VsockOp.CreditUpdate));
        }

        return true;
    }

    private void Rearm(VsockConnection connection)
    {
        var events = PollEvents.OneShot;
        if (!connection.HostReadable && !connection.HostEof)
        {
            events |= PollEvents.Readable;
        }

        if (connection.PendingToHostCount > 0)
        {
            events |= PollEvents.Writable;
        }

        if (events != PollEvents.OneShot)
        {
            _events.Modify(connection.Host.SafeHandle, connection.Token, events);
        }
    }

    private VsockHeader Reply(VsockConnection connection, VsockOp op)
    {
        if (op is VsockOp.Rw or VsockOp.CreditUpdate or VsockOp.Response or VsockOp.Request)
        {
            connection.ReportedForwardedCount = connection.ForwardedCount;
        }

        return new VsockHeader(VsockHeader.HostCid, GuestCid, connection.LocalPort, connection.PeerPort, 0, VsockHeader.TypeStream, op, 0, BufferSize, connection.ForwardedCount);
    }

    private void QueueControl(VsockHeader header)
    {
        if (_control.Count >= MaxPendingControl)
        {
            DroppedPackets++;
            return;
        }

        _control.Enqueue(header);
    }

    private void SendReset(uint localPort, uint peerPort)
    {
        ResetsSent++;
        QueueControl(new VsockHeader(VsockHeader.HostCid, GuestCid, localPort, peerPort, 0, VsockHeader.TypeStream, VsockOp.Rst, 0, BufferSize, 0));
    }

    private void Kill(uint localPort, uint peerPort)
    {
        if (_connections.GetValueOrDefault((localPort, peerPort)) is { } connection)
        {
            Kill(connection);
        }
        else
        {
            SendReset(localPort, peerPort);
        }
    }

    private void Kill(VsockConnection connection)
    {
        Close(connection);
        SendReset(connection.LocalPort, connection.PeerPort);
    }

    private void Close(VsockConnection connection)
    {
        _connections.Remove((connection.LocalPort, connection.PeerPort));
        _events.Remove(connection.Host.SafeHandle, connection.Token);
        connection.Host.Dispose();
    }
}
