// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using System.Globalization;
using Nexus.Testing;
using Nexus.Testing.Channel;
using Xunit.Abstractions;

namespace Nexus.Backend.Tests;

/// <summary>
/// Measures (and prints; asserts only correctness) a 1 KiB GET through channel + backend against the same GET by
/// boto3 over TCP, and the host CPU per request. Run: dotnet test tests/Nexus.Backend.Tests -c Release
/// --filter ChannelBenchmark --logger "console;verbosity=detailed".
/// </summary>
public sealed class ChannelBenchmark(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Warmup = 300;
    private const int Rounds = 2000;
    private NodeUnderTest _node = null!;

    public async Task InitializeAsync()
    {
        _node = await NodeUnderTest.StartAsync();
        await _node.PutAsync("fn/1k", Enumerable.Range(0, 1024).Select(i => (byte)i).ToArray());
    }

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task Get_1KiB_channel_vs_boto3_over_tcp()
    {
        var reason = HostRequirements.Missing(debianBoto3: true);
        Assert.True(reason is null, reason);
        var measure = $$"""
            import time, json
            def bench(get, expect=bytes(i % 256 for i in range(1024))):
                bad = 0
                for _ in range({{Warmup}}):
                    bad += get() != expect
                lat = []
                for _ in range({{Rounds}}):
                    t0 = time.perf_counter_ns()
                    d = get()
                    lat.append(time.perf_counter_ns() - t0)
                    bad += d != expect
                lat.sort()
                return {"bad": bad, "p50_us": lat[len(lat) // 2] / 1000, "p99_us": lat[len(lat) * 99 // 100] / 1000, "mean_us": sum(lat) / len(lat) / 1000}
            """;
        var (channel, session) = _node.Attach();
        var channelRun = await TimedAsync(() => PythonSandbox.RunAsync(channel, PythonSandbox.Prelude + measure + "\n" + """
            def get():
                r = t.call("GetObject", {"Bucket": "nexus-test", "Key": "fn/1k"})
                d = r.body.read(); r.body.close(); return d
            emit(bench(get))
            """));
        var tcpRun = await TimedAsync(() => PythonSandbox.RunAsync(channel, measure + "\n" + $$"""
            import boto3
            s3 = boto3.client("s3", endpoint_url="{{_node.StoreUrl}}", aws_access_key_id="{{NodeUnderTest.AccessKey}}",
                              aws_secret_access_key="{{NodeUnderTest.SecretKey}}", region_name="us-east-1")
            def get():
                return s3.get_object(Bucket="nexus-test", Key="fn/1k")["Body"].read()
            print(json.dumps(bench(get)))
            """));
        // The channel alone: a request refused by the permission check never reaches the store.
        var deniedRun = await TimedAsync(() => PythonSandbox.RunAsync(channel, PythonSandbox.Prelude + measure + "\n" + """
            def get():
                r = t.call("GetObject", {"Bucket": "nexus-test", "Key": "private/1k"})
                r.body.close(); return r.status
            emit(bench(get, 403))
            """));
        foreach (var (name, run, _) in new[] { ("channel", channelRun.Result, channelRun.Cpu), ("boto3/tcp", tcpRun.Result, tcpRun.Cpu), ("denied", deniedRun.Result, deniedRun.Cpu) })
        {
            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.Equal(0, run.Json.GetProperty("bad").GetInt32());
        }

        var c = channelRun.Result.Json;
        var b = tcpRun.Result.Json;
        var requests = Warmup + Rounds;
        // The store runs in this process in both runs and does the same work per GET, so the difference is the backend.
        var channelCpu = channelRun.Cpu.TotalMicroseconds / requests;
        var tcpCpu = tcpRun.Cpu.TotalMicroseconds / requests;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"1 KiB GET, {Rounds} rounds after {Warmup} warm-up, latency seen by the function (Python):"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  channel+backend : p50 {c.GetProperty("p50_us").GetDouble(),8:F1} us  p99 {c.GetProperty("p99_us").GetDouble(),8:F1} us  mean {c.GetProperty("mean_us").GetDouble(),8:F1} us"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  boto3 over TCP  : p50 {b.GetProperty("p50_us").GetDouble(),8:F1} us  p99 {b.GetProperty("p99_us").GetDouble(),8:F1} us  mean {b.GetProperty("mean_us").GetDouble(),8:F1} us"));
        var d = deniedRun.Result.Json;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  channel only    : p50 {d.GetProperty("p50_us").GetDouble(),8:F1} us  p99 {d.GetProperty("p99_us").GetDouble(),8:F1} us  mean {d.GetProperty("mean_us").GetDouble(),8:F1} us  (AccessDenied, no storage call; host CPU {deniedRun.Cpu.TotalMicroseconds / requests:F1} us/request)"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"host-process CPU per request (store in both; backend only in the channel run):"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  channel run {channelCpu:F1} us, boto3 run {tcpCpu:F1} us, backend share ~{channelCpu - tcpCpu:F1} us"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  session counted {session.Stats.Requests} requests"));
    }

    private static async Task<(PythonSandbox.Result Result, TimeSpan Cpu)> TimedAsync(Func<Task<PythonSandbox.Result>> run)
    {
        using var self = Process.GetCurrentProcess();
        var before = self.TotalProcessorTime;
        var result = await run();
        self.Refresh();
        return (result, self.TotalProcessorTime - before);
    }
}
