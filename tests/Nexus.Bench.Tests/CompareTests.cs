// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using System.IO.Compression;
using System.Text.Json;
using Nexus.Functions;
using Nexus.Node.Transports;
using Nexus.Sandbox;
using Nexus.Testing;

namespace Nexus.Bench.Tests;

// Both start a real node on the same fixed ports and host network: they must not run at the same time.
[Collection(RealNodeCollection.Name)]
public sealed class CompareTests
{
    private static string HelloS3 => Path.Combine(HostRequirements.RepoRoot, "examples", "hello-s3");

    [Theory]
    [InlineData("baseline", IoMode.Baseline, WriteBackMode.Async, true)]
    [InlineData("nexus-sync", IoMode.Nexus, WriteBackMode.Sync, false)]
    [InlineData("nexus-async", IoMode.Nexus, WriteBackMode.Async, true)]
    public void Each_configuration_packages_the_same_code_with_its_io_settings(string name, IoMode io, WriteBackMode writeBack, bool prefetch)
    {
        var configuration = BenchConfiguration.Parse(name);
        using var package = FunctionVariant.Package(HelloS3, "variant", configuration.Io, configuration.WriteBack, configuration.Prefetch);
        using var zip = new ZipArchive(package);
        using var reader = new StreamReader(zip.GetEntry("function.yaml")!.Open());
        var manifest = ManifestParser.Parse(reader.ReadToEnd());

        Assert.Equal("variant", manifest.Name);
        Assert.Equal(io, manifest.Io);
        Assert.Equal(writeBack, manifest.WriteBack);
        Assert.Equal(prefetch, manifest.Prefetch);
        Assert.NotNull(zip.GetEntry("handler.py"));
        Assert.Equal(ManifestParser.LoadFolder(HelloS3).Storage, manifest.Storage);
    }

    [Fact]
    public void The_event_is_an_s3_record_with_the_key_encoded_as_s3_sends_it()
    {
        using var doc = JsonDocument.Parse(CompareBenchmark.S3Event("nexus-examples", "dir/my photo+1é.jpg"));
        var s3 = doc.RootElement.GetProperty("Records")[0].GetProperty("s3");
        Assert.Equal("nexus-examples", s3.GetProperty("bucket").GetProperty("name").GetString());
        var key = s3.GetProperty("object").GetProperty("key").GetString()!;
        Assert.Equal("dir/my+photo%2B1%C3%A9.jpg", key);
        Assert.Equal("dir/my photo+1é.jpg", Uri.UnescapeDataString(key.Replace('+', ' ')));
    }

    [Fact]
    public void Cases_and_configurations_reject_unknown_names()
    {
        Assert.Equal("hello-s3/input/blob-10mib.bin", BenchCase.For(HelloS3, "10mib").Key);
        Assert.Contains("no 5mib input for hello-s3", Assert.Throws<ArgumentException>(() => BenchCase.For(HelloS3, "5mib")).Message, StringComparison.Ordinal);
        Assert.Contains("unknown configuration 'nexus-fast'", Assert.Throws<ArgumentException>(() => BenchConfiguration.Parse("nexus-fast")).Message, StringComparison.Ordinal);
    }

    [RootFact(runc: true)]
    public async Task A_tiny_real_run_accounts_for_every_invocation_of_every_configuration()
    {
        var home = Directory.CreateTempSubdirectory("nexus-compare-test-").FullName;
        try
        {
            var options = new CompareOptions
            {
                Cases = [BenchCase.For(HelloS3, "1mib")],
                Warm = 3,
                Cold = 1,
                CpuInvocations = 2,
                SeedScript = Path.Combine(HostRequirements.RepoRoot, "examples", "seed_inputs.py"),
                Node = Nexus.Node.NodeOptions.Load(o => o with
                {
                    Home = home,
                    ApiUrl = "http://127.0.0.1:29700",
                    StoreUrl = "http://127.0.0.1:29780",
                    SandboxStoreUrl = "http://10.77.0.1:29780",
                    RuntimeApiUrl = "http://10.77.0.1:29701",
                    ServiceProxyUrl = "http://10.77.0.1:29702",
                }),
            };
            // The run's log names each failed invocation and its error: a failure here says why.
            using var log = new StringWriter();
            IReadOnlyList<ModeResult> results;
            try
            {
                results = await CompareBenchmark.RunAsync(options, log, CancellationToken.None);
            }
            catch (InvalidOperationException e)
            {
                throw new InvalidOperationException($"{e.Message}\nthe run's log:\n{log}", e);
            }

            Assert.Equal(["baseline", "nexus-sync", "nexus-async"], results.Select(r => r.Configuration.Name));
            Assert.All(results, r =>
            {
                Assert.True(r.Errors == 0, $"{r.Configuration.Name}: {r.Errors} failed invocations; the run's log:\n{log}");
                Assert.Equal(3, r.WarmMs.Count);

                // The same warm invocations through the Invoke API, each stamped by the client, the API and the pool.
                Assert.Equal(ApiStages.Names.Count + 1, r.WarmApiStagesUs.Count);
                Assert.All(r.WarmApiStagesUs, s => Assert.Equal(3, s.Us.Count));
                Assert.Equal(1, r.ColdMs.Count);
                Assert.True(r.Memory.PssBytes > 0 && r.SandboxCpuMsPerInvocation > 0, $"{r.Configuration.Name}: no usage read");
            });

            // A nexus instance is forked from its function's template and holds only its share of their pages: the
            // template's share is read with it, so that one warm instance is compared whole. Baseline is not forked.
            Assert.Null(results.Single(r => r.Configuration.Name == "baseline").TemplateMemory);
            Assert.All(results.Where(r => r.Configuration.Name != "baseline"), r =>
                Assert.True(r.TemplateMemory?.PssBytes > 1 << 20, $"{r.Configuration.Name}: template PSS {r.TemplateMemory?.PssBytes} B"));
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    private static ModeResult Result(BenchConfiguration c, double warm, double cold, int run = 1, double storeCpu = double.NaN) =>
        new("hello-s3", "1mib", c, Percentiles.Of([warm]), Percentiles.Of([cold]), Percentiles.Of([warm * 10, warm * 20]), new NodeStages().Summarize(), 100, 1, 1, storeCpu, double.NaN, new SandboxMemory(1, 1 << 20, 1, 1), 0, run);

    [Fact]
    public void The_report_gives_each_nexus_configuration_over_baseline_and_judges_the_goals_on_async()
    {
        var text = CompareReport.Format(
        [
            Result(BenchConfiguration.Baseline, 10, 300),
            Result(BenchConfiguration.NexusSync, 8, 200),
            Result(BenchConfiguration.NexusAsync, 3, 150),
        ]);
        var warm = text.Split('\n').Single(l => l.TrimStart().StartsWith("warm p50", StringComparison.Ordinal));
        Assert.Contains("0.80", warm, StringComparison.Ordinal);
        Assert.Contains("0.30", warm, StringComparison.Ordinal);
        Assert.EndsWith("goal <= 0.40: met", warm.TrimEnd(), StringComparison.Ordinal);
        var overhead = text.Split('\n').Single(l => l.TrimStart().StartsWith("node overhead, warm p99", StringComparison.Ordinal));
        Assert.Contains("200.00", overhead, StringComparison.Ordinal);
        var cold = text.Split('\n').Single(l => l.TrimStart().StartsWith("cold p50", StringComparison.Ordinal));
        Assert.Contains("0.50", cold, StringComparison.Ordinal);
        Assert.EndsWith("goal <= 0.30: MISSED", cold.TrimEnd(), StringComparison.Ordinal);
        Assert.DoesNotContain("storage process", text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_forked_instance_is_compared_with_its_templates_share_added()
    {
        // Baseline's instance holds 40 MiB; the nexus instance 6 MiB of its own and its template 12 MiB more.
        var text = CompareReport.Format(
        [
            Result(BenchConfiguration.Baseline, 10, 300) with { Memory = new SandboxMemory(1, 40L << 20, 1, 1) },
            Result(BenchConfiguration.NexusAsync, 3, 150) with { Memory = new SandboxMemory(1, 6L << 20, 1, 1), TemplateMemory = new SandboxMemory(1, 12L << 20, 1, 1) },
        ]);
        var whole = text.Split('\n').Single(l => l.TrimStart().StartsWith("instance + its template's PSS", StringComparison.Ordinal));
        Assert.Contains("40.00", whole, StringComparison.Ordinal);
        Assert.Contains("18.00", whole, StringComparison.Ordinal);
        Assert.Contains("0.45", whole, StringComparison.Ordinal);
    }

    [Fact]
    public void The_json_results_write_what_was_not_measured_as_null()
    {
        // Baseline has no sandbox-side stages and a local run no storage process: both are NaN in memory.
        var json = CompareReport.Json([Result(BenchConfiguration.Baseline, 10, 300), Result(BenchConfiguration.NexusAsync, 3, 150, storeCpu: 2)]);
        using var doc = JsonDocument.Parse(json);
        var baseline = doc.RootElement[0];
        Assert.Equal(JsonValueKind.Null, baseline.GetProperty("storeCpuMsPerInvocation").ValueKind);
        Assert.All(baseline.GetProperty("warmStagesUs").EnumerateObject(), s => Assert.Equal(JsonValueKind.Null, s.Value.ValueKind));
        Assert.Equal(10, baseline.GetProperty("warmMs").GetProperty("P50").GetDouble());
        Assert.Equal(2, doc.RootElement[1].GetProperty("storeCpuMsPerInvocation").GetDouble());
    }

    [Fact]
    public void Over_several_runs_the_report_gives_medians_the_async_ratio_range_and_the_storage_process_apart()
    {
        var text = CompareReport.Format(
        [
            Result(BenchConfiguration.Baseline, 10, 300, run: 1, storeCpu: 4),
            Result(BenchConfiguration.NexusAsync, 3, 150, run: 1, storeCpu: 2),
            Result(BenchConfiguration.Baseline, 10, 300, run: 2, storeCpu: 5),
            Result(BenchConfiguration.NexusAsync, 5, 150, run: 2, storeCpu: 3),
            Result(BenchConfiguration.Baseline, 20, 300, run: 3, storeCpu: 6),
            Result(BenchConfiguration.NexusAsync, 4, 150, run: 3, storeCpu: 4),
        ]);
        Assert.Contains("medians of 3 runs", text, StringComparison.Ordinal);
        var warm = text.Split('\n').Single(l => l.TrimStart().StartsWith("warm p50", StringComparison.Ordinal));

        // Values: medians 10 and 4; ratios 0.30, 0.50, 0.20: median 0.30, range 0.20-0.50.
        Assert.Contains("10.00", warm, StringComparison.Ordinal);
        Assert.Contains("4.00", warm, StringComparison.Ordinal);
        Assert.EndsWith("0.30  0.20-0.50  goal <= 0.40: met", warm.TrimEnd(), StringComparison.Ordinal);

        // The storage process has its own line; node + sandbox (1 + 1 ms) does not include it.
        var storage = text.Split('\n').Single(l => l.TrimStart().StartsWith("CPU per invocation, storage process", StringComparison.Ordinal));
        Assert.Contains("5.00", storage, StringComparison.Ordinal);
        var node = text.Split('\n').Single(l => l.TrimStart().StartsWith("CPU per invocation, node + sandbox", StringComparison.Ordinal));
        Assert.Contains("2.00", node, StringComparison.Ordinal);
        Assert.EndsWith("goal <= 0.50: MISSED", node.TrimEnd(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_warm_invocation_is_split_at_its_stamps_and_a_stamp_a_transport_does_not_take_leaves_its_stages_out()
    {
        var stages = new NodeStages();
        var us = Stopwatch.Frequency / 1_000_000;

        // Channel: every stamp taken, 10 us apart except the sandbox's 500 us; the doorbell write returned 3 us after the
        // hand-over (outside the chain).
        var channel = Timeline(us, pickedUp: 160, submitted: 660);
        channel.Rung = 153 * us;
        stages.Add(channel, 100 * us, 720 * us);
        var split = stages.Summarize();
        Assert.Equal(NodeStages.Names.Count, split.Count);
        Assert.Equal([10.0, 10, 10, 10, 10, 10, 500, 10, 10, 10, 10, 10, 10, 3], split.Select(s => Math.Round(s.Us.P50)));

        // Runtime API: no sandbox stamps and no doorbell, so the stages around them have no sample from this invocation.
        stages.Add(Timeline(us, pickedUp: 0, submitted: 0), 100 * us, 720 * us);
        Assert.Equal([2, 2, 2, 2, 2, 1, 1, 1, 2, 2, 2, 2, 2, 1], stages.Summarize().Select(s => s.Us.Count));
    }

    private static InvocationTimeline Timeline(long us, long pickedUp, long submitted) => new()
    {
        HintsSearched = 110 * us,
        Acquired = 120 * us,
        PrefetchBegun = 130 * us,
        Invoking = 140 * us,
        Handed = 150 * us,
        PickedUp = pickedUp * us,
        Submitted = submitted * us,
        Arrived = 670 * us,
        Completed = 680 * us,
        Resumed = 690 * us,
        Reported = 700 * us,
        Finished = 710 * us,
    };

    [Fact]
    public void Sandbox_stamps_outside_the_nodes_own_are_dropped()
    {
        var ns = 1_000_000_000 / Stopwatch.Frequency;
        var timeline = new InvocationTimeline { Handed = 1000, Arrived = 2000 };
        timeline.SetSandboxStamps(999 * ns, 1500 * ns);
        Assert.Equal(0, timeline.PickedUp);
        timeline.SetSandboxStamps(1600 * ns, 1500 * ns);
        Assert.Equal(0, timeline.Submitted);
        timeline.SetSandboxStamps(1200 * ns, 2001 * ns);
        Assert.Equal(0, timeline.Submitted);
        timeline.SetSandboxStamps(1200 * ns, 1500 * ns);
        Assert.Equal((1200, 1500), (timeline.PickedUp, timeline.Submitted));
    }
}
