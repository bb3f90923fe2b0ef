// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Security.Cryptography;
using Nexus.Testing.Channel;

namespace Nexus.Channel.Tests;

/// <summary>
/// A response body read whole with <c>read()</c>, as a handler reads a GetObject's: the bytes it returns when its chunks
/// have all arrived before the read (joined at once), and what dropping it unclosed afterwards does (nothing).
/// </summary>
public sealed class WholeBodyReadTests : IAsyncLifetime
{
    private NodeUnderTest _node = null!;

    public async Task InitializeAsync() => _node = await NodeUnderTest.StartAsync();

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task A_body_whose_chunks_have_all_arrived_reads_whole_byte_for_byte_and_gives_every_slot_back()
    {
        // 64 KiB slots, 7 of them: a 192 KiB body is four chunks (the response header in front pushes its tail into the
        // fourth), all held by the time it is read; the next GETs stall unless all four come back.
        var (channel, session) = _node.Attach(new ChannelOptions { RegionSize = 1 << 20, SlotSize = 64 << 10, RequestAreaFraction = 0.5 });
        var sizes = new[] { (3 << 16) - 100, 3 << 16, (3 << 16) + 1, 200_000, 100 };
        var bodies = sizes.Select(RandomNumberGenerator.GetBytes).ToArray();
        for (var i = 0; i < bodies.Length; i++)
        {
            await _node.PutAsync($"fn/arrived-{i}", bodies[i]);
        }

        var result = await PythonSandbox.RunAsync(channel, PythonSandbox.Prelude + $$"""
            out = []
            for round in range(3):
                for i in range({{bodies.Length}}):
                    r = t.call("GetObject", {"Bucket": "nexus-test", "Key": f"fn/arrived-{i}"})
                    # Every chunk the host has sent drained into the call before the read, as when the sandbox wakes once
                    # for a whole cached copy.
                    deadline = time.monotonic() + 10
                    while time.monotonic() < deadline:
                        with t._lock:
                            t._drain_locked()
                            queued = list(r.body._call.chunks)
                        if r.meta["ContentLength"] <= 65536 - 300 or (queued and not queued[-1][2] & nexus_channel.transport.FLAG_MORE):
                            break
                        time.sleep(0.01)
                    data = r.body.read()
                    out.append({"i": i, "queued": len(queued), "type": type(data).__name__, "len": len(data),
                                "sha256": hashlib.sha256(data).hexdigest(), "after": len(r.body.read())})
                    r.body.close()
            emit({"reads": out, "pending": len(t._pending)})
            """);
        Assert.True(result.ExitCode == 0, result.ToString());
        var reads = result.Json.GetProperty("reads").EnumerateArray().ToArray();
        Assert.Equal(3 * bodies.Length, reads.Length);
        foreach (var read in reads)
        {
            var body = bodies[read.GetProperty("i").GetInt32()];
            Assert.Equal("bytes", read.GetProperty("type").GetString());
            Assert.Equal(body.Length, read.GetProperty("len").GetInt32());
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(body)), read.GetProperty("sha256").GetString());
            Assert.Equal(0, read.GetProperty("after").GetInt32());
        }

        // The multi-chunk bodies were read with the rest of their chunks already queued: the path this test is about.
        Assert.All(reads.Where(r => bodies[r.GetProperty("i").GetInt32()].Length > 1 << 16), r => Assert.True(r.GetProperty("queued").GetInt32() >= 2, r.ToString()));
        Assert.Equal(0, result.Json.GetProperty("pending").GetInt32());
        Assert.False(session.Closed.IsCompleted);
    }

    [Fact]
    public async Task A_body_read_whole_and_dropped_unclosed_rings_no_doorbell()
    {
        var (channel, session) = _node.Attach(new ChannelOptions { RegionSize = 1 << 20, SlotSize = 64 << 10, RequestAreaFraction = 0.75 });
        await _node.PutAsync("fn/dropped", RandomNumberGenerator.GetBytes(150_000));
        var result = await PythonSandbox.RunAsync(channel, PythonSandbox.Prelude + """
            import gc
            writes = []
            real_write = os.eventfd_write
            def counting_write(fd, value):
                writes.append(fd)
                real_write(fd, value)
            os.eventfd_write = counting_write
            lens = []
            for i in range(5):
                # As a handler does: s3.get_object(...)["Body"].read(), the response then dropped without close().
                lens.append(len(t.call("GetObject", {"Bucket": "nexus-test", "Key": "fn/dropped"}).body.read()))
                gc.collect()
            emit({"lens": lens, "toSandbox": writes.count(t._from_host), "abandoned": len(t._abandoned), "pending": len(t._pending)})
            """);
        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json;
        Assert.Equal(Enumerable.Repeat(150_000, 5), json.GetProperty("lens").EnumerateArray().Select(e => e.GetInt32()));

        // A dropped body with something left to give back rings the sandbox's own doorbell so a waiting thread closes it;
        // one read to its end has nothing left, and a ring would only wake the next wait for nothing.
        Assert.Equal(0, json.GetProperty("toSandbox").GetInt32());
        Assert.Equal(0, json.GetProperty("abandoned").GetInt32());
        Assert.Equal(0, json.GetProperty("pending").GetInt32());
        Assert.False(session.Closed.IsCompleted);
    }
}
