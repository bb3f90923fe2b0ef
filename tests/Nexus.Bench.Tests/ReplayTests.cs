// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Bench.Replay;
using Nexus.Bench.Trace;

namespace Nexus.Bench.Tests;

public sealed class ReplayTests
{
    [Fact]
    public void IatsScaleToExactlyTheMinute()
    {
        var iats = new[] { 1.0, 3.0, 4.0 };
        ArrivalSchedule.ScaleToSum(iats, 6);
        Assert.Equal([0.75, 2.25, 3.0], iats);
        Assert.Throws<ArgumentException>(() => ArrivalSchedule.ScaleToSum([0.0, 0.0], 6));
    }

    [Theory]
    [InlineData(60.0)]
    [InlineData(5.0)]
    public void EachMinuteKeepsItsCountWithinTheCompressedMinute(double secondsPerMinute)
    {
        var trace = TraceGenerator.Generate(new GeneratorOptions { Seed = 5, Functions = 20, Minutes = 6 });
        var schedule = ArrivalSchedule.Build(trace, new ScheduleOptions { SecondsPerMinute = secondsPerMinute, Seed = 1 });

        for (var f = 0; f < trace.Functions.Count; f++)
        {
            for (var m = 0; m < trace.Minutes; m++)
            {
                var inMinute = schedule.Count(a => a.Function == f && a.At.TotalSeconds >= m * secondsPerMinute && a.At.TotalSeconds < (m + 1) * secondsPerMinute);
                Assert.Equal(trace.Functions[f].PerMinute[m], inMinute);
            }
        }

        Assert.True(schedule.Zip(schedule.Skip(1)).All(p => p.First.At <= p.Second.At));
    }

    [Fact]
    public void ScheduleIsBoundedInCountAndTime()
    {
        var trace = TraceGenerator.Generate(new GeneratorOptions { Seed = 5, Functions = 20, Minutes = 6 });
        Assert.Equal(10, ArrivalSchedule.Build(trace, new ScheduleOptions { SecondsPerMinute = 10, MaxInvocations = 10 }).Count);
        Assert.All(ArrivalSchedule.Build(trace, new ScheduleOptions { SecondsPerMinute = 10, MaxDuration = TimeSpan.FromSeconds(15) }), a => Assert.True(a.At < TimeSpan.FromSeconds(15)));
    }

    [Fact]
    public void ArrivalShapes_PoissonAboutOne_PeriodicZero_BurstyAboveOne()
    {
        // Per pattern, the coefficient of variation of the inter-arrival times over the whole replay.
        var trace = TraceGenerator.Generate(new GeneratorOptions { Seed = 21, Functions = 60, Minutes = 120, MaxRatePerMinute = 60, ZipfAlpha = 0.5 }, out var shapes);
        var schedule = ArrivalSchedule.Build(trace, new ScheduleOptions { SecondsPerMinute = 60, Seed = 2 });
        double Cv(int f)
        {
            var times = schedule.Where(a => a.Function == f).Select(a => a.At.TotalSeconds).ToArray();
            var iats = times.Zip(times.Skip(1)).Select(p => p.Second - p.First).ToArray();
            var mean = iats.Average();
            return Math.Sqrt(iats.Select(x => (x - mean) * (x - mean)).Average()) / mean;
        }

        var busy = Enumerable.Range(0, trace.Functions.Count).Where(f => trace.Functions[f].Invocations >= 200).ToList();
        var poisson = busy.Where(f => shapes[f].Pattern == ArrivalPattern.Poisson).Select(Cv).ToList();
        var periodic = busy.Where(f => shapes[f].Pattern == ArrivalPattern.Periodic).Select(Cv).ToList();
        var bursty = busy.Where(f => shapes[f].Pattern == ArrivalPattern.Bursty).Select(Cv).ToList();

        Assert.NotEmpty(poisson);
        Assert.NotEmpty(periodic);
        Assert.NotEmpty(bursty);
        Assert.All(poisson, cv => Assert.InRange(cv, 0.8, 1.2));
        Assert.All(periodic, cv => Assert.InRange(cv, 0, 0.01));
        Assert.All(bursty, cv => Assert.True(cv > 1.2, $"bursty CV {cv:0.00}"));
    }

    [Fact]
    public void MappingPicksTheNearestWorkloadInLogDurationAndMemory()
    {
        DurationStats D(double p50) => new(p50, 1, p50, p50, p50, p50, p50, p50, p50, p50, p50);
        MemoryStats M(double p50) => new(1, p50, p50, p50, p50, p50, p50, p50, p50, p50);
        var trace = new TraceData(1, [
            new TraceFunction("o", "a", "fast", "http", [1], D(8), M(50)),
            new TraceFunction("o", "a", "slow-big", "http", [1], D(900), M(300)),
            new TraceFunction("o", "a", "slow-small", "http", [1], D(700), M(40)),
        ]);
        WorkloadProfile[] workloads = [new("hello", 10, 60), new("image", 800, 256), new("aes", 600, 45)];

        var mapping = WorkloadMapper.Map(trace, workloads);

        Assert.Equal(["hello", "image", "aes"], mapping.Select(m => m.Workload));
        Assert.Equal(WorkloadMapper.Distance(8, 50, workloads[0]), mapping[0].Distance);
        Assert.Throws<ArgumentException>(() => WorkloadMapper.Map(trace, []));
    }

    [Fact]
    public async Task OpenLoop_ArrivalsDoNotWaitForEarlierCalls_AndEveryCallIsAccountedFor()
    {
        // Calls take 2 s each; 20 arrivals over 0.2 s must all be issued long before the first one finishes.
        var schedule = Enumerable.Range(0, 20).Select(i => new Arrival(TimeSpan.FromMilliseconds(i * 10), i % 3)).ToList();
        var target = new SlowTarget(TimeSpan.FromSeconds(2), failEvery: 4);

        var result = await Replayer.RunAsync(schedule, target, TimeSpan.FromSeconds(30), null, CancellationToken.None);

        Assert.Equal(20, target.MaxConcurrent);
        Assert.Equal(20, result.Issued);
        Assert.Equal(result.Issued, result.Completed + result.Failed);
        Assert.Equal(5, result.Failed);
        Assert.Equal(20, result.Records.Count);
    }

    [Fact]
    public async Task CallsStillRunningAfterTheDrainTimeoutAreCountedAsAbandoned()
    {
        var schedule = new List<Arrival> { new(TimeSpan.Zero, 0), new(TimeSpan.Zero, 1) };
        var target = new SlowTarget(TimeSpan.FromHours(1), failEvery: 0);

        var result = await Replayer.RunAsync(schedule, target, TimeSpan.FromMilliseconds(200), null, CancellationToken.None);

        Assert.Equal(2, result.Failed);
        Assert.All(result.Records, r => Assert.Equal("abandoned", r.Outcome));
    }

    private sealed class SlowTarget(TimeSpan delay, int failEvery) : IReplayTarget
    {
        private int _running;
        private int _calls;

        public int MaxConcurrent { get; private set; }

        public async Task<ReplayOutcome> InvokeAsync(int function, CancellationToken cancellationToken)
        {
            var call = Interlocked.Increment(ref _calls);
            var now = Interlocked.Increment(ref _running);
            lock (this)
            {
                MaxConcurrent = Math.Max(MaxConcurrent, now);
            }

            try
            {
                await Task.Delay(delay, cancellationToken);
                if (failEvery > 0 && call % failEvery == 0)
                {
                    throw new InvalidOperationException("injected failure");
                }

                return new ReplayOutcome(true, call == 1, "success", "i" + function);
            }
            finally
            {
                Interlocked.Decrement(ref _running);
            }
        }
    }
}
