// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using System.Globalization;

namespace Nexus.Bench.WriteBack;

/// <summary>What <see cref="CrashTrials"/> runs.</summary>
public sealed record CrashTrialOptions
{
    public required int Trials { get; init; }

    public int Seed { get; init; } = 1;

    /// <summary>Independent sequences of trials run side by side (each over its own directory), splitting the trials.</summary>
    public int Parallel { get; init; } = 1;

    /// <summary>The kill comes at a uniformly random time this long at most after the worker said it is writing.</summary>
    public int MaxKillDelayMs { get; init; } = 300;

    /// <summary>The program and leading arguments that start a worker (<c>nexus bench crash-worker</c>).</summary>
    public required IReadOnlyList<string> WorkerCommand { get; init; }
}

/// <summary>Totals of a run (lost must be 0).</summary>
public sealed record CrashTrialReport(
    int Trials,
    int SandboxKills,
    IReadOnlyList<int> KillDelaysMs,
    long Acknowledged,
    long AcknowledgedWriteBack,
    long AcknowledgedStore,
    long InFlightAtKill,
    long Aborted,
    long KeysChecked,
    long Lost,
    IReadOnlyList<string> Violations,
    TimeSpan Elapsed);

/// <summary>
/// Crash trials: each trial starts a worker process (<see cref="CrashWorker"/>: the embedded store and the backend's
/// write-back over one directory that all trials share), lets its writers run and kills it with SIGKILL at a random
/// moment. The next trial's worker recovers the same directory, drains the recovered uploads and reports every object
/// of the killed trial; <see cref="CrashJudge"/> checks that each acknowledged write is there unless a later write of
/// its key replaced it. Every third trial also kills a sandbox mid-body (a put that must never appear).
/// </summary>
public static class CrashTrials
{
    public static async Task<CrashTrialReport> RunAsync(CrashTrialOptions options, string directory, Action<string> progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var sequences = Math.Clamp(options.Parallel, 1, options.Trials);
        var reports = await Task.WhenAll(Enumerable.Range(0, sequences).Select(k =>
        {
            var trials = (options.Trials / sequences) + (k < options.Trials % sequences ? 1 : 0);
            var folder = Directory.CreateDirectory(Path.Combine(directory, "sequence-" + k.ToString(CultureInfo.InvariantCulture))).FullName;
            return RunSequenceAsync(options with { Trials = trials, Seed = options.Seed + (k * 1_000_003) }, folder, line => progress($"sequence {k}: {line}"), cancellationToken);
        })).ConfigureAwait(false);
        return new CrashTrialReport(
            reports.Sum(r => r.Trials),
            reports.Sum(r => r.SandboxKills),
            [.. reports.SelectMany(r => r.KillDelaysMs)],
            reports.Sum(r => r.Acknowledged),
            reports.Sum(r => r.AcknowledgedWriteBack),
            reports.Sum(r => r.AcknowledgedStore),
            reports.Sum(r => r.InFlightAtKill),
            reports.Sum(r => r.Aborted),
            reports.Sum(r => r.KeysChecked),
            reports.Sum(r => r.Lost),
            [.. reports.SelectMany(r => r.Violations)],
            clock.Elapsed);
    }

    private static async Task<CrashTrialReport> RunSequenceAsync(CrashTrialOptions options, string directory, Action<string> progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var random = new Random(options.Seed);
        var delays = new List<int>();
        var violations = new List<string>();
        long acknowledged = 0, writeBack = 0, store = 0, inFlight = 0, aborted = 0, keys = 0, lost = 0;
        var sandboxKills = 0;
        CrashJudge? previous = null;
        for (var trial = 0; trial <= options.Trials; trial++)
        {
            var last = trial == options.Trials;
            var killSandbox = !last && trial % 3 == 2;
            var delay = random.Next(options.MaxKillDelayMs + 1);
            var judge = new CrashJudge();
            var verified = await RunWorkerAsync(options, directory, trial, options.Seed + trial, killSandbox, last, delay, judge, previous, cancellationToken).ConfigureAwait(false);
            if (previous is not null)
            {
                var verdict = previous.Judge(verified);
                acknowledged += verdict.Acknowledged;
                writeBack += verdict.AcknowledgedWriteBack;
                store += verdict.Acknowledged - verdict.AcknowledgedWriteBack;
                inFlight += verdict.InFlight;
                aborted += verdict.Aborted;
                keys += verdict.Keys;
                lost += verdict.Lost;
                violations.AddRange(verdict.Violations.Select(v => $"trial {trial - 1}: {v}"));
            }

            if (!last)
            {
                delays.Add(delay);
                sandboxKills += killSandbox ? 1 : 0;
                if (trial % 50 == 49)
                {
                    progress(string.Create(CultureInfo.InvariantCulture, $"{trial + 1} trials, {acknowledged} acknowledged writes checked, {lost} lost, {clock.Elapsed.TotalSeconds:0} s"));
                }
            }

            previous = judge;
        }

        return new CrashTrialReport(options.Trials, sandboxKills, delays, acknowledged, writeBack, store, inFlight, aborted, keys, lost, violations, clock.Elapsed);
    }

    /// <summary>Runs one worker: collects its report of the previous trial, then its own events until the kill; returns key → content MD5.</summary>
    private static async Task<Dictionary<string, string>> RunWorkerAsync(
        CrashTrialOptions options, string directory, int trial, int seed, bool killSandbox, bool verifyOnly, int delayMs, CrashJudge judge, CrashJudge? previous, CancellationToken ct)
    {
        var start = new ProcessStartInfo(options.WorkerCommand[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in options.WorkerCommand.Skip(1).Concat(
            ["--dir", directory, "--trial", trial.ToString(CultureInfo.InvariantCulture), "--seed", seed.ToString(CultureInfo.InvariantCulture)]))
        {
            start.ArgumentList.Add(arg);
        }

        if (killSandbox)
        {
            start.ArgumentList.Add("--kill-sandbox");
        }

        if (verifyOnly)
        {
            start.ArgumentList.Add("--verify-only");
        }

        using var worker = Process.Start(start) ?? throw new InvalidOperationException("could not start the crash worker");
        var errors = worker.StandardError.ReadToEndAsync(ct);
        var verified = new Dictionary<string, string>(StringComparer.Ordinal);
        var sawVerified = previous is null;
        var killed = 0;
        using var kill = new CancellationTokenSource();
        try
        {
            while (await worker.StandardOutput.ReadLineAsync(ct).ConfigureAwait(false) is { } line)
            {
                var parts = line.Split(' ');
                switch (parts[0])
                {
                    case "verify":
                        verified[parts[1]] = parts[2];
                        break;
                    case "verified":
                        sawVerified = true;
                        if (parts[2] != "0")
                        {
                            throw new InvalidOperationException($"trial {trial}: {parts[2]} recovered upload(s) did not drain within 60 s");
                        }

                        break;
                    case "ready":
                        // SIGKILL at a random point of the writing; the pipe keeps every line written before it.
                        _ = Task.Delay(delayMs, kill.Token).ContinueWith(
                            _ =>
                            {
                                try
                                {
                                    Interlocked.Exchange(ref killed, 1);
                                    worker.Kill();
                                }
                                catch (InvalidOperationException)
                                {
                                    // Already gone.
                                }
                            },
                            kill.Token,
                            TaskContinuationOptions.OnlyOnRanToCompletion,
                            TaskScheduler.Default);
                        break;
                    default:
                        judge.Record(parts);
                        break;
                }
            }

            await worker.WaitForExitAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            await kill.CancelAsync().ConfigureAwait(false);
            if (!worker.HasExited)
            {
                worker.Kill();
            }
        }

        if (!sawVerified || (verifyOnly ? worker.ExitCode != 0 : Volatile.Read(ref killed) == 0))
        {
            throw new InvalidOperationException($"trial {trial}: the worker ended by itself (exit {worker.ExitCode}): {await errors.ConfigureAwait(false)}");
        }

        return verified;
    }
}
