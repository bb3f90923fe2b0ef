// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net;

namespace Nexus.Sandbox.Network;

/// <summary>
/// The host-wide part of the baseline network, shared by every driver of this process whose sandboxes get a veth (oci,
/// microvm): the service link and the sandbox firewall. Each such driver prepares it and applies the same ruleset (the
/// table is replaced whole, so applying it twice is applying it once); the last driver to release it removes both.
/// Both are re-asserted while the node runs (<see cref="CheckInterval"/>): removed from under a running node (an
/// operator's `nft flush ruleset`, `ip link del`), the firewall failed open (baseline sandboxes reached every host
/// listener) and every baseline cold start timed out without a word, until the node was restarted (an operator's
/// review). As kube-proxy resyncs its rules, the node puts back what is missing and says so in its log.
/// </summary>
public sealed class BaselineHost(HostNetwork network, SandboxFirewall firewall, Action<string>? log = null)
{
    // Drivers of this process that prepared the host and have not released it.
    private static int s_users;

    private readonly Action<string> _log = log ?? (line => Console.Error.WriteLine("nexus: " + line));
    private readonly Lock _lock = new();
    private CancellationTokenSource? _stopChecks;
    private Task _checks = Task.CompletedTask;

    /// <summary>How often the service link and the firewall table are checked, and put back when missing.</summary>
    public TimeSpan CheckInterval { get; init; } = TimeSpan.FromSeconds(5);

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

    /// <summary>Installs the firewall for these ports and endpoint, and from then on keeps it and the service link in place.</summary>
    public async Task RestrictAsync(IReadOnlyCollection<int> serviceTcpPorts, IPEndPoint? routedEndpoint, CancellationToken cancellationToken)
    {
        network.RoutedEndpoint = routedEndpoint;
        await firewall.ApplyAsync(serviceTcpPorts, routedEndpoint, cancellationToken);
        lock (_lock)
        {
            _stopChecks?.Cancel();
            _stopChecks = new CancellationTokenSource();
            var previous = _checks;
            var stop = _stopChecks.Token;
            _checks = Task.Run(async () =>
            {
                await previous.ConfigureAwait(false);
                await CheckLoopAsync([.. serviceTcpPorts], routedEndpoint, stop).ConfigureAwait(false);
            }, CancellationToken.None);
        }
    }

    /// <summary>Puts back the service link and the firewall table when either is missing (or the table's rules were flushed).</summary>
    private async Task EnsureAsync(IReadOnlyCollection<int> serviceTcpPorts, IPEndPoint? routedEndpoint, CancellationToken cancellationToken)
    {
        var missing = new List<string>();
        if (!network.ServiceLinkExists)
        {
            await network.PrepareAsync(cancellationToken);
            missing.Add($"the service link {network.Plan.ServiceLink}");
        }

        if (!await firewall.IsInPlaceAsync(serviceTcpPorts, routedEndpoint, cancellationToken))
        {
            await firewall.ApplyAsync(serviceTcpPorts, routedEndpoint, cancellationToken);
            missing.Add($"the sandbox firewall (nft table inet {SandboxFirewall.TableName})");
        }

        if (missing.Count > 0)
        {
            _log($"host network: {string.Join(" and ", missing)} had been removed from under the node; put back");
        }
    }

    private async Task CheckLoopAsync(IReadOnlyCollection<int> serviceTcpPorts, IPEndPoint? routedEndpoint, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(CheckInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                try
                {
                    await EnsureAsync(serviceTcpPorts, routedEndpoint, stop).ConfigureAwait(false);
                }
                catch (IOException e)
                {
                    _log($"host network: could not put back what is missing (tried again in {CheckInterval.TotalSeconds:0.#} s): {e.Message}");
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task StopChecksAsync()
    {
        Task checks;
        lock (_lock)
        {
            _stopChecks?.Cancel();
            checks = _checks;
        }

        await checks.ConfigureAwait(false);
    }

    /// <summary>The last driver of this process to release the host removes the firewall table and the service link.</summary>
    public async Task ReleaseAsync()
    {
        await StopChecksAsync();
        if (Interlocked.Decrement(ref s_users) > 0)
        {
            return;
        }

        await firewall.RemoveAsync(CancellationToken.None);
        await network.RemoveServiceLinkAsync();
    }
}
