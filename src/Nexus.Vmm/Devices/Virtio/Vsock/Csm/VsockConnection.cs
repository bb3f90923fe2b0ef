// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net.Sockets;
using Nexus.Interop;

namespace Nexus.Vmm.Devices.Virtio.Vsock.Csm;

/// <summary>Where a connection is in its handshake.</summary>
public enum VsockConnectionState
{
    /// <summary>The host connected and sent CONNECT; our REQUEST waits for the guest's RESPONSE.</summary>
    LocalInit,

    Established,
}

/// <summary>
/// One guest AF_VSOCK stream bridged to a host Unix stream socket (Firecracker's csm/connection.rs): its state, the
/// virtio-vsock credit accounting in wrapping u32 arithmetic (what we may send the guest, what we forwarded), and the
/// byte moves between its host socket and the guest. What to do when it fails is the muxer's decision.
/// </summary>
public sealed class VsockConnection
{
    /// <summary>Freed buffer space is reported to the guest once less than this much of what we advertise is left unreported.</summary>
    private const uint CreditUpdateThreshold = 4096;

    private byte[]? _toHost;

    internal VsockConnection(uint localPort, uint peerPort, Socket host, VsockConnectionState state)
    {
        LocalPort = localPort;
        PeerPort = peerPort;
        Host = host;
        State = state;
    }

    /// <summary>The host-side (CID 2) port.</summary>
    public uint LocalPort { get; }

    /// <summary>The guest-side port.</summary>
    public uint PeerPort { get; }

    public VsockConnectionState State { get; internal set; }

    internal Socket Host { get; }

    internal ulong Token { get; set; }

    /// <summary>Bytes sent to the guest in RW packets.</summary>
    internal uint RxCount { get; set; }

    /// <summary>Bytes of guest data written to the host socket (the fwd_cnt we report).</summary>
    internal uint ForwardedCount { get; set; }

    /// <summary>The fwd_cnt last reported to the guest.</summary>
    internal uint ReportedForwardedCount { get; set; }

    internal uint PeerBufAlloc { get; set; }

    internal uint PeerForwardedCount { get; set; }

    /// <summary>The host socket has (or may have) bytes to read; cleared on EAGAIN, when the fd is re-armed.</summary>
    internal bool HostReadable { get; set; }

    internal bool HostEof { get; set; }

    /// <summary>The guest said it sends no more (SHUTDOWN with SEND): shut the host socket's write side once flushed.</summary>
    internal bool GuestDoneSending { get; set; }

    /// <summary>The host socket's write side was shut down (after the guest's SHUTDOWN SEND and a full flush).</summary>
    internal bool HostWriteShut { get; set; }

    /// <summary>
    /// Stopwatch timestamp by which the guest must answer: our REQUEST (host-initiated) or our SHUTDOWN after host EOF.
    /// Past it the connection is reset (Firecracker's 2 s CONN_REQUEST_TIMEOUT_MS / CONN_SHUTDOWN_TIMEOUT_MS).
    /// </summary>
    internal long? Deadline { get; set; }

    /// <summary>A CREDIT_REQUEST is outstanding (sent when the guest's credit ran out).</summary>
    internal bool CreditRequested { get; set; }

    /// <summary>Host bytes that arrived with the CONNECT line, sent to the guest before anything read later.</summary>
    internal byte[] Prefix { get; set; } = [];

    /// <summary>Guest data the host socket did not take yet, at most <see cref="VirtioVsock.BufferSize"/> (what we advertise).</summary>
    internal ReadOnlySpan<byte> PendingToHost => _toHost.AsSpan(0, PendingToHostCount);

    internal int PendingToHostCount { get; private set; }

    /// <summary>
    /// Bytes we may send the guest now: its buf_alloc minus what is in flight (sent, not yet consumed). A guest
    /// reporting more consumed than was sent gets nothing.
    /// </summary>
    internal uint PeerCredit
    {
        get
        {
            var inFlight = RxCount - PeerForwardedCount;
            return inFlight > PeerBufAlloc ? 0 : PeerBufAlloc - inFlight;
        }
    }

    /// <summary>Host data may go to the guest now: established, readable, not at EOF, with credit.</summary>
    internal bool CanSendToGuest => State == VsockConnectionState.Established && HostReadable && !HostEof && PeerCredit > 0;

    /// <summary>Host data waits but the guest's credit ran out, and no CREDIT_REQUEST is outstanding yet.</summary>
    internal bool NeedsCreditRequest => State == VsockConnectionState.Established && HostReadable && !HostEof && PeerCredit == 0 && !CreditRequested;

    /// <summary>The guest should hear of freed buffer space before it stalls (Firecracker's threshold rule).</summary>
    internal bool OwesCreditUpdate => VirtioVsock.BufferSize - (ForwardedCount - ReportedForwardedCount) < CreditUpdateThreshold;

    /// <summary>What the host socket must be watched for next (one-shot); <see cref="PollEvents.OneShot"/> alone when nothing.</summary>
    internal PollEvents WantedEvents
    {
        get
        {
            var events = PollEvents.OneShot;
            if (!HostReadable && !HostEof)
            {
                events |= PollEvents.Readable;
            }

            if (PendingToHostCount > 0)
            {
                events |= PollEvents.Writable;
            }

            return events;
        }
    }

    /// <summary>Takes the credit fields every guest packet carries.</summary>
    internal void UpdatePeerCredit(in VsockHeader header)
    {
        PeerBufAlloc = header.BufAlloc;
        PeerForwardedCount = header.FwdCnt;
        CreditRequested = false;
    }

    /// <summary>A packet to the guest on this stream; those carrying our fwd_cnt count as reporting it.</summary>
    internal VsockHeader Reply(ulong guestCid, VsockOp op)
    {
        if (op is VsockOp.Rw or VsockOp.CreditUpdate or VsockOp.Response or VsockOp.Request)
        {
            ReportedForwardedCount = ForwardedCount;
        }

        return new VsockHeader(VsockHeader.HostCid, guestCid, LocalPort, PeerPort, 0, VsockHeader.TypeStream, op, 0, VirtioVsock.BufferSize, ForwardedCount);
    }

    /// <summary>Queues guest data for the host socket; false when it would exceed the buffer (the guest overran its credit).</summary>
    internal bool TryQueueToHost(ReadOnlySpan<byte> data)
    {
        if (PendingToHostCount + data.Length > VirtioVsock.BufferSize)
        {
            return false;
        }

        _toHost ??= new byte[VirtioVsock.BufferSize];
        data.CopyTo(_toHost.AsSpan(PendingToHostCount));
        PendingToHostCount += data.Length;
        return true;
    }

    /// <summary>
    /// Writes pending guest data to the host socket and, once all is written after the guest's SHUTDOWN SEND, shuts its
    /// write side; false when the socket failed.
    /// </summary>
    internal bool FlushToHost()
    {
        if (PendingToHostCount > 0)
        {
            var written = Host.Send(PendingToHost, SocketFlags.None, out var error);
            if (error is not (SocketError.Success or SocketError.WouldBlock))
            {
                return false;
            }

            written = Math.Max(written, 0);
            _toHost.AsSpan(written, PendingToHostCount - written).CopyTo(_toHost);
            PendingToHostCount -= written;
            ForwardedCount += (uint)written;
        }

        if (PendingToHostCount == 0 && GuestDoneSending && !HostWriteShut)
        {
            HostWriteShut = true;
            Host.Shutdown(SocketShutdown.Send);
        }

        return true;
    }

    /// <summary>
    /// Reads host bytes for the guest: the CONNECT prefix first, then the socket. Positive: bytes read; 0: nothing now
    /// (<see cref="HostReadable"/> cleared); -1: host EOF or a broken socket (<see cref="HostEof"/> set).
    /// </summary>
    internal int ReadFromHost(Span<byte> destination)
    {
        if (Prefix.Length > 0)
        {
            var n = Math.Min(destination.Length, Prefix.Length);
            Prefix.AsSpan(0, n).CopyTo(destination);
            Prefix = Prefix[n..];
            return n;
        }

        var read = Host.Receive(destination, SocketFlags.None, out var error);
        if (error == SocketError.WouldBlock)
        {
            HostReadable = false;
            return 0;
        }

        if (error != SocketError.Success || read == 0)
        {
            HostReadable = false;
            HostEof = true;
            return -1;
        }

        return read;
    }
}
