// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text.Json;
using Nexus.Channel;
using Nexus.Image;
using Nexus.Sandbox;
using Nexus.Sandbox.Oci;

namespace Nexus.Testing.Channel;

/// <summary>
/// A neighbour instance as the node runs one: a runc container of the function image (its own pid, mount, ipc, uts and
/// network namespaces, seccomp, no capabilities, uid 65534, cgroup limits) with the channel at fds 3, 4, 5, running a
/// Python script against the image's own nexus_channel. One driver per test class, with a prefix of its own.
/// </summary>
public sealed class RuncNeighbour : IAsyncDisposable
{
    private static int s_counter;
    private readonly OciSandboxDriver _driver;
    private readonly string _rootfs;
    private readonly string _prefix;

    private RuncNeighbour(OciSandboxDriver driver, string rootfs, string prefix)
    {
        _driver = driver;
        _rootfs = rootfs;
        _prefix = prefix;
    }

    public static async Task<RuncNeighbour> StartAsync()
    {
        var image = await new ImageBuilder(new ImageOptions { RuntimeSourceDirectory = Path.Combine(HostRequirements.RepoRoot, "runtime") })
            .EnsureAsync(null, CancellationToken.None);
        var prefix = "h" + Guid.NewGuid().ToString("N")[..6] + "-";
        var driver = new OciSandboxDriver(new OciDriverOptions { InstancePrefix = prefix });
        await driver.PrepareHostAsync(CancellationToken.None);
        return new RuncNeighbour(driver, image.RootfsPath, prefix);
    }

    /// <summary>
    /// Runs <paramref name="script"/> (after <see cref="PythonSandbox.Prelude"/>) in a fresh container on
    /// <paramref name="channel"/>; the script's last stdout line is its JSON result. The prelude also reports the
    /// sandbox it ran in (pid in its namespace, seccomp mode, uid, capabilities) under "sandbox".
    /// </summary>
    public async Task<PythonSandbox.Result> RunAsync(ProcessChannel channel, string script)
    {
        var output = new ConcurrentQueue<(string Line, bool IsError)>();
        var environment = new Dictionary<string, string>(channel.SandboxEnvironment) { ["PYTHONPATH"] = "/opt/nexus/runtime", ["PYTHONUNBUFFERED"] = "1" };
        var spec = new SandboxSpec
        {
            InstanceId = _prefix + Interlocked.Increment(ref s_counter),
            RootfsPath = _rootfs,
            Command = ["python3", "-c", PythonSandbox.Prelude + Identity + script],
            Environment = environment,
            MemoryMb = 128,
            PassedFds = [.. channel.SandboxFds.OrderBy(f => f.Target).Select(f => (SafeHandle)f.Source)],
            OnOutput = (line, isError) => output.Enqueue((line, isError)),
        };
        var instance = await _driver.StartAsync(spec, CancellationToken.None);
        await using (instance)
        {
            var exit = await instance.Exited.WaitAsync(TimeSpan.FromMinutes(2));
            return new PythonSandbox.Result(
                exit.ExitCode ?? 128 + (exit.Signal ?? 0),
                string.Join('\n', output.Where(o => !o.IsError).Select(o => o.Line)),
                string.Join('\n', output.Where(o => o.IsError).Select(o => o.Line)));
        }
    }

    /// <summary>Asserts that a result came from a real sandbox: pid 1 of its own namespace, seccomp filter, uid 65534, no capabilities.</summary>
    public static void AssertSandboxed(JsonElement result)
    {
        var sandbox = result.GetProperty("sandbox");
        Assert.Equal(1, sandbox.GetProperty("pid").GetInt32());
        Assert.Equal("2", sandbox.GetProperty("Seccomp").GetString());
        Assert.StartsWith("65534", sandbox.GetProperty("Uid").GetString(), StringComparison.Ordinal);
        Assert.Equal("0000000000000000", sandbox.GetProperty("CapEff").GetString());
    }

    public async ValueTask DisposeAsync() => await _driver.ReleaseHostAsync();

    private const string Identity = """
        with open("/proc/self/status") as f:
            status = dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
        sandbox = {"pid": os.getpid(), "Seccomp": status["Seccomp"].strip(), "Uid": status["Uid"].strip(), "CapEff": status["CapEff"].strip()}
        _emit = emit
        def emit(obj):
            obj["sandbox"] = sandbox
            _emit(obj)

        """;
}
