// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Bench.Density;
using Nexus.Bench.Replay;
using Nexus.Bench.Trace;
using Nexus.Functions;
using Nexus.Node;
using Nexus.Testing;

namespace Nexus.Bench.Tests;

// Both start a real node on the same fixed ports and host network: they must not run at the same time.
[Collection(RealNodeCollection.Name)]
public sealed class EndToEndReplayTests
{
    [RootFact(runc: true)]
    public async Task TinyReplayThroughARealNodeAccountsForEveryInvocation()
    {
        var examples = Path.Combine(HostRequirements.RepoRoot, "examples");
        var home = Directory.CreateTempSubdirectory("nexus-bench-e2e-").FullName;
        try
        {
            var options = new DensityOptions
            {
                WorkloadFolders = [Path.Combine(examples, "hello-s3")],
                SeedScripts = [Path.Combine(examples, "seed_inputs.py")],
                Node = NodeOptions.Load(o => o with
                {
                    Home = home,
                    ApiUrl = "http://127.0.0.1:29700",
                    StoreUrl = "http://127.0.0.1:29780",
                    SandboxStoreUrl = "http://10.77.0.1:29780",
                    RuntimeApiUrl = "http://10.77.0.1:29701",
                    ServiceProxyUrl = "http://10.77.0.1:29702",
                }),
                Trace = new GeneratorOptions { Seed = 4, Functions = 3, Minutes = 1, MaxRatePerMinute = 12 },
                Schedule = new ScheduleOptions { SecondsPerMinute = 4, Seed = 4 },
                MaxLevel = 1,
                MaxProbes = 1,
                UnloadedWarm = 3,
                UnloadedCold = 1,
                Modes = [IoMode.Baseline, IoMode.Nexus],
            };

            var results = await DensityBenchmark.RunAsync(options, TextWriter.Null, CancellationToken.None);

            var planned = ArrivalSchedule.Build(TraceGenerator.Generate(options.Trace), options.Schedule).Count;
            Assert.True(planned > 0);
            Assert.Equal(2, results.Runs.Count);
            foreach (var run in results.Runs)
            {
                Assert.Equal(planned, run.Planned);
                Assert.Equal(run.Planned, run.Issued);
                Assert.Equal(run.Issued, run.Completed + run.Failed);
                Assert.Equal(run.Issued, run.Records.Count);
                Assert.True(run.Completed > 0, $"{run.Mode}: nothing completed: {string.Join("; ", run.Records.Select(r => r.Outcome).Distinct())}");
                Assert.Contains(run.Records, r => r.Cold);
                Assert.NotEmpty(run.Samples);

                // No template of the unloaded runs' functions (removed just before) is counted in the level's memory.
                Assert.True(run.Samples[0].TemplatePssMiB == 0, $"{run.Mode}: {run.Samples[0].TemplatePssMiB:F1} MiB of templates at the level's start");
                Assert.NotEmpty(run.Instances);
            }
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }
}
