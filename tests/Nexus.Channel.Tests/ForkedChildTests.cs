// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Testing.Channel;

namespace Nexus.Channel.Tests;

/// <summary>
/// A function that forks (multiprocessing's default start method) and calls storage in the child, as AWS's own
/// examples of parallel work in Lambda do: the channel belongs to the runtime's process only.
/// </summary>
public sealed class ForkedChildTests : IAsyncLifetime
{
    private NodeUnderTest _node = null!;

    public async Task InitializeAsync()
    {
        _node = await NodeUnderTest.StartAsync();
        await _node.PutAsync("fn/x", "hello fork"u8.ToArray());
    }

    public async Task DisposeAsync() => await _node.DisposeAsync();

    /// <summary>
    /// Guards the transport's after-fork hook (nexus_channel/transport.py): a forked child's call fails at once with
    /// an error saying why, and the parent's calls before and after are served. Without it the child wrote into the
    /// parent's rings and one of the two waited for an answer the other had taken, until the function's timeout (found
    /// by a new user's test, 2026-12-06). With the hook removed once, this timed out.
    /// </summary>
    [Fact]
    public async Task A_forked_childs_call_fails_saying_why_and_the_parent_is_still_served()
    {
        var attached = _node.Attach();
        var result = await PythonSandbox.RunAsync(attached.Channel, PythonSandbox.Prelude + """
            def get():
                return call("GetObject", {"Bucket": "nexus-test", "Key": "fn/x"})[2].decode()
            out = {"before": get()}
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(read)
                try:
                    said = "served: " + get()
                except Exception as e:
                    said = type(e).__name__ + ": " + str(e)
                os.write(write, said.encode())
                os._exit(0)
            os.close(write)
            with os.fdopen(read, "rb") as r:
                out["child"] = r.read().decode()
            os.waitpid(pid, 0)
            out["after"] = [get() for _ in range(3)]
            emit(out)
            """).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json;
        Assert.Equal("hello fork", json.GetProperty("before").GetString());
        Assert.StartsWith("ChannelError: this process is a fork of the one that holds the Nexus channel", json.GetProperty("child").GetString(), StringComparison.Ordinal);
        Assert.All(json.GetProperty("after").EnumerateArray(), a => Assert.Equal("hello fork", a.GetString()));
    }
}
