// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Node.Transports;

namespace Nexus.Node.Tests;

/// <summary>
/// The trace header a caller may hand an invocation goes into a Runtime API response header and the channel's event
/// header: only a bounded, well-formed X-Ray header is taken (no CR/LF, spaces or quotes can ride along).
/// </summary>
public sealed class LambdaTraceTests
{
    [Theory]
    [InlineData("Root=1-5759e988-bd862e3fe1be46a994272793")]
    [InlineData("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")]
    [InlineData("Self=1-67891234-12456789abcdef012345678;Root=1-67891233-abcdef012345678912345678;CalledFrom=app")]
    public void A_well_formed_header_is_taken_as_it_is(string header) => Assert.Equal(header, LambdaTrace.Accept(header));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("Parent=53995c3f42cd8ad8;Sampled=1")] // no root
    [InlineData("Root=1-5759e988-bd862e3fe1be46a99427279")] // one digit short
    [InlineData("Root=1-5759e98g-bd862e3fe1be46a994272793")] // not hex
    [InlineData("Root=2-5759e988-bd862e3fe1be46a994272793")] // another version
    [InlineData("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=x y")]
    [InlineData("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=\"x\"")]
    [InlineData("Root=1-5759e988-bd862e3fe1be46a994272793\r\nX-Injected: 1")]
    [InlineData("Root=1-5759e988-bd862e3fe1be46a994272793;;Sampled=1")]
    [InlineData("Root=1-5759e988-bd862e3fe1be46a994272793;=1")]
    public void Anything_else_is_dropped(string? header) => Assert.Null(LambdaTrace.Accept(header));

    [Fact]
    public void A_header_past_the_bound_is_dropped()
    {
        var header = "Root=1-5759e988-bd862e3fe1be46a994272793;Lineage=" + new string('a', LambdaTrace.MaxHeaderLength);
        Assert.Null(LambdaTrace.Accept(header));
        Assert.Equal(header[..LambdaTrace.MaxHeaderLength], LambdaTrace.Accept(header[..LambdaTrace.MaxHeaderLength]));
    }

    [Fact]
    public void A_new_header_is_one_this_node_would_take_and_dates_its_root()
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(0x5759e988);
        var first = LambdaTrace.NewHeader(now);
        Assert.Equal(first, LambdaTrace.Accept(first));
        Assert.StartsWith("Root=1-5759e988-", first, StringComparison.Ordinal);
        Assert.EndsWith(";Sampled=0", first, StringComparison.Ordinal);
        Assert.NotEqual(first, LambdaTrace.NewHeader(now));
    }
}

/// <summary>The Lineage field that counts a function's runs in one chain of invocations (Lambda's loop detection).</summary>
public sealed class InvocationLineageTests
{
    private const string Root = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";

    [Fact]
    public void Each_run_counts_one_more_for_its_function_alone()
    {
        var (first, one) = InvocationLineage.Continue(Root, "arn:f");
        Assert.Equal(1, one);
        Assert.StartsWith(Root + ";Lineage=", first, StringComparison.Ordinal);
        var (second, two) = InvocationLineage.Continue(first, "arn:f");
        var (third, other) = InvocationLineage.Continue(second, "arn:g");
        var (fourth, three) = InvocationLineage.Continue(third, "arn:f");
        Assert.Equal((2, 1, 3), (two, other, three));

        // Most recent first, the other fields kept, and the header one a next hop takes as it is.
        var entries = fourth.Split("Lineage=")[1].Split('|');
        Assert.Equal(2, entries.Length);
        Assert.EndsWith(":3", entries[0], StringComparison.Ordinal);
        Assert.EndsWith(":1", entries[1], StringComparison.Ordinal);
        Assert.Equal(fourth, LambdaTrace.Accept(fourth));
    }

    [Fact]
    public void Botocores_percent_encoded_separator_is_read_and_malformed_entries_are_dropped()
    {
        var hash = InvocationLineage.Continue(Root, "arn:f").Header.Split("Lineage=")[1][..8];
        var (header, hops) = InvocationLineage.Continue($"{Root};Lineage=0badf00d:2%7C{hash}:7%7Cnothex00:1%7Cabc:1%7C12345678:0", "arn:f");
        Assert.Equal(8, hops);
        Assert.EndsWith($";Lineage={hash}:8|0badf00d:2", header, StringComparison.Ordinal);
    }

    [Fact]
    public void A_header_tracks_at_most_sixteen_functions_the_most_recent_kept()
    {
        var header = Root;
        for (var n = 0; n < 20; n++)
        {
            header = InvocationLineage.Continue(header, "arn:f" + n).Header;
        }

        Assert.Equal(InvocationLineage.MaxEntries, header.Split("Lineage=")[1].Split('|').Length);
        Assert.Equal(header, LambdaTrace.Accept(header));
        Assert.Equal(1, InvocationLineage.Continue(header, "arn:f0").Hops);
        Assert.Equal(2, InvocationLineage.Continue(header, "arn:f19").Hops);
    }
}
