// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Nexus.Interop;
using Nexus.Vmm.Devices.Virtio.Vsock.Csm;

namespace Nexus.Vmm.Devices.Virtio.Vsock.Unix;

/// <summary>Host-initiated connections: the listener on <c>uds_path</c>, each client's CONNECT line, the guest's REQUEST.</summary>
internal sealed partial class VsockMuxer
{
    private const int ConnectLineMax = 32;

    /// <summary>Parses "CONNECT &lt;port&gt;" (keyword in any case), or null.</summary>
    public static uint? ParseConnect(string line)
    {
        var parts = line.TrimEnd('\r').Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return parts.Length == 2 && parts[0].Equals("connect", StringComparison.OrdinalIgnoreCase)
            && uint.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            ? port
            : null;
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
            if (_handshakes.Count + _connections.Count >= VirtioVsock.MaxConnections)
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
            _deviceWork(() => started = StartHostConnection(client, p, [.. line.Skip(newline + 1)]));
        }

        if (!started)
        {
            client.Dispose();
        }
    }

    /// <summary>Sends the guest a REQUEST for a host client; false (the client is refused) when the table is full.</summary>
    private bool StartHostConnection(Socket client, uint guestPort, byte[] prefix)
    {
        if (_connections.Count >= VirtioVsock.MaxConnections)
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
        QueueControl(connection.Reply(_guestCid, VsockOp.Request));
        SetDeadline(connection);
        return true;
    }
}
