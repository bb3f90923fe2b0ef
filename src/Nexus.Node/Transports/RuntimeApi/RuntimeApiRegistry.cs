// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Collections.Concurrent;
using System.Net;

namespace Nexus.Node.Transports.RuntimeApi;

/// <summary>
/// Maps a baseline instance's own veth address to its transport. The Runtime API identifies the caller by the TCP
/// source address alone: a sandbox has no CAP_NET_ADMIN, so it cannot take another instance's address.
/// </summary>
public sealed class RuntimeApiRegistry
{
    private readonly ConcurrentDictionary<IPAddress, RuntimeApiTransport> _byAddress = new();
    private readonly Lock _lock = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int Count => _byAddress.Count;

    public void Register(IPAddress address, RuntimeApiTransport transport)
    {
        _byAddress[Normalize(address)] = transport;
        TaskCompletionSource changed;
        lock (_lock)
        {
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }

    public void Unregister(IPAddress address, RuntimeApiTransport transport) =>
        _byAddress.TryRemove(new KeyValuePair<IPAddress, RuntimeApiTransport>(Normalize(address), transport));

    public bool TryGet(IPAddress address, out RuntimeApiTransport transport) => _byAddress.TryGetValue(Normalize(address), out transport!);

    /// <summary>
    /// Finds the transport of <paramref name="address"/>, waiting up to <paramref name="grace"/> for it to be
    /// registered: a fast runtime may call before the node has recorded its new instance's address.
    /// </summary>
    public async Task<RuntimeApiTransport?> FindAsync(IPAddress address, TimeSpan grace, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + grace;
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                changed = _changed.Task;
            }

            if (TryGet(address, out var transport))
            {
                return transport;
            }

            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                return null;
            }

            try
            {
                await changed.WaitAsync(left, cancellationToken);
            }
            catch (TimeoutException)
            {
                return TryGet(address, out transport) ? transport : null;
            }
        }
    }

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
