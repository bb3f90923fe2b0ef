// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Interop;
using Nexus.Testing;

namespace Nexus.Sandbox.Tests;

/// <summary>
/// The kernel's link and address notifications as the service link's watch reads them (real rtnetlink, real iproute2):
/// the watched link deleted, set down or its address flushed is reported; the same done to another link, and changes
/// that take nothing away, are not.
/// </summary>
public sealed class LinkEventsTests
{
    private const string Watched = "nxlinkev0";
    private const string Other = "nxlinkev1";

    [RootFact(runc: false)]
    public async Task OnlyWhatTakesTheWatchedLinkOutOfServiceIsReported()
    {
        var ip = HostTool.Resolve("ip", "iproute2");
        await RemoveAsync(ip);
        try
        {
            using var events = LinkEvents.Subscribe(Watched);
            var buffer = new byte[64 * 1024];

            // Each step's notifications, read until the kernel has sent them all.
            async Task<bool> Step(string batch)
            {
                var result = await HostTool.RunAsync(ip, ["-batch", "-"], batch);
                Assert.True(result.Succeeded, result.StandardError);
                var reported = false;
                using var quiet = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
                try
                {
                    while (true)
                    {
                        reported |= await events.NextAsync(buffer, quiet.Token);
                    }
                }
                catch (OperationCanceledException)
                {
                    return reported;
                }
            }

            Assert.False(await Step(Up(Other, "10.79.250.2")));

            // A link is made down (then set up): out of service until then, so reported; the watch's check finds it whole.
            Assert.True(await Step(Up(Watched, "10.79.250.1")));
            Assert.False(await Step($"link set dev {Other} down\naddr flush dev {Other}\nlink del {Other}\n"));
            Assert.False(await Step($"addr add 10.79.250.3/32 dev {Watched}\n"));
            Assert.True(await Step($"addr flush dev {Watched}\n"));
            Assert.True(await Step($"link set dev {Watched} down\n"));
            Assert.False(await Step($"link set dev {Watched} up\n"));
            Assert.True(await Step($"link del {Watched}\n"));
        }
        finally
        {
            await RemoveAsync(ip);
        }
    }

    // ifb: this kernel has no dummy driver (the node's service link falls back to it the same way).
    private static string Up(string link, string address) => $"link add {link} type ifb\naddr add {address}/32 dev {link}\nlink set dev {link} up\n";

    private static async Task RemoveAsync(string ip)
    {
        foreach (var link in new[] { Watched, Other }.Where(l => Directory.Exists($"/sys/class/net/{l}")))
        {
            await HostTool.RunAsync(ip, ["link", "del", link]);
        }
    }
}
