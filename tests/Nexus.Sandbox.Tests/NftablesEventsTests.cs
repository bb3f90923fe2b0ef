// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Interop;
using Nexus.Testing;

namespace Nexus.Sandbox.Tests;

/// <summary>
/// The kernel's nftables notifications as the firewall's watch reads them (real netlink, real nft): a deletion in the
/// watched table is reported, changes to it that delete nothing and deletions in another table are not.
/// </summary>
public sealed class NftablesEventsTests
{
    private const string Watched = "nexus_events_test";
    private const string Other = "nexus_events_other";

    [RootFact]
    public async Task OnlyDeletionsInTheWatchedTableAreReported()
    {
        var nft = HostTool.Resolve("nft", "nftables");
        await Nft(nft, $"table inet {Watched}\ndelete table inet {Watched}\ntable inet {Other}\ndelete table inet {Other}\n");
        try
        {
            using var events = NftablesEvents.Subscribe(1, Watched);
            var buffer = new byte[64 * 1024];

            // Each step's notifications, read until the kernel has sent them all (a batch's end: nft's own listing done).
            async Task<bool> Step(string script)
            {
                await Nft(nft, script);
                var deleted = false;
                using var quiet = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
                try
                {
                    while (true)
                    {
                        deleted |= await events.NextAsync(buffer, quiet.Token);
                    }
                }
                catch (OperationCanceledException)
                {
                    return deleted;
                }
            }

            Assert.False(await Step(TableWithADrop(Watched)));
            Assert.False(await Step(TableWithADrop(Other)));
            Assert.False(await Step($"flush chain inet {Other} c\ndelete table inet {Other}\n"));
            Assert.True(await Step($"flush chain inet {Watched} c\n"));
            Assert.True(await Step($"delete table inet {Watched}\n"));
        }
        finally
        {
            await Nft(nft, $"table inet {Watched}\ndelete table inet {Watched}\ntable inet {Other}\ndelete table inet {Other}\n");
        }
    }

    private static string TableWithADrop(string table) =>
        $"table inet {table} {{\n  chain c {{\n    type filter hook input priority 0; policy accept;\n    iifname \"nxtest*\" drop\n  }}\n}}\n";

    private static async Task Nft(string nft, string script)
    {
        var result = await HostTool.RunAsync(nft, ["-f", "-"], script);
        Assert.True(result.Succeeded, result.StandardError);
    }
}
