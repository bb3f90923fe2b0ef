// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.CommandLine;
using System.Globalization;
using Nexus.Fuzz;

namespace Nexus.Cli.Commands;

/// <summary>`nexus fuzz &lt;target&gt;`: mutation fuzzing of a guest-facing parser (the work is in Nexus.Fuzz).</summary>
public static class FuzzCommands
{
    private const int MaxPrintedCrashes = 20;

    public static Command Create()
    {
        var target = new Argument<string>("target") { Description = $"what to fuzz: {string.Join(", ", FuzzTargets.Names)}" };
        target.AcceptOnlyFromAmong([.. FuzzTargets.Names]);
        var seconds = new Option<double>("--seconds") { Description = "how long to run", DefaultValueFactory = _ => 10 };
        var seed = new Option<ulong?>("--seed") { Description = "run seed (default: random, printed); the same seed gives the same inputs" };
        var input = new Option<long?>("--input") { Description = "run only input N of --seed (a crash's reproducer)" };
        var replay = new Option<string?>("--replay") { Description = "run only these hex bytes (a crash's reproducer)" };
        var hang = new Option<double>("--hang-seconds") { Description = "an input running longer than this is a hang", DefaultValueFactory = _ => 5 };
        var fuzz = new Command("fuzz", "Feed a parser (or the live service host: session) mutated valid inputs; print inputs/s and every crash with its reproducer")
        {
            target, seconds, seed, input, replay, hang,
        };
        fuzz.SetAction(parse =>
        {
            using var fuzzTarget = FuzzTargets.Create(parse.GetValue(target)!);
            if (parse.GetValue(replay) is { } hex)
            {
                return Report(FuzzRunner.Replay(fuzzTarget, Convert.FromHexString(hex)));
            }

            var runSeed = parse.GetValue(seed) ?? (ulong)Random.Shared.NextInt64();
            if (parse.GetValue(input) is { } index)
            {
                return Report(FuzzRunner.Replay(fuzzTarget, runSeed, index));
            }

            Console.WriteLine($"fuzz {fuzzTarget.Name}: seed {runSeed}, {parse.GetValue(seconds)} s");
            var printed = 0;
            var result = FuzzRunner.Run(
                fuzzTarget,
                runSeed,
                TimeSpan.FromSeconds(parse.GetValue(seconds)),
                TimeSpan.FromSeconds(parse.GetValue(hang)),
                crash =>
                {
                    if (++printed <= MaxPrintedCrashes)
                    {
                        PrintCrash("crash", crash);
                    }
                });
            if (result.Hang is { } stuck)
            {
                PrintCrash("hang", stuck);
            }

            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"fuzz {result.Target}: {result.Inputs} inputs in {result.Elapsed.TotalSeconds:0.0} s ({result.InputsPerSecond:0} inputs/s), "
                + $"{result.Accepted} accepted, {result.Inputs - result.Accepted} rejected, {printed} crashes, {(result.Hang is null ? 0 : 1)} hangs, seed {result.Seed}"));
            if (fuzzTarget.Summary() is { } summary)
            {
                Console.WriteLine($"fuzz {result.Target}: {summary}");
            }

            return printed == 0 && result.Hang is null ? ExitCodes.Ok : ExitCodes.Failed;
        });
        return fuzz;
    }

    private static int Report(FuzzCrash? crash)
    {
        if (crash is null)
        {
            Console.WriteLine("no crash: the input was accepted or refused with the parser's validation error");
            return ExitCodes.Ok;
        }

        PrintCrash("crash", crash);
        return ExitCodes.Failed;
    }

    private static void PrintCrash(string kind, FuzzCrash crash)
    {
        Console.WriteLine($"{kind} at input {crash.Index}: {crash.Error}");
        Console.WriteLine($"  input ({crash.Input.Length} bytes): {Convert.ToHexString(crash.Input)}");
        Console.WriteLine($"  reproduce: {crash.Reproducer}");
    }
}
