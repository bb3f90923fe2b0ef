// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using System.Globalization;
using Nexus.Channel.Services;
using Nexus.Testing.Channel;
using Xunit.Abstractions;

namespace Nexus.Channel.Tests;

/// <summary>
/// A doorbell storm at the channel level (docs/threat-model.md, "Doorbell storms"): a sandbox process rings the host's
/// doorbell in a loop with nothing in its ring, while a neighbour on the same doorbell thread keeps calling storage.
/// </summary>
public sealed class DoorbellStormTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const double StormSeconds = 2;
    private NodeUnderTest _node = null!;

    public async Task InitializeAsync()
    {
        // A lower limit than the default 100 a window, so that the bound stays far below what an unguarded host does
        // on a slow machine.
        _node = await NodeUnderTest.StartAsync(session: o => o with { MaxEmptyWakesPerWindow = 10 });
        await _node.PutAsync("fn/x", "neighbour data"u8.ToArray());
    }

    public async Task DisposeAsync() => await _node.DisposeAsync();

    /// <summary>
    /// Guards <see cref="DoorbellStormGuard"/>: the storming session costs the doorbell thread at most
    /// <see cref="ChannelSessionOptions.MaxEmptyWakesPerWindow"/> wakes a window, however fast it rings; it is not
    /// closed (ringing is not a protocol violation) and is served once it stops; the neighbour is served throughout.
    /// With the guard removed once, the host woke 31,613 times for 0.95 M rings (bound 3,300) and this failed; with it,
    /// 1,105 and 1,427 times for 1.2 M and 2.4 M rings.
    /// </summary>
    [Fact]
    public async Task A_sandbox_ringing_with_an_empty_ring_costs_the_host_bounded_wakes_and_its_neighbour_is_served()
    {
        var storm = _node.Attach();
        var neighbour = _node.Attach();
        var options = _node.Host.Options;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var ringing = PythonSandbox.RunAsync(storm.Channel, $$"""
            import json, os, time
            fd = int(os.environ["NEXUS_DOORBELL_TO_HOST_FD"])
            one = (1).to_bytes(8, "little")
            rings = 0
            end = time.monotonic() + {{StormSeconds.ToString(CultureInfo.InvariantCulture)}}
            while time.monotonic() < end:
                for _ in range(100):
                    os.write(fd, one)
                rings += 100
            print(json.dumps({"rings": rings}))
            """);
        var calling = PythonSandbox.RunAsync(neighbour.Channel, PythonSandbox.Prelude + $$"""
            served, bad = 0, []
            end = time.monotonic() + {{StormSeconds.ToString(CultureInfo.InvariantCulture)}}
            while time.monotonic() < end:
                s, m, d = call("GetObject", {"Bucket": "nexus-test", "Key": "fn/x"})
                if s != 200 or d != b"neighbour data":
                    bad.append(s)
                served += 1
            emit({"served": served, "bad": bad})
            """);
        var (stormed, called) = (await ringing, await calling);
        cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        Assert.True(stormed.ExitCode == 0, stormed.ToString());
        Assert.True(called.ExitCode == 0, called.ToString());

        var rings = stormed.Json.GetProperty("rings").GetInt64();
        var wakes = storm.Session.Stats.Wakes;
        var windows = (StormSeconds + 1) / options.DoorbellWindow.TotalSeconds;
        var bound = (long)(windows * (options.MaxEmptyWakesPerWindow + 1));
        output.WriteLine($"{rings} rings, {wakes} host wakes ({storm.Session.Stats.Mutes} mutes), bound {bound}; neighbour served {called.Json.GetProperty("served").GetInt32()}; this process used {cpu.TotalSeconds:F2} CPU-s (test runner included)");
        Assert.True(rings >= 100_000, $"only {rings} rings: the storm did not happen");
        Assert.True(wakes <= bound, $"the storm woke the host {wakes} times for {rings} rings; at most {bound} allowed");
        Assert.True(storm.Session.Stats.Mutes > 0);
        Assert.Empty(called.Json.GetProperty("bad").EnumerateArray());
        Assert.True(called.Json.GetProperty("served").GetInt32() > 0, "the neighbour was not served during the storm");

        // The storm was no protocol violation, and once it stops the sandbox is watched and served again.
        Assert.Null(storm.Session.CloseReason);
        using var after = new RawSandbox(storm.Channel);
        after.SubmitRequest(1, ChannelOp.GetObject, """{"Bucket":"nexus-test","Key":"fn/x"}""");
        Assert.Equal(200, (await after.NextCompletionAsync(TimeSpan.FromSeconds(30)))?.Status);
    }
}
