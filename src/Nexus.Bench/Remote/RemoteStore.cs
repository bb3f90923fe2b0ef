// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Nexus.Bench.Density;
using Nexus.Interop;
using Nexus.Node;

namespace Nexus.Bench.Remote;

/// <summary>What <see cref="RemoteStore.StartAsync"/> starts.</summary>
public sealed record RemoteStoreOptions
{
    public required StorageProfile Profile { get; init; }

    public StoreServerKind Server { get; init; } = StoreServerKind.Nexus;

    /// <summary>argv that runs the nexus CLI (e.g. <c>dotnet /path/nexus.dll</c>); <c>store serve ...</c> is appended.</summary>
    public IReadOnlyList<string> NexusCommand { get; init; } = [];

    /// <summary>The node's <see cref="NodeOptions.S3PrefetchRevalidation"/> against this store.</summary>
    public bool PrefetchRevalidation { get; init; } = true;

    /// <summary>s3rver's entry script (scripts/setup installs it there).</summary>
    public string S3rverScript { get; init; } = "/opt/nexus/s3rver/node_modules/s3rver/bin/s3rver.js";
}

/// <summary>
/// An S3 store on the far side of a shaped link, on this machine: its own network namespace <c>nxstore-&lt;pid&gt;</c>
/// joined to the host by two TAP devices (<c>nxsh&lt;pid&gt;</c> on the host, 10.78.0.1/30; <c>nxss&lt;pid&gt;</c> inside,
/// 10.78.0.2/30) that a <see cref="DelayLine"/> process joins with the profile's one-way delay each way, tbf on both
/// limiting the rate, and the server process inside. Every packet between the node (or a baseline sandbox, routed
/// through the host) and the store crosses the link. Everything is named with the owner's pid: <see cref="SweepAsync"/>
/// removes what a run that died left behind (its namespace, link and the processes still in the namespace), and
/// dispose removes this one's.
/// </summary>
public sealed class RemoteStore : IAsyncDisposable
{
    public const string NetnsPrefix = "nxstore-";
    public const string HostLinkPrefix = "nxsh";
    public const string StoreLinkPrefix = "nxss";
    public const int Port = 9780;

    public static readonly IPAddress HostAddress = IPAddress.Parse("10.78.0.1");
    public static readonly IPAddress StoreAddress = IPAddress.Parse("10.78.0.2");

    private const string NetnsDirectory = "/run/netns";
    private const string SysClassNet = "/sys/class/net";
    private const int LinkMtu = Nexus.Sandbox.Network.HostNetwork.RoutedMtu;

    private readonly string _dataDirectory;
    private readonly Process _server;
    private readonly ServerOutput _output;
    private readonly Process _link;
    private int _disposed;

    private RemoteStore(StorageProfile profile, StoreServerKind kind, bool prefetchRevalidation, string netns, string hostLink, string dataDirectory, Process server, ServerOutput output, Process link, KeyPair key)
    {
        _link = link;
        Profile = profile;
        Server = kind;
        PrefetchRevalidation = prefetchRevalidation;
        Netns = netns;
        HostLink = hostLink;
        _dataDirectory = dataDirectory;
        _server = server;
        _output = output;
        Key = key;
    }

    public StorageProfile Profile { get; }

    public StoreServerKind Server { get; }

    /// <summary>The node's <see cref="NodeOptions.S3PrefetchRevalidation"/> against this store.</summary>
    public bool PrefetchRevalidation { get; }

    public string Netns { get; }

    public string HostLink { get; }

    public string Endpoint => $"http://{StoreAddress}:{Port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The store's full-access key.</summary>
    public KeyPair Key { get; }

    /// <summary>The storage process (its CPU and memory are reported apart from the node's).</summary>
    public int ServerPid => _server.Id;

    /// <summary>The link emulator's process (<see cref="DelayLine"/>).</summary>
    public int LinkPid => _link.Id;

    /// <summary>The node's options with this store as its S3 endpoint (a nexus store also takes the functions' keys).</summary>
    public NodeOptions Apply(NodeOptions node) => node with
    {
        S3Endpoint = Endpoint,
        S3AccessKeyId = Key.AccessKeyId,
        S3SecretAccessKey = Key.SecretAccessKey,
        S3RegisterFunctionKeys = Server == StoreServerKind.Nexus,

        // s3rver 3.7.1 keeps aws-chunked framing in the object it stores.
        S3ChunkedUploads = Server == StoreServerKind.Nexus,
        S3PrefetchRevalidation = PrefetchRevalidation,
    };

    public static async Task<RemoteStore> StartAsync(RemoteStoreOptions options, TextWriter log, CancellationToken cancellationToken)
    {
        await SweepAsync(log);
        var ip = HostTool.Resolve("ip", "iproute2 for the remote store's namespace");
        var tc = HostTool.Resolve("tc", "tc (iproute2) to shape the remote store's link");
        var owner = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        if (Directory.Exists(SysClassNet) && Directory.EnumerateFileSystemEntries(SysClassNet, HostLinkPrefix + "*").Select(Path.GetFileName).FirstOrDefault() is { } other)
        {
            throw new InvalidOperationException($"a remote store of a live process already holds {other} ({HostAddress}/30); one runs at a time (stop that run first)");
        }

        var netns = NetnsPrefix + owner;
        var hostLink = HostLinkPrefix + owner;
        var storeLink = StoreLinkPrefix + owner;
        var data = Directory.CreateTempSubdirectory("nexus-remote-store-").FullName;
        Process? link = null;
        try
        {
            await RunAsync(ip, ["netns", "add", netns]);

            // The link: two TAP devices joined by the delay line, a process of its own (the kernel here has no netem). It
            // runs SCHED_FIFO: a wire's latency does not depend on how busy the host's CPUs are, and on a loaded machine a
            // normal-priority delay line waited milliseconds for a CPU (TCP connects of 8-44 ms on a 0.4 ms profile). It
            // sleeps between frames, and the kernel's RT throttling bounds it anyway.
            var delayUs = options.Profile.OneWayDelay.TotalMicroseconds.ToString("0", CultureInfo.InvariantCulture);
            link = StartProcess([HostTool.Resolve("chrt", "chrt (util-linux) to run the delay line at real-time priority"), "--fifo", "10", .. options.NexusCommand, "bench", "delay-line", "--host-tap", hostLink, "--store-netns", Path.Combine(NetnsDirectory, netns), "--store-tap", storeLink, "--delay-us", delayUs]);
            var linkOutput = new ServerOutput(link);
            await linkOutput.WaitForAsync("ready", link, "the delay line", cancellationToken);
            await RunAsync(ip, ["-batch", "-"], $"""
                link set dev {hostLink} addrgenmode none mtu {LinkMtu}
                addr add {HostAddress}/30 dev {hostLink}
                link set dev {hostLink} up

                """);
            await RunAsync(ip, ["-n", netns, "-batch", "-"], $"""
                link set dev lo up
                link set dev {storeLink} addrgenmode none mtu {LinkMtu}
                addr add {StoreAddress}/30 dev {storeLink}
                link set dev {storeLink} up

                """);

            // Replies to baseline sandboxes (masqueraded by the node's firewall) come in here and are forwarded to them.
            await File.WriteAllTextAsync($"/proc/sys/net/ipv4/conf/{hostLink}/forwarding", "1", cancellationToken);

            // tbf: the profile's rate each way, a burst of 4 MB (>= rate / HZ at 10 Gbit/s), at most 20 ms queued.
            var rate = $"{options.Profile.RateMbit.ToString(CultureInfo.InvariantCulture)}mbit";
            await RunAsync(tc, ["qdisc", "replace", "dev", hostLink, "root", "tbf", "rate", rate, "burst", "4mb", "latency", "20ms"]);
            await RunAsync(tc, ["-n", netns, "qdisc", "replace", "dev", storeLink, "root", "tbf", "rate", rate, "burst", "4mb", "latency", "20ms"]);

            var key = options.Server == StoreServerKind.Nexus ? KeyPair.LoadOrCreateAdmin(Path.Combine(data, "credentials.json")) : new KeyPair("S3RVER", "S3RVER");
            var server = StartProcess([ip, .. ServerCommand(options, netns, data)]);
            var output = new ServerOutput(server);
            var store = new RemoteStore(options.Profile, options.Server, options.PrefetchRevalidation, netns, hostLink, data, server, output, link, key);
            link = null;
            try
            {
                await store.WaitUntilListeningAsync(cancellationToken);
            }
            catch
            {
                await store.DisposeAsync();
                throw;
            }

            log.WriteLine($"  remote store: {options.Server.ToString().ToLowerInvariant()} (pid {server.Id}) at {store.Endpoint} in netns {netns}, link {hostLink} shaped {options.Profile.Name}: delay line {delayUs} us (pid {store.LinkPid}) and tbf rate {rate} each way, first-byte latency {options.Profile.FirstByteLatency.TotalMilliseconds} ms in the store");
            return store;
        }
        catch
        {
            if (link is not null)
            {
                await StopAsync(link);
            }

            await RemoveAsync(netns, hostLink);
            Directory.Delete(data, recursive: true);
            throw;
        }
    }

    /// <summary>Removes the namespaces, links and processes of remote stores whose owning process is gone.</summary>
    public static async Task SweepAsync(TextWriter? log = null)
    {
        var owners = new HashSet<string>(StringComparer.Ordinal);
        if (Directory.Exists(NetnsDirectory))
        {
            owners.UnionWith(Directory.EnumerateFiles(NetnsDirectory, NetnsPrefix + "*").Select(f => Path.GetFileName(f)[NetnsPrefix.Length..]));
        }

        if (Directory.Exists(SysClassNet))
        {
            owners.UnionWith(Directory.EnumerateFileSystemEntries(SysClassNet, HostLinkPrefix + "*").Select(f => Path.GetFileName(f)[HostLinkPrefix.Length..]));
        }

        foreach (var owner in owners)
        {
            if (int.TryParse(owner, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && Directory.Exists($"/proc/{pid}"))
            {
                continue;
            }

            log?.WriteLine($"  removing the remote store left by process {owner} (namespace {NetnsPrefix}{owner}, link {HostLinkPrefix}{owner})");
            await RemoveAsync(NetnsPrefix + owner, HostLinkPrefix + owner);
        }
    }

    /// <summary>Names left on the host by remote stores (for checks): namespaces and host links.</summary>
    public static IReadOnlyList<string> Leftovers() =>
    [
        .. Directory.Exists(NetnsDirectory) ? Directory.EnumerateFiles(NetnsDirectory, NetnsPrefix + "*").Select(Path.GetFileName).OfType<string>() : [],
        .. Directory.Exists(SysClassNet) ? Directory.EnumerateFileSystemEntries(SysClassNet, HostLinkPrefix + "*").Select(Path.GetFileName).OfType<string>() : [],
    ];

    /// <summary>TCP connect times to the store (SYN out, SYN-ACK back: one round trip over the shaped link).</summary>
    public async Task<IReadOnlyList<TimeSpan>> MeasureConnectTimesAsync(int count, CancellationToken cancellationToken)
    {
        var times = new List<TimeSpan>(count);
        for (var i = 0; i < count; i++)
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            var started = Stopwatch.GetTimestamp();
            await socket.ConnectAsync(new IPEndPoint(StoreAddress, Port), cancellationToken);
            times.Add(Stopwatch.GetElapsedTime(started));
        }

        return times;
    }

    /// <summary>The storage process's CPU time and PSS (KiB) now.</summary>
    public (TimeSpan Cpu, long PssKiB) ReadServerUsage() => Usage(_server);

    /// <summary>The link emulator's CPU time and PSS (KiB) now: the network's cost, neither the node's nor the store's.</summary>
    public (TimeSpan Cpu, long PssKiB) ReadLinkUsage() => Usage(_link);

    private static (TimeSpan Cpu, long PssKiB) Usage(Process process)
    {
        process.Refresh();
        return (process.HasExited ? TimeSpan.Zero : process.TotalProcessorTime, ResourceSampler.ReadPssKiB($"/proc/{process.Id}/smaps_rollup"));
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await StopAsync(_server);
        await StopAsync(_link);
        await RemoveAsync(Netns, HostLink);
        Directory.Delete(_dataDirectory, recursive: true);
    }

    // A nexus store and the delay line stop when their stdin closes (also when this process dies); s3rver, or anything
    // stuck, is ended by SIGTERM and then SIGKILL.
    private static async Task StopAsync(Process process)
    {
        if (!process.HasExited)
        {
            process.StandardInput.Close();
            ChildProcess.Kill(process.Id, 15);
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill();
                await process.WaitForExitAsync();
            }
        }

        process.Dispose();
    }

    private static Process StartProcess(IReadOnlyList<string> argv)
    {
        var start = new ProcessStartInfo(argv[0]) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in argv.Skip(1))
        {
            start.ArgumentList.Add(arg);
        }

        return Process.Start(start) ?? throw new InvalidOperationException($"could not start {string.Join(' ', argv)}");
    }

    private static IEnumerable<string> ServerCommand(RemoteStoreOptions options, string netns, string data)
    {
        IEnumerable<string> command = options.Server switch
        {
            StoreServerKind.Nexus when options.NexusCommand.Count == 0 => throw new ArgumentException("RemoteStoreOptions.NexusCommand: how to run the nexus CLI is needed for a nexus store"),
            StoreServerKind.Nexus => [.. options.NexusCommand, "store", "serve", "--data", Path.Combine(data, "store"), "--credentials", Path.Combine(data, "credentials.json"), "--listen", $"http://{StoreAddress}:{Port}", "--exit-on-stdin-eof",
                "--first-byte-latency-ms", options.Profile.FirstByteLatency.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)],
            _ when options.Profile.FirstByteLatency > TimeSpan.Zero => throw new ArgumentException($"storage profile '{options.Profile.Name}' adds {options.Profile.FirstByteLatency.TotalMilliseconds} ms of first-byte latency in the store, which only `nexus store serve` can do; s3rver cannot (use another profile with s3rver)"),
            _ when !File.Exists(options.S3rverScript) => throw new FileNotFoundException($"s3rver is not installed at {options.S3rverScript} (scripts/setup installs it)", options.S3rverScript),
            _ => [HostTool.Resolve("node", "node (Debian package nodejs) for s3rver"), options.S3rverScript, "-d", Path.Combine(data, "store"), "-a", StoreAddress.ToString(), "-p", Port.ToString(CultureInfo.InvariantCulture), "--silent", "--no-vhost-buckets"],
        };
        Directory.CreateDirectory(Path.Combine(data, "store"));
        return ["netns", "exec", netns, .. command];
    }

    private static async Task RemoveAsync(string netns, string hostLink)
    {
        var ip = HostTool.Resolve("ip", "iproute2 for the remote store's namespace");
        if (File.Exists(Path.Combine(NetnsDirectory, netns)))
        {
            // Processes keep a namespace's interfaces alive after `netns del`: end the ones still in it (only ours live there).
            var pids = await HostTool.RunAsync(ip, ["netns", "pids", netns]);
            foreach (var line in pids.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                {
                    ChildProcess.Kill(pid, 9);
                }
            }

            await HostTool.RunAsync(ip, ["netns", "del", netns]);
        }

        if (Directory.Exists(Path.Combine(SysClassNet, hostLink)))
        {
            await HostTool.RunAsync(ip, ["link", "del", hostLink]);
        }
    }

    private static async Task RunAsync(string tool, IReadOnlyList<string> arguments, string? input = null)
    {
        var result = await HostTool.RunAsync(tool, arguments, input);
        if (!result.Succeeded)
        {
            throw new IOException($"remote store: {Path.GetFileName(tool)} {string.Join(' ', arguments)} failed: {result.StandardError.Trim()}");
        }
    }

    private async Task WaitUntilListeningAsync(CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (Stopwatch.Frequency * 60);
        while (true)
        {
            if (_server.HasExited)
            {
                throw new InvalidOperationException($"the {Server.ToString().ToLowerInvariant()} store server exited ({_server.ExitCode}) before it listened: {_output.Text}");
            }

            try
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(new IPEndPoint(StoreAddress, Port), cancellationToken);
                return;
            }
            catch (SocketException) when (Stopwatch.GetTimestamp() < deadline)
            {
                await Task.Delay(100, cancellationToken);
            }
            catch (SocketException e)
            {
                throw new TimeoutException($"the store server did not listen on {Endpoint} within 60 s ({e.Message}): {_output.Text}", e);
            }
        }
    }

    /// <summary>A child's last output lines, for the error when it fails to start.</summary>
    private sealed class ServerOutput
    {
        private readonly Queue<string> _lines = new();
        private readonly TaskCompletionSource<string> _first = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ServerOutput(Process process)
        {
            process.OutputDataReceived += (_, e) => Add(e.Data);
            process.ErrorDataReceived += (_, e) => Add(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public string Text
        {
            get
            {
                lock (_lines)
                {
                    return string.Join(" | ", _lines);
                }
            }
        }

        /// <summary>Waits for the child's first output line to be <paramref name="expected"/>.</summary>
        public async Task WaitForAsync(string expected, Process process, string what, CancellationToken cancellationToken)
        {
            var first = await _first.Task.WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
            if (first != expected)
            {
                await Task.WhenAny(process.WaitForExitAsync(cancellationToken), Task.Delay(1000, cancellationToken));
                throw new InvalidOperationException($"{what} did not start: {Text}");
            }
        }

        private void Add(string? line)
        {
            if (line is null)
            {
                _first.TrySetResult("");
                return;
            }

            _first.TrySetResult(line);

            lock (_lines)
            {
                _lines.Enqueue(line);
                if (_lines.Count > 20)
                {
                    _lines.Dequeue();
                }
            }
        }
    }
}
