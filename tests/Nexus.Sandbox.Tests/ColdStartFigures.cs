// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using System.Globalization;
using Nexus.Testing;
using Xunit.Abstractions;

namespace Nexus.Sandbox.Tests;

/// <summary>
/// Prints the driver's cold-start figures (median of 20: StartAsync call to the sandbox's first output line,
/// busybox rootfs, with and without the veth network). A figure, not a timed assertion: it checks only that
/// every start produced its line and was torn down. Run with: dotnet test --filter ColdStartFigures
/// --logger "console;verbosity=detailed".
/// </summary>
public sealed class ColdStartFigures : IClassFixture<OciDriverFixture>
{
    private const int Runs = 20;
    private readonly OciDriverFixture _fixture;
    private readonly ITestOutputHelper _output;

    public ColdStartFigures(OciDriverFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        _output = output;
    }

    [RootFact]
    public async Task StartToFirstOutputLine()
    {
        foreach (var network in new[] { SandboxNetwork.LoopbackOnly, SandboxNetwork.Veth })
        {
            var firstLine = new List<double>();
            var started = new List<double>();
            var teardown = new List<double>();
            for (var i = 0; i < Runs + 1; i++)
            {
                var line = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                var spec = new SandboxSpec
                {
                    InstanceId = $"{_fixture.Prefix}cold-{network.ToString().ToLowerInvariant()}-{i}",
                    RootfsPath = _fixture.Rootfs.Path,
                    Command = ["/bin/sh", "-c", "echo ready; exec sleep 600"],
                    Network = network,
                    OnOutput = (text, _) =>
                    {
                        if (text == "ready")
                        {
                            line.TrySetResult();
                        }
                    },
                };
                var clock = Stopwatch.StartNew();
                var instance = await _fixture.Driver.StartAsync(spec, CancellationToken.None);
                var startReturned = clock.Elapsed.TotalMilliseconds;
                await line.Task.WaitAsync(TimeSpan.FromMinutes(1));
                var firstLineAt = clock.Elapsed.TotalMilliseconds;
                clock.Restart();
                await instance.DisposeAsync();
                var stopped = clock.Elapsed.TotalMilliseconds;
                Assert.Equal(9, (await instance.Exited).Signal);

                // The first run warms the JIT and the page cache; it is not counted.
                if (i > 0)
                {
                    firstLine.Add(firstLineAt);
                    started.Add(startReturned);
                    teardown.Add(stopped);
                }
            }

            _output.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"{network}: start to first line median {Median(firstLine):F1} ms (min {firstLine.Min():F1}, max {firstLine.Max():F1}); StartAsync returned {Median(started):F1} ms; teardown {Median(teardown):F1} ms; n={firstLine.Count}"));
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
