// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Threading.Channels;

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

    /// <summary>
    /// How often the service link is checked, and put back when missing; the firewall table is put back as soon as the
    /// kernel reports a deletion in it, and listed every <see cref="FirewallBackstopChecks"/> intervals anyway.
    /// </summary>
    public TimeSpan CheckInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Intervals between two listings of the firewall while the kernel's notifications are watched (each listing costs an nft process, ~12 ms of CPU here).</summary>
    public const int FirewallBackstopChecks = 12;

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
        network.EgressRuleset = firewall.EgressRuleset(serviceTcpPorts, routedEndpoint);
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

    /// <summary>
    /// Puts back the service link when it is missing, and (with <paramref name="checkFirewall"/>) the firewall table when it
    /// is missing or its rules were flushed; <paramref name="seenBy"/> says in the log what noticed it.
    /// </summary>
    private async Task EnsureAsync(IReadOnlyCollection<int> serviceTcpPorts, IPEndPoint? routedEndpoint, bool checkFirewall, string seenBy, CancellationToken cancellationToken)
    {
        var missing = new List<string>();
        if (!network.ServiceLinkExists)
        {
            await network.PrepareAsync(cancellationToken);
            missing.Add($"the service link {network.Plan.ServiceLink}");
        }

        if (checkFirewall && !await firewall.IsInPlaceAsync(serviceTcpPorts, routedEndpoint, cancellationToken))
        {
            await firewall.ApplyAsync(serviceTcpPorts, routedEndpoint, cancellationToken);
            missing.Add($"the sandbox firewall (nft table inet {SandboxFirewall.TableName})");
        }

        if (missing.Count > 0)
        {
            _log($"host network: {string.Join(" and ", missing)} had been removed from under the node; put back (seen by {seenBy})");
        }
    }

    /// <summary>
    /// Checks the service link every <see cref="CheckInterval"/> (a look in /sys), and the firewall as soon as the watch
    /// (<see cref="WatchFirewallAsync"/>) reports a deletion in its table: the window in which a removed
    /// firewall lets baseline sandboxes reach the host's listeners is the time to notice and re-apply it, not up to an
    /// interval. Every <see cref="FirewallBackstopChecks"/> intervals the firewall is listed anyway (should a notice ever
    /// be missed), and every interval while the watch is not running.
    /// </summary>
    private async Task CheckLoopAsync(IReadOnlyCollection<int> serviceTcpPorts, IPEndPoint? routedEndpoint, CancellationToken stop)
    {
        // Why the firewall is to be checked now (the first reason waiting wins: one check answers all).
        var checkNow = Channel.CreateBounded<string>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
        var watching = new StrongBox<bool>();
        var watch = WatchFirewallAsync(reason => checkNow.Writer.TryWrite(reason), watching, stop);
        var sinceFirewallCheck = 0;
        try
        {
            while (true)
            {
                var reason = await WaitAsync(checkNow.Reader, CheckInterval, stop).ConfigureAwait(false);
                var checkFirewall = reason is not null || !Volatile.Read(ref watching.Value) || ++sinceFirewallCheck >= FirewallBackstopChecks;
                try
                {
                    await EnsureAsync(serviceTcpPorts, routedEndpoint, checkFirewall, reason ?? $"the {CheckInterval.TotalSeconds:0.#}-s check", stop).ConfigureAwait(false);
                    if (checkFirewall)
                    {
                        sinceFirewallCheck = 0;
                    }
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

        await watch.ConfigureAwait(false);
    }

    /// <summary>Waits for the watch to ask for a check (its reason) or for <paramref name="interval"/> to pass (null).</summary>
    private static async Task<string?> WaitAsync(ChannelReader<string> checkNow, TimeSpan interval, CancellationToken stop)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
        timeout.CancelAfter(interval);
        try
        {
            return await checkNow.ReadAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>
    /// Watches the kernel's nftables notifications for the node's lifetime (<see cref="SandboxFirewall.WatchDeletions"/>),
    /// asking for a check at each deletion in the firewall's table, and once as it begins (a deletion from before it
    /// subscribed). A watch that cannot run (or fails) is said in the log and tried again after an interval, the firewall
    /// being listed every interval meanwhile (<paramref name="watching"/> false).
    /// </summary>
    private async Task WatchFirewallAsync(Action<string> checkNow, StrongBox<bool> watching, CancellationToken stop)
    {
        var buffer = new byte[64 * 1024];
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using var deletions = SandboxFirewall.WatchDeletions();
                Volatile.Write(ref watching.Value, true);
                checkNow("the check as the watch began");
                while (true)
                {
                    if (await deletions.NextAsync(buffer, stop).ConfigureAwait(false))
                    {
                        checkNow("the kernel's notice, at once");
                    }
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception e) when (e is IOException or SocketException)
            {
                Volatile.Write(ref watching.Value, false);
                _log($"host network: the firewall's removal cannot be watched ({e.Message}); it is checked every {CheckInterval.TotalSeconds:0.#} s until it can");
            }

            try
            {
                await Task.Delay(CheckInterval, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
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
