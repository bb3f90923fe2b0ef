// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Bench.Density;

namespace Nexus.Bench.Tests;

public sealed class MemorySplitTests
{
    private const string Smaps = """
        55d4c0000000-55d4c0001000 r-xp 00000000 08:01 1234                       /usr/share/dotnet/dotnet
        Size:                  4 kB
        Pss:                   3 kB
        VmFlags: rd ex mr mw me dw
        7f0000000000-7f0001000000 rw-s 00000000 00:01 99                         /memfd:nexus-4f2a9c (deleted)
        Size:              16384 kB
        Pss:                2048 kB
        7f1000000000-7f1010000000 rw-p 00000000 00:00 0 
        Size:             262144 kB
        Pss:               40960 kB
        AnonHugePages:         0 kB
        7f2000000000-7f2000100000 rw-s 00000000 00:01 77                         /memfd:doublemapper (deleted)
        Pss:                 100 kB
        7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0                          [stack]
        Pss:                  64 kB
        """;

    [Fact]
    public void PssIsSummedByMappingKind()
    {
        var kinds = MemorySplit.Parse(new StringReader(Smaps));
        Assert.Equal(3, kinds[MemorySplit.Files]);
        Assert.Equal(2048, kinds[MemorySplit.ChannelRegions]);
        Assert.Equal(40960 + 100, kinds[MemorySplit.Anonymous]);
        Assert.Equal(64, kinds[MemorySplit.Stacks]);
    }

    [Fact]
    public void OwnProcessHasCodeAndHeap()
    {
        var kinds = MemorySplit.ReadOwn();
        Assert.True(kinds.GetValueOrDefault(MemorySplit.Files) > 0);
        Assert.True(kinds.GetValueOrDefault(MemorySplit.Anonymous) > 0);
    }
}
