// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net;

namespace Nexus.Sandbox.Network;

/// <summary>
/// The host-wide part of the baseline network, shared by every driver of this process whose sandboxes get a veth (oci,
/// microvm): the service link and the sandbox firewall. Each such driver prepares it and applies the same ruleset (the
/// table is replaced whole, so applying it twice is applying it once); the last driver to release it removes both.
/// </summary>
public sealed class BaselineHost(HostNetwork network, SandboxFirewall firewall)
{
    // Drivers of this process that prepared the host and have not released it.
    private static int s_users;

    public HostNetwork Network => network;

    /// <summary>Creates the service link; the first driver also removes a firewall table an earlier node left behind.</summary>
    public async Task PrepareAsync(CancellationToken cancellationToken)
    {
        await network.PrepareAsync(cancellationToken);
        if (Volatile.Read(ref s_users) == 0)
        {
            await firewall.RemoveAsync(cancellationToken);
        }

        Interlocked.Increment(ref s_users);
    }

    public Task RestrictAsync(IReadOnlyCollection<int> serviceTcpPorts, IPEndPoint? routedEndpoint, CancellationToken cancellationToken)
    {
        network.RoutedEndpoint = routedEndpoint;
        return firewall.ApplyAsync(serviceTcpPorts, routedEndpoint, cancellationToken);
    }

    /// <summary>The last driver of this process to release the host removes the firewall table and the service link.</summary>
    public async Task ReleaseAsync()
    {
        if (Interlocked.Decrement(ref s_users) > 0)
        {
            return;
        }

        await firewall.RemoveAsync(CancellationToken.None);
        await network.RemoveServiceLinkAsync();
    }
}
