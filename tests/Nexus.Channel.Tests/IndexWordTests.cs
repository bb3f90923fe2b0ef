// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Testing.Channel;

namespace Nexus.Channel.Tests;

public sealed class IndexWordTests
{
    /// <summary>
    /// Guards the Python side's ring-index stores: each is one aligned 4-byte write. <c>struct.pack_into</c> zero-fills
    /// the field and then writes it byte by byte, so a host reading between the two saw a completion head of 0 (or a
    /// mix of old and new bytes) and closed a healthy channel as hostile (CI, stop 21).
    /// </summary>
    [Fact]
    public async Task Python_stores_index_words_whole_so_the_host_never_reads_a_torn_value()
    {
        using var channel = new ProcessChannel();
        using var hostView = new RawSandbox(channel);
        const uint even = 0x11223344, odd = 0x44332211, done = 0x7F7F7F7F;
        var script = $$"""
            import nexus_channel
            t = nexus_channel.connect_from_env()
            for i in range(2_000_000):
                t._store_word({{ChannelLayout.OffCmpHead}}, {{odd}} if i & 1 else {{even}})
            t._store_word({{ChannelLayout.OffCmpHead}}, {{done}})
            """;

        var torn = new HashSet<uint>();
        long reads = 0;
        var started = false;
        var reader = Task.Factory.StartNew(
            () =>
            {
                var until = DateTime.UtcNow + TimeSpan.FromMinutes(2);
                while (DateTime.UtcNow < until)
                {
                    var value = hostView.ReadHeaderWord(ChannelLayout.OffCmpHead);
                    reads++;
                    if (value == done)
                    {
                        return;
                    }

                    if (value is even or odd)
                    {
                        started = true;
                    }
                    else if (started || value != 0)
                    {
                        torn.Add(value);
                    }
                }
            },
            TaskCreationOptions.LongRunning);

        var result = await PythonSandbox.RunAsync(channel, script);
        await reader;

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.True(started, "the reader never saw the sandbox's stores");
        Assert.True(torn.Count == 0, $"{torn.Count} torn values in {reads} reads, e.g. {string.Join(", ", torn.Take(5).Select(v => $"0x{v:X8}"))}");
    }
}
