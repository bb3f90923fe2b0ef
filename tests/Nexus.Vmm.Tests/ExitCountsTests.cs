// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Interop;
using Nexus.Vmm.VState;

namespace Nexus.Vmm.Tests;

public sealed class ExitCountsTests
{
    /// <summary>
    /// Guards the VMM's memory against a guest that makes an MMIO exit to every page it can name (the exit counts keep
    /// the first 64 pages and ports one by one, the rest in one count): 100,000 distinct pages and every one of the 65,536 ports
    /// leave 64 of each named and every exit counted. With the bound removed once, 100,000 pages were named and this
    /// failed.
    /// </summary>
    [Fact]
    public void A_guest_exiting_to_every_page_and_port_is_counted_in_bounded_memory()
    {
        var counts = new ExitCounts();
        for (ulong page = 0; page < 100_000; page++)
        {
            counts.Add(KvmExit.KVM_EXIT_MMIO);
            counts.AddMmio(0xd000_0000UL + (page << 12) + 8);
        }

        counts.AddMmio(0xd000_0000UL); // the first page again: still counted by itself
        for (var port = 0; port < 65_536; port++)
        {
            counts.Add(KvmExit.KVM_EXIT_IO);
            counts.AddIo((ushort)port);
        }

        var text = counts.Format();
        Assert.Equal(ExitCounts.MaxDistinct, text.Split('\n').Count(l => l.TrimStart().StartsWith("page 0x", StringComparison.Ordinal)));
        Assert.Equal(ExitCounts.MaxDistinct, text.Split('\n').Count(l => l.TrimStart().StartsWith("port 0x", StringComparison.Ordinal)));
        Assert.Equal(100_000 - ExitCounts.MaxDistinct, counts.OtherPages);
        Assert.Equal(65_536 - ExitCounts.MaxDistinct, counts.OtherPorts);
        Assert.Contains("page 0xd0000000", text, StringComparison.Ordinal);
        Assert.Matches(@"page 0xd0000000\s+2\b", text);
        Assert.Equal(165_536, counts.Total);
    }
}
