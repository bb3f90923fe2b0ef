// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Backend;
using Nexus.Channel.Services;
using Nexus.Functions;
using Nexus.Interop;
using Nexus.Testing.Channel;

namespace Nexus.Frontend.Tests;

/// <summary>
/// Runs a script as a nexus-mode sandbox process would run: the stand-in first on PYTHONPATH, a real channel (memfd +
/// eventfds as fds 3, 4, 5) served by the real backend under the given manifest's grants.
/// </summary>
internal static class ChannelRun
{
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(
        NexusBackendOptions options, FunctionManifest manifest, IReadOnlyList<string> scriptArgs, Dictionary<string, string> env, string workDirectory)
    {
        await using var backend = new NexusBackend(options);
        await using var host = new ChannelServiceHost();
        await using var served = ServedChannel.Open(host, backend, manifest);
        var channel = served.Channel;
        foreach (var (name, value) in channel.SandboxEnvironment)
        {
            env[name] = value;
        }

        env["NEXUS_IO"] = "nexus";
        env["PYTHONPATH"] = PythonProcess.FrontendDir + ":" + PythonProcess.ChannelDir;
        var stdoutPath = Path.Combine(workDirectory, "nexus.stdout");
        var stderrPath = Path.Combine(workDirectory, "nexus.stderr");
        var argv = new List<string> { "python3" };
        argv.AddRange(scriptArgs);
        var process = SpawnedProcess.Start(Testing.HostRequirements.DebianPython, argv, env, channel.SandboxFds, stdoutPath, stderrPath);
        int exitCode;
        try
        {
            exitCode = await process.WaitForExitAsync().WaitAsync(PythonProcess.HangGuard).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            process.Kill();
            throw;
        }

        var stdout = await File.ReadAllTextAsync(stdoutPath).ConfigureAwait(false);
        var stderr = await File.ReadAllTextAsync(stderrPath).ConfigureAwait(false);

        // No script misbehaves on the channel: a host-side close is a bug, and its reason is the evidence.
        if (served.Session.CloseReason is { } reason)
        {
            throw new InvalidOperationException($"the host closed the script's channel: {reason}\n{stderr}");
        }

        return (exitCode, stdout, stderr);
    }
}
