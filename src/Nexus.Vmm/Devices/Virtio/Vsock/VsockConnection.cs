// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net.Sockets;

namespace Nexus.Vmm.Devices.Virtio.Vsock;

/// <summary>Where a connection is in its handshake.</summary>
public enum VsockConnectionState
{
    /// <summary>The host connected and sent CONNECT; our REQUEST waits for the guest's RESPONSE.</summary>
    LocalInit,

    Established,
}

/// <summary>
/// One guest AF_VSOCK stream bridged to a host Unix stream socket, with virtio-vsock credit accounting in
/// wrapping u32 arithmetic (Firecracker's csm/connection.rs): what we may send the guest, what we forwarded.
/// </summary>
public sealed class VsockConnection
{
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

    private byte[]? _toHost;

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

    /// <summary>Drops the first <paramref name="count"/> queued bytes (the host socket took them).</summary>
    internal void ConsumePendingToHost(int count)
    {
        _toHost.AsSpan(count, PendingToHostCount - count).CopyTo(_toHost);
        PendingToHostCount -= count;
    }

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
}
