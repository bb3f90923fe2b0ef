// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using Nexus.Testing;

namespace Nexus.Frontend.Tests;

/// <summary>Runs Debian's python3 with exactly the environment given, capturing its output.</summary>
internal static class PythonProcess
{
    /// <summary>Generous guard against a hung child; never a timing assertion.</summary>
    public static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(10);

    public static string FrontendDir => Path.Combine(HostRequirements.RepoRoot, "runtime", "frontend");

    public static string ChannelDir => Path.Combine(HostRequirements.RepoRoot, "runtime", "nexus_channel");

    /// <summary>The variables every run gets: no user AWS config, no bytecode written into the repository.</summary>
    public static Dictionary<string, string> BaseEnvironment() => new()
    {
        ["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        ["LANG"] = "C.UTF-8",
        ["HOME"] = Path.GetTempPath(),
        ["PYTHONDONTWRITEBYTECODE"] = "1",
        ["AWS_CONFIG_FILE"] = "/nonexistent/nexus-aws-config",
        ["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent/nexus-aws-credentials",
        ["AWS_EC2_METADATA_DISABLED"] = "true",
        ["AWS_DEFAULT_REGION"] = "us-east-1",
        ["AWS_REGION"] = "us-east-1",
    };

    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(
        IReadOnlyList<string> args, IReadOnlyDictionary<string, string> environment, string workingDirectory)
    {
        var start = new ProcessStartInfo(HostRequirements.DebianPython)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment.Clear();
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("python3 did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(HangGuard).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }
}
