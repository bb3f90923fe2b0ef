// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Bench.Trace;

/// <summary>How a generated function's per-minute counts are drawn.</summary>
public enum ArrivalPattern
{
    /// <summary>HTTP/queue-like: Poisson counts every minute (IAT CV about 1).</summary>
    Poisson,

    /// <summary>Timer: the same count every k-th minute, spread evenly (IAT CV 0).</summary>
    Periodic,

    /// <summary>On/off Markov-modulated Poisson (IAT CV above 1).</summary>
    Bursty,
}

/// <summary>What <see cref="TraceGenerator"/> makes.</summary>
public sealed record GeneratorOptions
{
    public int Seed { get; init; } = 2019;

    public int Functions { get; init; } = 24;

    public int Minutes { get; init; } = 10;

    /// <summary>Rate of the most popular function, invocations per minute.</summary>
    public double MaxRatePerMinute { get; init; } = 30;

    /// <summary>Zipf exponent of the per-function rates (rank r gets MaxRate · r^-α).</summary>
    public double ZipfAlpha { get; init; } = 1.3;

    /// <summary>Median p50 duration of the functions, ms (Azure 2019: half the functions run under 1 s).</summary>
    public double MedianDurationMs { get; init; } = 300;

    public void Validate()
    {
        if (Functions is < 1 or > 100_000)
        {
            throw new ArgumentOutOfRangeException(nameof(Functions), Functions, "functions must be 1..100000");
        }

        if (Minutes is < 1 or > TraceReader.MaxMinutes)
        {
            throw new ArgumentOutOfRangeException(nameof(Minutes), Minutes, $"minutes must be 1..{TraceReader.MaxMinutes}");
        }

        if (!(MaxRatePerMinute > 0) || !(ZipfAlpha > 0) || !(MedianDurationMs > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(MaxRatePerMinute), "the maximum rate, Zipf exponent and median duration must be above 0");
        }
    }
}

/// <summary>
/// Seeded small traces of the Azure Functions 2019 shape (reference: workloads-and-traces.md §2.5): Zipf-ranked
/// heavy-tailed rates clipped at one call a day, a trigger mix of Poisson (http/queue), periodic (timer) and bursty
/// (event) functions, log-normal durations with monotone percentiles, 100–300 MB memory. Same seed, same trace.
/// </summary>
public static class TraceGenerator
{
    private const double MinRatePerMinute = 1.0 / 1440;

    public static TraceData Generate(GeneratorOptions options) => Generate(options, out _);

    /// <summary>Also returns each function's pattern and mean rate (per minute), by position.</summary>
    public static TraceData Generate(GeneratorOptions options, out IReadOnlyList<(ArrivalPattern Pattern, double Rate)> shapes)
    {
        options.Validate();
        var rng = new Random(options.Seed);

        // Trigger mix by function share (mikhail.io's reading of the 2019 trace): about 2/3 http+queue, 1/6 timer, 1/6 event.
        var patterns = Enumerable.Range(0, options.Functions).Select(i => (i % 6) switch { 4 => ArrivalPattern.Periodic, 5 => ArrivalPattern.Bursty, _ => ArrivalPattern.Poisson }).ToArray();
        rng.Shuffle(patterns);

        var functions = new List<TraceFunction>();
        var shapeList = new List<(ArrivalPattern, double)>();
        string owner = Hash(rng), app = Hash(rng);
        for (var i = 0; i < options.Functions; i++)
        {
            // About half the apps have one function (2019 trace); otherwise this function joins the previous app.
            if (i > 0 && rng.NextDouble() < 0.55)
            {
                owner = Hash(rng);
                app = Hash(rng);
            }

            var rate = Math.Max(MinRatePerMinute, options.MaxRatePerMinute * Math.Pow(i + 1, -options.ZipfAlpha));
            var pattern = patterns[i];
            var counts = pattern switch
            {
                ArrivalPattern.Poisson => PoissonMinutes(rng, rate, options.Minutes),
                ArrivalPattern.Periodic => PeriodicMinutes(rng, rate, options.Minutes),
                _ => BurstyMinutes(rng, rate, options.Minutes),
            };
            var trigger = pattern switch
            {
                ArrivalPattern.Periodic => "timer",
                ArrivalPattern.Bursty => "event",
                _ => rng.NextDouble() < 0.6 ? "http" : "queue",
            };

            var p50 = Math.Clamp(options.MedianDurationMs * Math.Exp(rng.NextGaussian()), 1, 60_000);
            var total = Math.Max(1, counts.Sum());
            var duration = new DurationStats(1.1 * p50, total, 0.5 * p50, 5 * p50, 0.5 * p50, 0.6 * p50, 0.8 * p50, p50, 1.3 * p50, 3 * p50, 5 * p50);
            var mem = 100 + (200 * rng.NextDouble());
            var memory = new MemoryStats(options.Minutes * 12, mem * 1.02, mem * 0.7, mem * 0.75, mem * 0.9, mem, mem * 1.1, mem * 1.2, mem * 1.25, mem * 1.3);
            functions.Add(new TraceFunction(owner, app, Hash(rng), trigger, counts, duration, memory));
            shapeList.Add((pattern, rate));
        }

        shapes = shapeList;
        return new TraceData(options.Minutes, functions);
    }

    private static int[] PoissonMinutes(Random rng, double rate, int minutes) =>
        [.. Enumerable.Range(0, minutes).Select(_ => Poisson(rng, rate))];

    private static int[] PeriodicMinutes(Random rng, double rate, int minutes)
    {
        // Every k-th minute with a fixed count: rare timers fire once per period, frequent ones every minute.
        var period = rate >= 1 ? 1 : (int)Math.Min(minutes, Math.Round(1 / rate));
        var count = Math.Max(1, (int)Math.Round(rate * period));
        var phase = rng.Next(period);
        return [.. Enumerable.Range(0, minutes).Select(m => m % period == phase ? count : 0)];
    }

    private static int[] BurstyMinutes(Random rng, double rate, int minutes)
    {
        // On/off Markov modulation (P(off→on) 0.05 scaled up for short traces, P(on→off) 0.3); on minutes draw 10x.
        var on = rng.NextDouble() < 0.5;
        var counts = new int[minutes];
        for (var m = 0; m < minutes; m++)
        {
            counts[m] = on ? Poisson(rng, 10 * rate) : 0;
            on = on ? rng.NextDouble() >= 0.3 : rng.NextDouble() < 0.15;
        }

        return counts;
    }

    /// <summary>Knuth's method for small means, a rounded normal approximation above 30.</summary>
    private static int Poisson(Random rng, double mean)
    {
        if (mean > 30)
        {
            return Math.Max(0, (int)Math.Round(mean + (Math.Sqrt(mean) * rng.NextGaussian())));
        }

        var limit = Math.Exp(-mean);
        var k = 0;
        var p = rng.NextDouble();
        while (p > limit)
        {
            k++;
            p *= rng.NextDouble();
        }

        return k;
    }

    private static string Hash(Random rng) => Convert.ToHexStringLower(rng.GetItems<byte>(Enumerable.Range(0, 256).Select(b => (byte)b).ToArray(), 32));
}

internal static class RandomExtensions
{
    /// <summary>Standard normal by Box–Muller.</summary>
    public static double NextGaussian(this Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}
