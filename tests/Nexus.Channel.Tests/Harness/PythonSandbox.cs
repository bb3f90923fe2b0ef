// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text.Json;
using Nexus.Channel;
using Nexus.Interop;

namespace Nexus.Testing.Channel;

/// <summary>
/// Runs a Python script as the sandbox side of a channel: a real /usr/bin/python3 child with the region and doorbells
/// at fds 3, 4, 5 (posix_spawn dup2 actions) and PYTHONPATH=runtime/nexus_channel.
/// </summary>
public static class PythonSandbox
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        /// <summary>The last stdout line, parsed as JSON (scripts print their findings there).</summary>
        public JsonElement Json => JsonDocument.Parse(Stdout.TrimEnd().Split('\n')[^1]).RootElement;

        public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
    }

    public static SpawnedProcess Start(ProcessChannel channel, string script, out string stdoutPath, out string stderrPath, IReadOnlyDictionary<string, string>? extraEnvironment = null)
    {
        var env = new Dictionary<string, string>(channel.SandboxEnvironment)
        {
            ["PYTHONPATH"] = Path.Combine(HostRequirements.RepoRoot, "runtime", "nexus_channel"),
            ["PATH"] = "/usr/bin:/bin",
            ["PYTHONUNBUFFERED"] = "1",
        };
        foreach (var (k, v) in extraEnvironment ?? new Dictionary<string, string>())
        {
            env[k] = v;
        }

        stdoutPath = Path.GetTempFileName();
        stderrPath = Path.GetTempFileName();
        return SpawnedProcess.Start(HostRequirements.DebianPython, ["python3", "-c", script], env, channel.SandboxFds, stdoutPath, stderrPath);
    }

    /// <summary>Runs <paramref name="script"/> to completion (killed after <paramref name="limit"/>, a hang guard, not a timing assertion).</summary>
    public static async Task<Result> RunAsync(ProcessChannel channel, string script, TimeSpan? limit = null, IReadOnlyDictionary<string, string>? extraEnvironment = null)
    {
        var process = Start(channel, script, out var stdoutPath, out var stderrPath, extraEnvironment);
        int exit;
        try
        {
            exit = await process.WaitForExitAsync().WaitAsync(limit ?? TimeSpan.FromMinutes(3));
        }
        catch (TimeoutException)
        {
            process.Kill();
            exit = await process.WaitForExitAsync();
        }

        var result = new Result(exit, await File.ReadAllTextAsync(stdoutPath), await File.ReadAllTextAsync(stderrPath));
        File.Delete(stdoutPath);
        File.Delete(stderrPath);
        return result;
    }

    /// <summary>Common prelude of the scripts: the transport and small helpers.</summary>
    public const string Prelude = """
        import hashlib, io, json, os, sys, threading, time
        import nexus_channel
        t = nexus_channel.connect_from_env()
        def call(op, params, body=None):
            r = t.call(op, params, body)
            data = r.body.read()
            r.body.close()
            return r.status, r.meta, data
        def emit(obj):
            print(json.dumps(obj))

        """;
}
