// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Fuzz.Tests;

/// <summary>A short run of every fuzz target (the CI share of `nexus fuzz`): no crash, no hang, both verdicts reached.</summary>
public sealed class FuzzTargetTests
{
    private const ulong CiSeed = 13;

    public static TheoryData<string> Targets => [.. FuzzTargets.Names];

    [Theory]
    [MemberData(nameof(Targets))]
    public void ShortRunFindsNoCrashOrHang(string name)
    {
        using var target = FuzzTargets.Create(name);
        var result = FuzzRunner.Run(target, CiSeed, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(10));

        Assert.True(result.Crashes.Count == 0, string.Join("\n\n", result.Crashes.Select(c => c.Error + "\n" + c.Reproducer)));
        Assert.Null(result.Hang);
        Assert.True(result.Inputs > 1000, $"only {result.Inputs} inputs ran");

        // Mutation reaches both sides of the parser's checks, or the run proves little.
        Assert.InRange(result.Accepted, 1, result.Inputs - 1);
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void SeedsAreAccepted(string name)
    {
        using var target = FuzzTargets.Create(name);
        foreach (var seed in target.Seeds)
        {
            Assert.Equal(FuzzOutcome.Accepted, target.Execute(seed));
        }
    }

    [Fact]
    public void InputIsAFunctionOfSeedAndIndex()
    {
        using var target = FuzzTargets.Create("virtio");
        var a = new byte[target.MaxInputLength];
        var b = new byte[target.MaxInputLength];
        for (long i = 0; i < 1000; i++)
        {
            var length = Mutator.Build(target, CiSeed, i, a);
            Assert.Equal(length, Mutator.Build(target, CiSeed, i, b));
            Assert.True(a.AsSpan(0, length).SequenceEqual(b.AsSpan(0, length)), $"input {i} differs between two builds");
        }

        var other = Mutator.Build(target, CiSeed + 1, 0, b);
        Assert.False(a.AsSpan(0, Mutator.Build(target, CiSeed, 0, a)).SequenceEqual(b.AsSpan(0, other)), "another seed gave the same input");
    }

    [Fact]
    public void PlantedBugIsReportedWithAReproducerThatReplays()
    {
        using var target = new PlantedBugTarget();
        var result = FuzzRunner.Run(target, CiSeed, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10));

        var crash = Assert.IsType<FuzzCrash>(result.Crashes.FirstOrDefault());
        Assert.Contains("planted", crash.Error, StringComparison.Ordinal);
        Assert.Contains($"--seed {CiSeed} --input {crash.Index}", crash.Reproducer, StringComparison.Ordinal);
        Assert.NotNull(FuzzRunner.Replay(target, CiSeed, crash.Index));
        Assert.NotNull(FuzzRunner.Replay(target, crash.Input));
    }

    [Fact]
    public void StuckInputEndsTheRunAsAHang()
    {
        using var target = new PlantedBugTarget { Hangs = true };
        var result = FuzzRunner.Run(target, CiSeed, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(500));

        var hang = Assert.IsType<FuzzCrash>(result.Hang);
        Assert.True(PlantedBugTarget.Triggers(hang.Input), "the hang's reproducer is not the input that hung");
        Assert.True(result.Elapsed < TimeSpan.FromSeconds(30), "the run did not stop at the hang");
    }

    /// <summary>A parser with a bug two edits away from its seed: byte 1 is 0xff and the input is cut below 4 bytes.</summary>
    private sealed class PlantedBugTarget : IFuzzTarget
    {
        public bool Hangs { get; init; }

        public string Name => "planted";

        public IReadOnlyList<byte[]> Seeds { get; } = [[1, 2, 3, 4, 5, 6, 7, 8]];

        public IReadOnlyList<ulong> InterestingValues { get; } = [];

        public int MaxInputLength => 64;

        public static bool Triggers(ReadOnlySpan<byte> input) => input.Length is > 1 and < 4 && input[1] == 0xff;

        public FuzzOutcome Execute(ReadOnlySpan<byte> input)
        {
            if (Triggers(input))
            {
                if (Hangs)
                {
                    Thread.Sleep(Timeout.Infinite);
                }

                throw new InvalidOperationException("planted bug");
            }

            return FuzzOutcome.Accepted;
        }

        public void Dispose()
        {
        }
    }
}
