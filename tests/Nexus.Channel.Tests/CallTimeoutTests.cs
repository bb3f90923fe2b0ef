// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Security.Cryptography;
using Nexus.Testing.Channel;

namespace Nexus.Channel.Tests;

/// <summary>
/// A call given a timeout (the stand-in's own clients pass botocore's read_timeout) and not answered by then raises
/// ChannelTimeout and is abandoned: the host still answers it, and the sandbox drops that answer and gives its slots
/// back as it arrives, so abandoned calls never starve the ones after them.
/// </summary>
public sealed class CallTimeoutTests : IAsyncLifetime
{
    private NodeUnderTest _node = null!;

    public async Task InitializeAsync() => _node = await NodeUnderTest.StartAsync();

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task Abandoned_calls_give_their_answers_slots_back_as_they_arrive()
    {
        // 64 KiB slots, about 7 for answers; each answer below takes two. Forty abandoned GETs hold eighty slots' worth of
        // answers: unless each is given back as it arrives, the GETs after them wait for slots forever.
        var (channel, _) = _node.Attach(new ChannelOptions { RegionSize = 1 << 20, SlotSize = 64 << 10, RequestAreaFraction = 0.5 });
        var data = RandomNumberGenerator.GetBytes(100_000);
        await _node.PutAsync("fn/late", data);

        var result = await PythonSandbox.RunAsync(channel, PythonSandbox.Prelude + """
            key = {"Bucket": "nexus-test", "Key": "fn/late"}
            timeouts = 0
            for _ in range(40):
                try:
                    t.call("GetObject", key, timeout=0)
                except nexus_channel.ChannelTimeout:
                    timeouts += 1
            after = []
            for _ in range(20):
                status, meta, body = call("GetObject", key)
                after.append([status, hashlib.sha256(body).hexdigest()])
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with t._lock:
                    t._drain_locked()
                    pending = len(t._pending)
                if pending == 0:
                    break
                time.sleep(0.01)
            emit({"timeouts": timeouts, "after": after, "pending": pending})
            """);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(40, result.Json.GetProperty("timeouts").GetInt32());
        var digest = Convert.ToHexStringLower(SHA256.HashData(data));
        var after = result.Json.GetProperty("after").EnumerateArray().ToArray();
        Assert.Equal(20, after.Length);
        Assert.All(after, a => Assert.Equal((200, digest), (a[0].GetInt32(), a[1].GetString())));
        // Every abandoned call's records came and were dropped: nothing is left waiting for them.
        Assert.Equal(0, result.Json.GetProperty("pending").GetInt32());
    }
}
