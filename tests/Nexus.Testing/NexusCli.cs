// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;

namespace Nexus.Testing;

/// <summary>The real <c>nexus</c> command (nexus.dll beside the test, from a reference to Nexus.Cli) as a child process.</summary>
public static class NexusCli
{
    public static string Dll => Path.Combine(AppContext.BaseDirectory, "nexus.dll");

    /// <summary>A start of <c>dotnet nexus.dll args</c> with stdout and stderr redirected (so: not a terminal).</summary>
    public static ProcessStartInfo Start(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null) =>
        Processes.Start("dotnet", args.Prepend(Dll), environment);

    /// <summary>Runs the command to its end: exit code, stdout, stderr.</summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null) =>
        Processes.RunAsync("dotnet", args.Prepend(Dll), environment);
}
