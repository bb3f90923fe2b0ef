// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;

namespace Nexus.Testing;

/// <summary>The real <c>nexus</c> command (nexus.dll beside the test, from a reference to Nexus.Cli) as a child process.</summary>
public static class NexusCli
{
    public static string Dll => Path.Combine(AppContext.BaseDirectory, "nexus.dll");

    /// <summary>A start of <c>dotnet nexus.dll args</c> with stdout and stderr redirected (so: not a terminal).</summary>
    public static ProcessStartInfo Start(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        start.ArgumentList.Add(Dll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        return start;
    }

    /// <summary>Runs the command to its end: exit code, stdout, stderr.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        using var process = Process.Start(Start(args, environment))!;
        process.StandardInput.Close();
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, stdout, await stderr);
    }
}
