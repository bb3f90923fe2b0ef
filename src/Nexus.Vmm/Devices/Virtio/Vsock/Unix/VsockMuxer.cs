// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Nexus.Interop;
using Nexus.Vmm.Devices.Virtio.Vsock.Csm;
using Nexus.Vmm.VState;

namespace Nexus.Vmm.Devices.Virtio.Vsock.Unix;

/// <summary>What <see cref="VsockMuxer.TakeRx"/> put into the guest's buffer.</summary>
internal enum VsockRxResult
{
    /// <summary>A packet: the header, and for RW its payload.</summary>
    Packet,

    /// <summary>Nothing after all (EAGAIN, or host EOF queued a SHUTDOWN): the buffer goes back, ask again.</summary>
    Nothing,

    /// <summary>Data waits but the buffer holds a header only: the buffer goes back until the guest posts bigger ones.</summary>
    NeedsRoom,
}

/// <summary>
/// The host side of virtio-vsock as Firecracker's unix/muxer.rs: the connection table, the listener on <c>uds_path</c>
/// and its CONNECT handshakes, guest connections to <c>&lt;uds_path&gt;_P</c>, the control packets waiting for guest
/// buffers (rxq, capped) and the answer deadlines (killq, a timerfd). The device hands it checked guest packets and
/// asks it for packets to deliver; host socket events run through <c>deviceWork</c>, which takes the transport's lock
/// and lets the device move what became ready into the guest afterwards.
/// </summary>
internal sealed partial class VsockMuxer : IDisposable
{
    private readonly Dictionary<(uint Local, uint Peer), VsockConnection> _connections = [];
    private readonly Dictionary<Socket, (ulong Token, List<byte> Line)> _handshakes = [];
    private readonly Queue<VsockHeader> _control = new();
    private readonly ulong _guestCid;
    private readonly string _udsPath;
    private readonly EventLoop _events;
    private readonly VsockMetrics _metrics;
    private readonly Action<Action> _deviceWork;
    private readonly Socket _listener;
    private readonly ulong _listenerToken;
    private readonly TimerFd _deadlines = TimerFd.Create();
    private readonly ulong _deadlinesToken;
    private bool _deadlinesArmed;
    private uint _lastLocalPort = (1u << 30) - 1;

    /// <summary>Listens on <paramref name="udsPath"/> (which must not exist) for host-initiated connections.</summary>
    public VsockMuxer(ulong guestCid, string udsPath, EventLoop events, VsockMetrics metrics, Action<Action> deviceWork)
    {
        if (File.Exists(udsPath) || Directory.Exists(udsPath))
        {
            throw new IOException($"vsock: {udsPath} already exists; remove it or choose another --vsock path");
        }

        _guestCid = guestCid;
        _udsPath = udsPath;
        _events = events;
        _metrics = metrics;
        _deviceWork = deviceWork;
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { Blocking = false };
        try
        {
            _listener.Bind(new UnixDomainSocketEndPoint(udsPath));
            _listener.Listen(64);
        }
        catch (SocketException e)
        {
            _listener.Dispose();
            _deadlines.Dispose();
            throw new IOException($"vsock: cannot listen on {udsPath}: {e.Message}", e);
        }

        _listenerToken = events.Add(_listener.SafeHandle, PollEvents.Readable, _ => OnListenerReady());
        _deadlinesToken = events.Add(_deadlines.Handle, PollEvents.Readable, _ =>
        {
            if (_deadlines.TryRead(out ulong _))
            {
                _deviceWork(() => ExpireDeadlines(Stopwatch.GetTimestamp()));
            }
        });
    }

    public int ConnectionCount => _connections.Count;

    /// <summary>Something may go to the guest: a control packet, or a connection with host data and credit.</summary>
    public bool HasRx => _control.Count > 0 || NextSender() is not null;

    /// <summary>A checked guest packet (<see cref="VsockPacketCheck.Valid"/>); <paramref name="payload"/> is its data for RW.</summary>
    public void SendToHost(in VsockHeader header, ReadOnlySpan<byte> payload)
    {
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

        connection.UpdatePeerCredit(header);
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
                if (!connection.TryQueueToHost(payload))
                {
                    // The guest sent past the credit we gave it.
                    Kill(connection);
                    return;
                }

                if (!Flush(connection))
                {
                    return;
                }

                break;
            case VsockOp.CreditUpdate:
                break;
            case VsockOp.CreditRequest:
                QueueControl(connection.Reply(_guestCid, VsockOp.CreditUpdate));
                break;
            case VsockOp.Shutdown:
                connection.GuestDoneSending |= (header.Flags & VsockHeader.ShutdownSend) != 0;
                if ((header.Flags & (VsockHeader.ShutdownSend | VsockHeader.ShutdownReceive)) == (VsockHeader.ShutdownSend | VsockHeader.ShutdownReceive)
                    && connection.PendingToHostCount == 0)
                {
                    Kill(connection);
                    return;
                }

                if (!Flush(connection))
                {
                    return;
                }

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

    /// <summary>A malformed guest packet on (local, peer): the stream ends with an RST.</summary>
    public void Kill(uint localPort, uint peerPort)
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

    /// <summary>
    /// The next packet for a guest buffer with <paramref name="payloadRoom"/> bytes of room after the header: control
    /// packets first, then data of the next connection with host bytes and credit, read into <paramref name="payload"/>.
    /// </summary>
    public VsockRxResult TakeRx(int payloadRoom, Span<byte> payload, out VsockHeader header, out int length)
    {
        length = 0;
        if (_control.TryDequeue(out header))
        {
            return VsockRxResult.Packet;
        }

        if (NextSender() is not { } connection)
        {
            return VsockRxResult.Nothing;
        }

        var room = (int)Math.Min(Math.Min(payloadRoom, payload.Length), connection.PeerCredit);
        if (room == 0)
        {
            return VsockRxResult.NeedsRoom;
        }

        var n = connection.ReadFromHost(payload[..room]);
        if (n == 0)
        {
            Rearm(connection);
            return VsockRxResult.Nothing;
        }

        if (n < 0)
        {
            // Host EOF or a broken socket: tell the guest this side sends and receives no more.
            QueueControl(connection.Reply(_guestCid, VsockOp.Shutdown) with { Flags = VsockHeader.ShutdownSend | VsockHeader.ShutdownReceive });
            SetDeadline(connection);
            return VsockRxResult.Nothing;
        }

        header = connection.Reply(_guestCid, VsockOp.Rw) with { Len = (uint)n };
        connection.RxCount += (uint)n;
        length = n;
        return VsockRxResult.Packet;
    }

    /// <summary>Connections that ran out of credit ask the guest for more, once each.</summary>
    public void RequestCredit()
    {
        foreach (var connection in _connections.Values.Where(c => c.NeedsCreditRequest))
        {
            connection.CreditRequested = true;
            QueueControl(connection.Reply(_guestCid, VsockOp.CreditRequest));
        }
    }

    /// <summary>Ends every stream (host peers see EOF) and forgets queued control packets.</summary>
    public void CloseAll()
    {
        foreach (var connection in _connections.Values.ToList())
        {
            Close(connection);
        }

        _control.Clear();
    }

    /// <summary>The device was reset: streams end and no deadline is pending.</summary>
    public void Reset()
    {
        CloseAll();
        _deadlines.SetPeriodic(TimeSpan.Zero);
        _deadlinesArmed = false;
    }

    public void Dispose()
    {
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
        File.Delete(_udsPath);
    }

    /// <summary>
    /// Resets the streams whose guest did not answer in time (<see cref="VirtioVsock.AnswerTimeout"/>): a REQUEST nobody
    /// accepted or rejected, a SHUTDOWN nobody closed. Runs on the device thread when the deadline timer fires.
    /// </summary>
    private void ExpireDeadlines(long now)
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
    }

    /// <summary>A guest REQUEST to host port P: connect to uds_path_P; RESPONSE on success, RST otherwise.</summary>
    private void ConnectToHost(VsockHeader request)
    {
        if (_connections.Count >= VirtioVsock.MaxConnections)
        {
            SendReset(request.DstPort, request.SrcPort);
            return;
        }

        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { Blocking = false };
        try
        {
            // Non-blocking: a full backlog fails at once instead of stalling the device thread.
            socket.Connect(new UnixDomainSocketEndPoint(string.Create(CultureInfo.InvariantCulture, $"{_udsPath}_{request.DstPort}")));
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
        QueueControl(connection.Reply(_guestCid, VsockOp.Response));
    }

    private void Register(VsockConnection connection)
    {
        _connections[(connection.LocalPort, connection.PeerPort)] = connection;
        connection.Token = _events.Add(connection.Host.SafeHandle, PollEvents.Readable | PollEvents.OneShot, events => OnHostSocketReady(connection, events));
    }

    private void OnHostSocketReady(VsockConnection connection, PollEvents events) => _deviceWork(() =>
    {
        if (!_connections.ContainsKey((connection.LocalPort, connection.PeerPort)))
        {
            return;
        }

        if ((events & (PollEvents.Readable | PollEvents.Hangup | PollEvents.Error)) != 0)
        {
            connection.HostReadable = true;
        }

        if (Flush(connection))
        {
            Rearm(connection);
        }
    });

    private void SetDeadline(VsockConnection connection)
    {
        connection.Deadline = Stopwatch.GetTimestamp() + (long)(VirtioVsock.AnswerTimeout.TotalSeconds * Stopwatch.Frequency);
        if (!_deadlinesArmed)
        {
            // A quarter of the timeout: a stream ends between 2 and 2.5 s after its deadline was set.
            _deadlines.SetPeriodic(VirtioVsock.AnswerTimeout / 4);
            _deadlinesArmed = true;
        }
    }

    private VsockConnection? NextSender() => _connections.Values.FirstOrDefault(c => c.CanSendToGuest);

    /// <summary>Writes pending guest data to the host and reports freed space; false when the connection died doing so.</summary>
    private bool Flush(VsockConnection connection)
    {
        if (!connection.FlushToHost())
        {
            Kill(connection);
            return false;
        }

        if (connection.OwesCreditUpdate)
        {
            QueueControl(connection.Reply(_guestCid, VsockOp.CreditUpdate));
        }

        return true;
    }

    private void Rearm(VsockConnection connection)
    {
        var events = connection.WantedEvents;
        if (events != PollEvents.OneShot)
        {
            _events.Modify(connection.Host.SafeHandle, connection.Token, events);
        }
    }

    private void QueueControl(VsockHeader header)
    {
        if (_control.Count >= VirtioVsock.MaxPendingControl)
        {
            _metrics.DroppedPackets++;
            return;
        }

        _control.Enqueue(header);
    }

    private void SendReset(uint localPort, uint peerPort)
    {
        _metrics.ResetsSent++;
        QueueControl(new VsockHeader(VsockHeader.HostCid, _guestCid, localPort, peerPort, 0, VsockHeader.TypeStream, VsockOp.Rst, 0, VirtioVsock.BufferSize, 0));
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
