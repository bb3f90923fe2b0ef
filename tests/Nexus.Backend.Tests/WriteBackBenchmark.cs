// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using Nexus.Backend.WriteBack;
using Nexus.Channel;
using Nexus.Channel.Services;
using Nexus.Functions;
using Nexus.Store;
using Nexus.Testing.Channel;
using Xunit.Abstractions;

namespace Nexus.Backend.Tests;

/// <summary>
/// Measures (and prints; asserts only correctness) how long a function waits for a PutObject's answer with
/// <c>writeback: async</c> (spooled and fsynced) and <c>sync</c> (stored), for 64 KiB, 1 MiB and 10 MiB bodies, back to
/// back and spaced out.
/// Run: dotnet test tests/Nexus.Backend.Tests -c Release --filter WriteBackBenchmark --logger "console;verbosity=detailed".
/// </summary>
public sealed class WriteBackBenchmark(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Bucket = NodeUnderTest.Bucket;

    private readonly string _root = Directory.CreateTempSubdirectory("nexus-writeback-bench-").FullName;
    private S3StoreServer _store = null!;
    private readonly ChannelServiceHost _host = new();
    private NexusBackend _backend = null!;

    public async Task InitializeAsync()
    {
        var credentials = new StoreCredentials();
        credentials.Add(new StoreCredential(NodeUnderTest.AccessKey, NodeUnderTest.SecretKey));
        _store = await S3StoreServer.StartAsync(new StoreOptions { DataDirectory = Path.Combine(_root, "store"), Urls = ["http://127.0.0.1:0"] }, credentials);
        var url = _store.BoundAddresses[0].ToString().TrimEnd('/');
        _backend = new NexusBackend(new NexusBackendOptions
        {
            ServiceUrl = url,
            AccessKey = NodeUnderTest.AccessKey,
            SecretKey = NodeUnderTest.SecretKey,
            SpoolDirectory = Path.Combine(_root, "spool"),
            Log = _ => { },
        });
        using var admin = new Amazon.S3.AmazonS3Client(new Amazon.Runtime.BasicAWSCredentials(NodeUnderTest.AccessKey, NodeUnderTest.SecretKey), new Amazon.S3.AmazonS3Config { ServiceURL = url, ForcePathStyle = true, AuthenticationRegion = "us-east-1", UseHttp = true });
        await admin.PutBucketAsync(Bucket);
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _backend.DisposeAsync();
        await _store.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task Put_acknowledgement_async_vs_sync()
    {
        foreach (var mode in new[] { WriteBackMode.Async, WriteBackMode.Sync })
        {
            var name = mode.ToString().ToLowerInvariant();
            var session = ServedChannel.Open(_host, _backend, NodeUnderTest.Manifest() with { WriteBack = mode }, new ChannelOptions { RegionSize = 32 << 20, SlotSize = 1 << 20 });
            var channel = session.Channel;
            PythonSandbox.Result result;
            try
            {
                result = await PythonSandbox.RunAsync(channel, PythonSandbox.Prelude + $$"""
                    import time
                    res = {}
                    # Back to back, the uploads of earlier puts compete with the next put for disk and CPU; spaced out,
                    # they are done before the next put (one put per invocation with some work in between).
                    for pause in (0.0, 0.05):
                        for size, rounds in ((64 << 10, 100), (1 << 20, 40), (10 << 20, 10)):
                            data = bytes(range(256)) * (size // 256)
                            etag = '"' + hashlib.md5(data).hexdigest() + '"'
                            lat, bad = [], 0
                            for i in range(rounds + 3):
                                t0 = time.perf_counter_ns()
                                s, m, _ = call("PutObject", {"Bucket": "{{Bucket}}", "Key": f"fn/bench/{{name}}/{pause}/{size}/{i}"}, data)
                                dt = time.perf_counter_ns() - t0
                                bad += s != 200 or m.get("ETag") != etag
                                time.sleep(pause)
                                if i >= 3:
                                    lat.append(dt)
                            lat.sort()
                            res[f"{size >> 10} KiB, pause {int(pause * 1000)} ms"] = {"bad": bad, "p50_ms": lat[len(lat) // 2] / 1e6, "max_ms": lat[-1] / 1e6}
                    emit(res)
                    """);
            }
            finally
            {
                await session.DisposeAsync();
            }

            Assert.True(result.ExitCode == 0, result.ToString());
            foreach (var size in result.Json.EnumerateObject())
            {
                Assert.Equal(0, size.Value.GetProperty("bad").GetInt32());
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-5} put {size.Name,-24}: p50 {size.Value.GetProperty("p50_ms").GetDouble(),8:0.00} ms, max {size.Value.GetProperty("max_ms").GetDouble(),8:0.00} ms"));
            }
        }

        Assert.Equal(0, await _backend.WriteBack!.DrainAsync(TimeSpan.FromMinutes(5)));
        Assert.Empty(SpoolJournal.Scan(Path.Combine(_root, "spool")));
    }
}
