// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Bench.Soak;
using Nexus.Node;
using Nexus.Testing;

namespace Nexus.Bench.Tests;

// Starts a real node on the same fixed ports and host network as the other real-node tests.
[Collection(RealNodeCollection.Name)]
public sealed class SoakTests
{
    /// <summary>
    /// A 30 s soak on a real node (both modes, redeploys every 4 calls so instances and fork templates churn): every
    /// invocation is accounted for, and once every function is removed the node holds no more instance cgroups, network
    /// namespaces, veths or memfds than before and at most a few more descriptors. Guards the release of retired fork
    /// templates (TemplateSandboxDriver.ReleaseTemplate) and of removed functions' log files (FunctionLogs.Close): with
    /// template release removed once, the cgroups of every retired revision's template were still there (107 after release)
    /// and this failed; without the log close, each removed function's log file stayed open.
    /// </summary>
    [RootFact(runc: true)]
    public async Task ThirtySecondSoakAccountsForEveryCallAndGivesBackWhatItTook()
    {
        var examples = Path.Combine(HostRequirements.RepoRoot, "examples");
        var home = Directory.CreateTempSubdirectory("nexus-soak-test-").FullName;
        try
        {
            var options = new SoakOptions
            {
                WorkloadFolder = Path.Combine(examples, "hello-s3"),
                SeedScript = Path.Combine(examples, "seed_inputs.py"),
                Node = NodeOptions.Load(o => o with
                {
                    Home = home,
                    ApiUrl = "http://127.0.0.1:29700",
                    StoreUrl = "http://127.0.0.1:29780",
                    SandboxStoreUrl = "http://10.77.0.1:29780",
                    RuntimeApiUrl = "http://10.77.0.1:29701",
                    ServiceProxyUrl = "http://10.77.0.1:29702",
                }),
                Duration = TimeSpan.FromSeconds(30),
                Instances = 4,
                RedeployEvery = 4,
                SampleInterval = TimeSpan.FromSeconds(2),
            };

            var result = await SoakBenchmark.RunAsync(options, TextWriter.Null, CancellationToken.None);

            var table = string.Join('\n', result.Samples.Select(SoakBenchmark.Row).Prepend(SoakBenchmark.Row(result.After)).Prepend(SoakBenchmark.Row(result.Before)));
            Assert.True(result.Accounted, $"issued {result.Issued} != completed {result.Completed} + failed {result.Failed}");
            Assert.True(result.Completed > 0, string.Join(", ", result.Outcomes));
            Assert.True(result.Redeploys > 0);
            Assert.True(result.Samples.Count >= 10, table);
            Assert.True(result.Samples.Max(s => s.Cgroups) > 0 && result.Samples.Max(s => s.Veths) > 0 && result.Samples.Max(s => s.Memfds) > 0, "the probe saw no instance at all:\n" + table);
            Assert.True(result.After.Cgroups <= result.Before.Cgroups, "cgroups left:\n" + table);
            Assert.True(result.After.Netns <= result.Before.Netns, "netns left:\n" + table);
            Assert.True(result.After.Veths <= result.Before.Veths, "veths left:\n" + table);
            Assert.True(result.After.Memfds <= result.Before.Memfds, "memfds left:\n" + table);
            Assert.True(result.After.Processes <= result.Before.Processes, "processes left:\n" + table);
            Assert.True(result.After.Fds <= result.Before.Fds + 8, $"descriptors left: {string.Join(", ", result.DescriptorsGained)}\n" + table);
            Assert.DoesNotContain(result.DescriptorsGained, k => k.Kind.StartsWith(Path.Combine(home, "logs"), StringComparison.Ordinal));
            Assert.Equal(LeakSeries.All.Count, result.Verdicts.Count);
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }
}
