// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Testing.Channel;

namespace Nexus.Channel.Tests;

/// <summary>An idle instance's channel gives back the pages its last invocation wrote, on both sides of the region.</summary>
public sealed class IdleMemoryTests : IAsyncLifetime
{
    private const int MiB = 1 << 20;

    private NodeUnderTest _node = null!;

    public async Task InitializeAsync() => _node = await NodeUnderTest.StartAsync();

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task Used_slots_and_request_extents_are_given_back_and_a_slot_the_sandbox_holds_is_kept()
    {
        var body = new byte[MiB];
        new Random(7).NextBytes(body);
        await _node.PutAsync("fn/in.bin", body);
        var (channel, session) = _node.Attach(new ChannelOptions { RegionSize = 16 * MiB, SlotSize = MiB });
        var go = Path.Combine(Path.GetTempPath(), $"nexus-idle-{Guid.NewGuid():N}");
        // The region's allocated bytes (st_blocks of the shared memfd) are read by the sandbox at each step.
        var process = PythonSandbox.Start(channel, PythonSandbox.Prelude + """
            def allocated():
                return os.fstat(int(os.environ["NEXUS_CHANNEL_FD"])).st_blocks * 512
            # Two GETs at once write two sets of slots; once both are closed, the next GET reuses one set and holds it.
            first = [t.call("GetObject", {"Bucket": "nexus-test", "Key": "fn/in.bin"}) for _ in range(2)]
            s = min(r.status for r in first)
            data = first[0].body.read()
            for r in first:
                r.body.close()
            put, _, _ = call("PutObject", {"Bucket": "nexus-test", "Key": "fn/out.bin"}, data)
            held = t.call("GetObject", {"Bucket": "nexus-test", "Key": "fn/in.bin"})  # its slots stay lent
            before = allocated()
            extents = t.release_free_extents()
            after_sandbox = allocated()
            print("released", flush=True)
            while not os.path.exists(os.environ["GO_FILE"]):
                time.sleep(0.01)
            after_host = allocated()
            kept = held.body.read() == data
            held.body.close()
            again, _, data2 = call("GetObject", {"Bucket": "nexus-test", "Key": "fn/in.bin"})
            put2, _, _ = call("PutObject", {"Bucket": "nexus-test", "Key": "fn/out2.bin"}, data2)
            emit({"get": s, "put": put, "before": before, "extents": extents, "after_sandbox": after_sandbox,
                  "after_host": after_host, "kept": kept, "again": again, "same": data2 == data, "put2": put2})
            """, out var stdoutPath, out var stderrPath, new Dictionary<string, string> { ["GO_FILE"] = go });
        try
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
            while (!(await File.ReadAllTextAsync(stdoutPath)).Contains("released", StringComparison.Ordinal) && DateTime.UtcNow < deadline && !process.WaitForExitAsync().IsCompleted)
            {
                await Task.Delay(20);
            }

            var releasedSlots = session.ReleaseFreeSlots();
            await File.WriteAllTextAsync(go, "go");
            var exit = await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
            var result = new PythonSandbox.Result(exit, await File.ReadAllTextAsync(stdoutPath), await File.ReadAllTextAsync(stderrPath));
            Assert.True(exit == 0, result.ToString());
            var json = result.Json;
            Assert.Equal(200, json.GetProperty("get").GetInt32());
            Assert.Equal(200, json.GetProperty("put").GetInt32());

            // The sandbox gave back the extent its 1 MiB PUT body was written to.
            Assert.True(json.GetProperty("extents").GetInt32() >= 1, result.ToString());
            Assert.True(json.GetProperty("before").GetInt64() - json.GetProperty("after_sandbox").GetInt64() >= MiB, result.ToString());

            // The host gave back the slots of the other first GET, not the ones the held response still uses.
            Assert.True(releasedSlots >= 1, $"released {releasedSlots}\n{result}");
            Assert.True(json.GetProperty("after_sandbox").GetInt64() - json.GetProperty("after_host").GetInt64() >= MiB, result.ToString());
            Assert.True(json.GetProperty("kept").GetBoolean(), "a response the sandbox held lost its bytes to the release\n" + result);

            // Both sides fault their pages in again and keep working.
            Assert.Equal(200, json.GetProperty("again").GetInt32());
            Assert.True(json.GetProperty("same").GetBoolean(), result.ToString());
            Assert.Equal(200, json.GetProperty("put2").GetInt32());
            Assert.Equal(body, await _node.GetAsync("fn/out2.bin"));
            Assert.False(session.Closed.IsCompleted);
        }
        finally
        {
            if (!process.WaitForExitAsync().IsCompleted)
            {
                process.Kill();
            }

            File.Delete(go);
            File.Delete(stdoutPath);
            File.Delete(stderrPath);
        }
    }
}
