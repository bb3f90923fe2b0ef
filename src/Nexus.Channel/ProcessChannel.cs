// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using Nexus.Interop;

namespace Nexus.Channel;

/// <summary>
/// A channel for a sandbox that is a process (the oci driver, a fork template's child): a sealed memfd region and two
/// eventfd doorbells, handed to the process as fd 3, 4 and 5 with the environment that names them.
/// </summary>
public sealed class ProcessChannel : IDisposable
{
    public const int SandboxRegionFd = 3;
    public const int SandboxToHostFd = 4;
    public const int SandboxFromHostFd = 5;

    public ProcessChannel(ChannelOptions? options = null, string name = "nexus-channel")
    {
        options ??= new ChannelOptions();
        var region = ChannelRegion.CreateMemfd(name, options.RegionSize);
        EventFd? toHost = null;
        try
        {
            // Non-blocking on the host side: the service host drains it after epoll says it is readable.
            toHost = EventFd.Create(0, EventFdFlags.CloseOnExec | EventFdFlags.NonBlocking);
            ToSandbox = EventFd.Create(0, EventFdFlags.CloseOnExec);
            ToHost = toHost;
            RegionFd = region.Fd;
            Host = new HostChannel(region, new EventFdDoorbell(toHost), new EventFdDoorbell(ToSandbox), options);
        }
        catch
        {
            toHost?.Dispose();
            ToSandbox?.Dispose();
            region.Dispose();
            throw;
        }
    }

    /// <summary>The host end, to be served by a <see cref="Services.ChannelSession"/>; owns the descriptors below.</summary>
    public HostChannel Host { get; }

    public ChannelLayout Layout => Host.Layout;

    /// <summary>The region's memfd (the sandbox's fd 3).</summary>
    public SafeFd RegionFd { get; }

    /// <summary>Rung by the sandbox (its fd 4); non-blocking on the host side.</summary>
    public EventFd ToHost { get; }

    /// <summary>Rung by the host (the sandbox's fd 5).</summary>
    public EventFd ToSandbox { get; }

    /// <summary>The descriptors to hand to the sandbox, with the numbers it expects them at.</summary>
    public IReadOnlyList<(SafeFd Source, int Target)> SandboxFds =>
        [(RegionFd, SandboxRegionFd), (ToHost.Handle, SandboxToHostFd), (ToSandbox.Handle, SandboxFromHostFd)];

    /// <summary>The environment variables telling the sandbox runtime where its channel is.</summary>
    public IReadOnlyDictionary<string, string> SandboxEnvironment => new Dictionary<string, string>
    {
        ["NEXUS_IO"] = "nexus",
        ["NEXUS_CHANNEL_FD"] = SandboxRegionFd.ToString(CultureInfo.InvariantCulture),
        ["NEXUS_DOORBELL_TO_HOST_FD"] = SandboxToHostFd.ToString(CultureInfo.InvariantCulture),
        ["NEXUS_DOORBELL_TO_SANDBOX_FD"] = SandboxFromHostFd.ToString(CultureInfo.InvariantCulture),
        ["NEXUS_CHANNEL_SIZE"] = Layout.RegionSize.ToString(CultureInfo.InvariantCulture),
    };

    public void Dispose() => Host.Dispose();
}
