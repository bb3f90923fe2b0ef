// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Bench.Density;
using Nexus.Bench.Replay;
using Nexus.Bench.Trace;

namespace Nexus.Bench.Tests;

public sealed class TraceTests : IDisposable
{
    private const string DurationHeader = "HashOwner,HashApp,HashFunction,Average,Count,Minimum,Maximum,percentile_Average_0,percentile_Average_1,percentile_Average_25,percentile_Average_50,percentile_Average_75,percentile_Average_99,percentile_Average_100";
    private const string MemoryHeader = "HashOwner,HashApp,HashFunction,SampleCount,AverageAllocatedMb,AverageAllocatedMb_pct1,AverageAllocatedMb_pct5,AverageAllocatedMb_pct25,AverageAllocatedMb_pct50,AverageAllocatedMb_pct75,AverageAllocatedMb_pct95,AverageAllocatedMb_pct99,AverageAllocatedMb_pct100";
    private readonly string _dir = Directory.CreateTempSubdirectory("nexus-trace-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ParsesTheInVitroSchemaByHeaderNameAndKeepsFunctionsInAllThreeFiles()
    {
        File.WriteAllText(Path.Combine(_dir, "invocations.csv"), "hashowner,HASHAPP,HashFunction,Trigger,1,2,3\no,a,f1,http,1,0,5\no,a,f2,timer,2,2,2\no,a,f3,queue,0,0,1\n");
        // Columns in another order: read by name.
        File.WriteAllText(Path.Combine(_dir, "durations.csv"), "Count,HashFunction,Average,Minimum,Maximum,percentile_Average_0,percentile_Average_1,percentile_Average_25,percentile_Average_50,percentile_Average_75,percentile_Average_99,percentile_Average_100,HashOwner,HashApp\n6,f1,110,50,500,50,60,80,100,130,300,500,o,a\n6,f2,20,10,90,10,12,16,18,25,60,90,o,a\n");
        File.WriteAllText(Path.Combine(_dir, "memory.csv"), MemoryHeader + "\no,a,f1,10,150,100,105,120,150,160,170,180,190\no,a,f2,10,50,40,41,45,50,55,60,61,62\no,a,f3,10,50,40,41,45,50,55,60,61,62\n");

        var trace = TraceReader.Load(_dir);

        Assert.Equal(3, trace.Minutes);
        Assert.Equal(["f1", "f2"], trace.Functions.Select(f => f.HashFunction));
        Assert.Equal([1, 0, 5], trace.Functions[0].PerMinute);
        Assert.Equal("timer", trace.Functions[1].Trigger);
        Assert.Equal(100, trace.Functions[0].Duration.P50);
        Assert.Equal(6, trace.Functions[0].Duration.Count);
        Assert.Equal(150, trace.Functions[0].Memory.P50);
        Assert.Equal(2, TraceReader.Load(_dir, minutes: 2).Minutes);
    }

    [Fact]
    public void WithoutTriggerColumnCountsStartAtColumnThree()
    {
        File.WriteAllText(Path.Combine(_dir, "invocations.csv"), "HashOwner,HashApp,HashFunction,1,2\no,a,f1,4,7\n");
        File.WriteAllText(Path.Combine(_dir, "durations.csv"), DurationHeader + "\no,a,f1,110,11,50,500,50,60,80,100,130,300,500\n");
        File.WriteAllText(Path.Combine(_dir, "memory.csv"), MemoryHeader + "\no,a,f1,10,150,100,105,120,150,160,170,180,190\n");

        var f = Assert.Single(TraceReader.Load(_dir).Functions);

        Assert.Equal([4, 7], f.PerMinute);
        Assert.Equal("", f.Trigger);
    }

    [Theory]
    [InlineData("invocations.csv", "HashOwner,HashApp,HashFunction,Trigger,1\no,a,f1,http,x\n", "invocations.csv:2:", "minute 1")]
    [InlineData("invocations.csv", "HashOwner,HashApp,HashFunction,Trigger,1\no,a,f1,http,1\no,a,f1,http,2\n", "invocations.csv:3:", "appears twice")]
    [InlineData("invocations.csv", "Owner,HashApp,HashFunction,Trigger,1\n", "invocations.csv:1:", "hashowner")]
    [InlineData("invocations.csv", "HashOwner,HashApp,HashFunction,Trigger,1\no,a,f1,http\n", "invocations.csv:2:", "4 cells")]
    [InlineData("durations.csv", DurationHeader + "\no,a,f1,110,0,50,500,50,60,80,100,130,300,500\n", "durations.csv:2:", "Count must be")]
    [InlineData("durations.csv", "HashOwner,HashApp,HashFunction,Average\n", "durations.csv:1:", "missing column Count")]
    [InlineData("memory.csv", MemoryHeader + "\no,a,f1,0,150,100,105,120,150,160,170,180,190\n", "memory.csv:2:", "SampleCount must be")]
    [InlineData("memory.csv", MemoryHeader + "\no,a,f1,10,-1,100,105,120,150,160,170,180,190\n", "memory.csv:2:", "AverageAllocatedMb")]
    public void ErrorsNameTheFileAndLine(string file, string content, string where, string what)
    {
        File.WriteAllText(Path.Combine(_dir, "invocations.csv"), "HashOwner,HashApp,HashFunction,Trigger,1\no,a,f1,http,1\n");
        File.WriteAllText(Path.Combine(_dir, "durations.csv"), DurationHeader + "\no,a,f1,110,1,50,500,50,60,80,100,130,300,500\n");
        File.WriteAllText(Path.Combine(_dir, "memory.csv"), MemoryHeader + "\no,a,f1,10,150,100,105,120,150,160,170,180,190\n");
        File.WriteAllText(Path.Combine(_dir, file), content);

        var e = Assert.Throws<TraceFormatException>(() => TraceReader.Load(_dir));

        Assert.Contains(where, e.Message, StringComparison.Ordinal);
        Assert.Contains(what, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingFileIsNamed()
    {
        var e = Assert.Throws<FileNotFoundException>(() => TraceReader.Load(_dir));
        Assert.Contains("invocations.csv", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SameSeedSameFilesOtherSeedOtherFiles()
    {
        string Files(int seed, string sub)
        {
            var dir = Path.Combine(_dir, sub);
            TraceWriter.Write(TraceGenerator.Generate(new GeneratorOptions { Seed = seed, Functions = 30, Minutes = 20 }), dir);
            return string.Concat(new[] { "invocations.csv", "durations.csv", "memory.csv" }.Select(f => File.ReadAllText(Path.Combine(dir, f))));
        }

        Assert.Equal(Files(7, "a"), Files(7, "b"));
        Assert.NotEqual(Files(7, "a"), Files(8, "c"));
    }

    [Fact]
    public void GeneratedTraceRoundTripsThroughTheReader()
    {
        var generated = TraceGenerator.Generate(new GeneratorOptions { Seed = 3, Functions = 40, Minutes = 15 });
        TraceWriter.Write(generated, _dir);

        var read = TraceReader.Load(_dir);

        Assert.Equal(generated.Functions.Count, read.Functions.Count);
        Assert.Equal(generated.Functions.Select(f => f.PerMinute), read.Functions.Select(f => f.PerMinute));
        Assert.All(read.Functions, f => Assert.True(f.Duration.Count > 0 && f.Memory.SampleCount > 0));
        Assert.All(read.Functions, f => Assert.True(f.Duration.P0 <= f.Duration.P1 && f.Duration.P1 <= f.Duration.P25 && f.Duration.P25 <= f.Duration.P50 && f.Duration.P50 <= f.Duration.P75 && f.Duration.P75 <= f.Duration.P99 && f.Duration.P99 <= f.Duration.P100));
    }

    [Fact]
    public void DensityReplaysTheFirstMinutesOfAGivenTraceAndSaysHowLongItWillTake()
    {
        // A day-long trace (the shape of the vHive loader's example) must not replay for hours unasked.
        var day = TraceGenerator.Generate(new GeneratorOptions { Seed = 5, Functions = 4, Minutes = 1440 });
        TraceWriter.Write(day, _dir);
        var options = new DensityOptions
        {
            WorkloadFolders = [],
            SeedScripts = [],
            Node = new Nexus.Node.NodeOptions(),
            TraceFolder = _dir,
            Trace = new GeneratorOptions { Minutes = 3 },
            Schedule = new ScheduleOptions { SecondsPerMinute = 10 },
            MaxProbes = 5,
        };

        var trace = DensityBenchmark.LoadTrace(options);

        Assert.Equal(3, trace.Minutes);
        Assert.Equal(day.Functions.Select(f => f.PerMinute[..3]), trace.Functions.Select(f => f.PerMinute));
        var plan = DensityBenchmark.Plan(trace, options);
        Assert.Contains("3 minute(s) at 10 s per minute = 30 s per load level", plan, StringComparison.Ordinal);
        Assert.Contains("at most 5 levels × 2 modes = up to 5 min of replay", plan, StringComparison.Ordinal);
        Assert.Contains("= 4 h per load level; at most 5 levels × 2 modes = up to 40 h of replay", DensityBenchmark.Plan(TraceReader.Load(_dir), options with { Schedule = new ScheduleOptions { SecondsPerMinute = 10 } }), StringComparison.Ordinal);
    }

    [Fact]
    public void RatesAreHeavyTailed()
    {
        var trace = TraceGenerator.Generate(new GeneratorOptions { Seed = 11, Functions = 200, Minutes = 60 }, out var shapes);
        var rates = shapes.Select(s => s.Rate).OrderDescending().ToArray();

        // Zipf: the top 10% of functions carry most invocations, and rates span several decades.
        var total = trace.Functions.Sum(f => (double)f.Invocations);
        var top = trace.Functions.OrderByDescending(f => f.Invocations).Take(20).Sum(f => (double)f.Invocations);
        Assert.True(top / total > 0.6, $"top 10% carry {top / total:P0}");
        Assert.True(rates[0] / rates[^1] > 500, $"rate range {rates[0] / rates[^1]:0}");
        Assert.Contains(trace.Functions, f => f.PerMinute.Count(c => c == 0) > 50);
    }
}
