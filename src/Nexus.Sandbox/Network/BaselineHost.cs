// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Nexus.Interop;

namespace Nexus.Sandbox.Network;

/// <summary>
/// The host-wide part of the baseline network, shared by every driver of this process whose sandboxes get a veth (oci,
/// microvm): the service link and the sandbox firewall. Each such driver prepares it and applies the same ruleset (the
/// table is replaced whole, so applying it twice is applying it once); the last driver to release it removes both.
/// Both are re-asserted while the node runs, at once on the kernel's notice of their removal and every <see cref="CheckInterval"/>: removed from under a running node (an
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
    /// How often the service link is checked (besides the kernel's notices), and put back when missing; the firewall
    /// table is put back as soon as the kernel reports a deletion in it, and listed every
    /// <see cref="FirewallBackstopChecks"/> intervals anyway.
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
    /// Puts back the service link when it is missing, down or without the service address, and (with
    /// <paramref name="checkFirewall"/>) the firewall table when it is missing or its rules were flushed; <paramref name="seenBy"/>
    /// says in the log what noticed it.
    /// </summary>
    private async Task EnsureAsync(IReadOnlyCollection<int> serviceTcpPorts, IPEndPoint? routedEndpoint, bool checkFirewall, string seenBy, CancellationToken cancellationToken)
    {
        var missing = new List<string>();
        if (!network.ServiceLinkInService)
        {
            var what = network.ServiceLinkExists
                ? $"the service link {network.Plan.ServiceLink}'s up state or its address {network.Plan.ServiceAddress}"
                : $"the service link {network.Plan.ServiceLink}";
            await network.PrepareAsync(cancellationToken);
            missing.Add(what);
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
    /// Checks the service link every <see cref="CheckInterval"/> (a look in /sys and a bind, microseconds), and both it
    /// and the firewall as soon as a watch (<see cref="WatchAsync"/>) reports the kernel taking either away: the window
    /// in which a removed firewall lets baseline sandboxes reach the host's listeners, or a removed service link fails
    /// their calls, is the time to notice and put it back, not up to an interval. Every
    /// <see cref="FirewallBackstopChecks"/> intervals the firewall is listed anyway (should a notice ever be missed), and
    /// every interval while its watch is not running.
    /// </summary>
    private async Task CheckLoopAsync(IReadOnlyCollection<int> serviceTcpPorts, IPEndPoint? routedEndpoint, CancellationToken stop)
    {
        // Checks the watches ask for; rare (a removal), so unbounded, and all pending ones are answered by one check.
        var checkNow = Channel.CreateUnbounded<CheckRequest>();
        var watchingFirewall = new StrongBox<bool>();
        var watches = Task.WhenAll(
            WatchAsync("the firewall's removal", SandboxFirewall.WatchDeletions, firewall: true, checkNow.Writer, watchingFirewall, stop),
            WatchAsync("the service link's removal", network.WatchServiceLink, firewall: false, checkNow.Writer, new StrongBox<bool>(), stop));
        var sinceFirewallCheck = 0;
        try
        {
            while (true)
            {
                var request = await WaitAsync(checkNow.Reader, CheckInterval, stop).ConfigureAwait(false);
                var checkFirewall = request?.Firewall == true || !Volatile.Read(ref watchingFirewall.Value) || ++sinceFirewallCheck >= FirewallBackstopChecks;
                try
                {
                    await EnsureAsync(serviceTcpPorts, routedEndpoint, checkFirewall, request?.SeenBy ?? $"the {CheckInterval.TotalSeconds:0.#}-s check", stop).ConfigureAwait(false);
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

        await watches.ConfigureAwait(false);
    }

    /// <summary>A check a watch asks for: what saw the removal, and whether the firewall is to be listed too.</summary>
    private readonly record struct CheckRequest(string SeenBy, bool Firewall);

    /// <summary>
    /// Waits for a watch to ask for a check (all requests pending merged into one) or for <paramref name="interval"/> to
    /// pass (null).
    /// </summary>
    private static async Task<CheckRequest?> WaitAsync(ChannelReader<CheckRequest> checkNow, TimeSpan interval, CancellationToken stop)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
        timeout.CancelAfter(interval);
        try
        {
            var request = await checkNow.ReadAsync(timeout.Token).ConfigureAwait(false);
            while (checkNow.TryRead(out var more))
            {
                request = request with { Firewall = request.Firewall || more.Firewall };
            }

            return request;
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>
    /// Watches kernel notices for the node's lifetime (<paramref name="subscribe"/>: the firewall table's deletions, or
    /// what takes the service link out of service), asking for a check at each, and once as it begins (a removal from
    /// before it subscribed). A watch that cannot run (or fails) is said in the log and tried again after an interval
    /// (<paramref name="watching"/> false meanwhile).
    /// </summary>
    private async Task WatchAsync(string what, Func<INetlinkWatch> subscribe, bool firewall, ChannelWriter<CheckRequest> checkNow, StrongBox<bool> watching, CancellationToken stop)
    {
        var buffer = new byte[64 * 1024];
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using var notices = subscribe();
                Volatile.Write(ref watching.Value, true);
                checkNow.TryWrite(new CheckRequest("the check as the watch began", firewall));
                while (true)
                {
                    if (await notices.NextAsync(buffer, stop).ConfigureAwait(false))
                    {
                        checkNow.TryWrite(new CheckRequest("the kernel's notice, at once", firewall));
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
                _log($"host network: {what} cannot be watched ({e.Message}); it is checked every {CheckInterval.TotalSeconds:0.#} s until it can");
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
