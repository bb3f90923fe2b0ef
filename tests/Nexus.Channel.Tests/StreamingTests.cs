// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Security.Cryptography;
using Nexus.Testing.Channel;

namespace Nexus.Channel.Tests;

/// <summary>Chunking, flow control and ring wrap-around, through a real Python sandbox.</summary>
public sealed class StreamingTests : IAsyncLifetime
{
    private NodeUnderTest _node = null!;

    public async Task InitializeAsync() => _node = await NodeUnderTest.StartAsync();

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task Objects_larger_than_the_region_stream_through_it_in_both_directions()
    {
        // A 2 MiB region with 128 KiB chunks: a 24 MiB object is twelve times the region.
        var (channel, session) = _node.Attach(new ChannelOptions { RegionSize = 2 << 20, SlotSize = 128 << 10, RingEntries = 16 });
        var result = await PythonSandbox.RunAsync(channel, PythonSandbox.Prelude + """
            class Source(io.RawIOBase):
                # A readable, seekable file object that generates its bytes (never one big bytes object).
                def __init__(self, n): self.n, self.pos = n, 0
                def readable(self): return True
                def seekable(self): return True
                def tell(self): return self.pos
                def seek(self, off, whence=0):
                    self.pos = off if whence == 0 else (self.n + off if whence == 2 else self.pos + off)
                    return self.pos
                def readinto(self, b):
                    # Byte p is a function of p // 4096 only, so any read pattern yields the same object.
                    k = min(len(b), self.n - self.pos)
                    i = 0
                    while i < k:
                        p = self.pos + i
                        m = min(4096 - p % 4096, k - i)
                        b[i:i + m] = hashlib.sha256(str(p // 4096).encode()).digest()[:1] * m
                        i += m
                    self.pos += k
                    return k
            n = 24 * 1024 * 1024 + 12345
            h = hashlib.sha256()
            src = Source(n)
            while True:
                b = src.read(1 << 20)
                if not b: break
                h.update(b)
            s, m, _ = call("PutObject", {"Bucket": "nexus-test", "Key": "fn/big.bin"}, Source(n))
            r = t.call("GetObject", {"Bucket": "nexus-test", "Key": "fn/big.bin"})
            g = hashlib.sha256()
            total = 0
            while True:
                v = r.body.read_view(300000)
                if not v: break
                g.update(v); total += len(v)
            r.body.close()
            emit({"put": s, "get": r.status, "len": r.meta["ContentLength"], "read": total, "sent": h.hexdigest(), "got": g.hexdigest()})
            """);
        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json;
        Assert.Equal(200, json.GetProperty("put").GetInt32());
        Assert.Equal(200, json.GetProperty("get").GetInt32());
        Assert.Equal((24 << 20) + 12345, json.GetProperty("len").GetInt64());
        Assert.Equal((24 << 20) + 12345, json.GetProperty("read").GetInt64());
        Assert.Equal(json.GetProperty("sent").GetString(), json.GetProperty("got").GetString());
        var stored = await _node.GetAsync("fn/big.bin");
        Assert.Equal((24 << 20) + 12345, stored.Length);
        Assert.Equal(json.GetProperty("sent").GetString(), Convert.ToHexStringLower(SHA256.HashData(stored)));
        Assert.False(session.Closed.IsCompleted);
    }

    [Fact]
    public async Task Tiny_rings_wrap_around_many_times_with_back_pressure_both_ways()
    {
        // Four-entry rings and two response slots: every ring wraps hundreds of times, both sides hit full rings.
        var (channel, session) = _node.Attach(new ChannelOptions { RegionSize = 1 << 20, SlotSize = 64 << 10, RingEntries = 4, RequestAreaFraction = 0.8 });
        await _node.PutAsync("fn/small.txt", "hello ring"u8.ToArray());
        var result = await PythonSandbox.RunAsync(channel, PythonSandbox.Prelude + """
            bad = 0
            for i in range(400):
                s, m, d = call("GetObject", {"Bucket": "nexus-test", "Key": "fn/small.txt"})
                if s != 200 or d != b"hello ring": bad += 1
            errors = []
            def worker(k):
                try:
                    for i in range(40):
                        body = (f"{k}-{i}-" * 5000).encode()
                        s, _, _ = call("PutObject", {"Bucket": "nexus-test", "Key": f"fn/w{k}"}, body)
                        s2, _, d = call("GetObject", {"Bucket": "nexus-test", "Key": f"fn/w{k}"})
                        if s != 200 or s2 != 200 or d != body: errors.append((k, i, s, s2))
                except Exception as e:
                    errors.append(repr(e))
            ts = [threading.Thread(target=worker, args=(k,)) for k in range(6)]
            [x.start() for x in ts]; [x.join() for x in ts]
            emit({"bad": bad, "errors": [str(e) for e in errors[:5]]})
            """);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(0, result.Json.GetProperty("bad").GetInt32());
        Assert.True(result.Json.GetProperty("errors").GetArrayLength() == 0, $"{result.Json.GetProperty("errors")}; host: {session.CloseReason}");
        Assert.True(session.Stats.Requests >= 880, $"{session.Stats.Requests} requests");
        Assert.False(session.Closed.IsCompleted);
    }

    [Fact]
    public async Task A_body_read_whole_is_copied_out_of_the_region_once()
    {
        // 64 KiB slots: a 3 MiB body arrives in about fifty chunks (and wraps the 1 MiB region three times).
        var (channel, session) = _node.Attach(new ChannelOptions { RegionSize = 1 << 20, SlotSize = 64 << 10, RequestAreaFraction = 0.5 });
        var body = RandomNumberGenerator.GetBytes((3 << 20) + 777);
        await _node.PutAsync("fn/whole", body);
        await _node.PutAsync("fn/small", body.AsSpan(0, 1000).ToArray());
        var result = await PythonSandbox.RunAsync(channel, PythonSandbox.Prelude + """
            import tracemalloc
            r = t.call("GetObject", {"Bucket": "nexus-test", "Key": "fn/whole"})
            head = r.body.read(100)
            tracemalloc.start()
            rest = r.body.read()
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            r.body.close()
            s = t.call("GetObject", {"Bucket": "nexus-test", "Key": "fn/small"})
            small = s.body.read()
            after = s.body.read()
            s.body.close()
            whole = head + rest
            emit({"type": type(rest).__name__, "len": len(whole), "sha256": hashlib.sha256(whole).hexdigest(), "peak": peak,
                  "small": hashlib.sha256(small).hexdigest(), "smallType": type(small).__name__, "after": len(after)})
            """);
        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json;
        Assert.Equal("bytes", json.GetProperty("type").GetString());
        Assert.Equal(body.Length, json.GetProperty("len").GetInt32());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(body)), json.GetProperty("sha256").GetString());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(body.AsSpan(0, 1000))), json.GetProperty("small").GetString());
        Assert.Equal("bytes", json.GetProperty("smallType").GetString());
        Assert.Equal(0, json.GetProperty("after").GetInt32());

        // One buffer of the body's size: a bytearray grown chunk by chunk and then copied into bytes held twice that.
        var peak = json.GetProperty("peak").GetInt64();
        Assert.True(peak < body.Length * 1.25, $"reading {body.Length - 100} bytes peaked at {peak} bytes of Python memory");
        Assert.False(session.Closed.IsCompleted);
    }

    [Fact]
    public async Task Bodies_dropped_unread_return_their_slots()
    {
        // Two response slots: without the abandoned bodies' slots coming back, the third GET would stall.
        var (channel, session) = _node.Attach(new ChannelOptions { RegionSize = 1 << 20, SlotSize = 64 << 10, RequestAreaFraction = 0.85 });
        await _node.PutAsync("fn/unread", new byte[200_000]);
        var result = await PythonSandbox.RunAsync(channel, PythonSandbox.Prelude + """
            import gc
            statuses = []
            for i in range(20):
                r = t.call("GetObject", {"Bucket": "nexus-test", "Key": "fn/unread"})
                statuses.append(r.status)
                del r
                gc.collect()
            r = t.call("GetObject", {"Bucket": "nexus-test", "Key": "fn/unread"})
            emit({"statuses": sorted(set(statuses)), "last": len(r.body.read())})
            """);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal([200], result.Json.GetProperty("statuses").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(200_000, result.Json.GetProperty("last").GetInt32());
        Assert.False(session.Closed.IsCompleted);
    }

    [Fact]
    public async Task Concurrent_requests_from_many_python_threads_complete_out_of_order()
    {
        var (channel, _) = _node.Attach();
        var small = new byte[100];
        var large = RandomNumberGenerator.GetBytes(5 << 20);
        await _node.PutAsync("shared/small", small);
        await _node.PutAsync("shared/large", large);
        var result = await PythonSandbox.RunAsync(channel, PythonSandbox.Prelude + """
            order = []
            lock = threading.Lock()
            results = {}
            def get(name):
                s, m, d = call("GetObject", {"Bucket": "nexus-test", "Key": "shared/" + name})
                with lock:
                    order.append(name)
                    results.setdefault(name, []).append((s, hashlib.sha256(d).hexdigest()))
            ts = [threading.Thread(target=get, args=("large",)) for _ in range(4)]
            ts += [threading.Thread(target=get, args=("small",)) for _ in range(16)]
            [x.start() for x in ts]; [x.join() for x in ts]
            emit({"large": sorted(set(h for _, h in results["large"])), "small": sorted(set(h for _, h in results["small"])),
                  "statuses": sorted(set(s for v in results.values() for s, _ in v)), "count": len(order)})
            """);
        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json;
        Assert.Equal(20, json.GetProperty("count").GetInt32());
        Assert.Equal([200], json.GetProperty("statuses").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal([Convert.ToHexStringLower(SHA256.HashData(large))], json.GetProperty("large").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal([Convert.ToHexStringLower(SHA256.HashData(small))], json.GetProperty("small").EnumerateArray().Select(e => e.GetString()));
    }
}
