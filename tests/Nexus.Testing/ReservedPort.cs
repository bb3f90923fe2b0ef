// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net;
using System.Net.Sockets;

namespace Nexus.Testing;

/// <summary>
/// A loopback TCP port held for a server a test starts later (a store that is "down" until then): bound without
/// SO_REUSEADDR and not listening, so a client connecting meanwhile is refused, and no other socket on the host, such as
/// a server another test starts on port 0, can take the port before <see cref="Release"/>. A port found free and let go
/// at once could be taken by such a server, which then answered for the "down" store (a WriteBackTests failure).
/// </summary>
public sealed class ReservedPort : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

    public ReservedPort()
    {
        _socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, false);
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        Port = ((IPEndPoint)_socket.LocalEndPoint!).Port;
    }

    public int Port { get; }

    /// <summary>Lets the port go, just before the test's own server binds it.</summary>
    public void Release() => _socket.Dispose();

    public void Dispose() => _socket.Dispose();
}
