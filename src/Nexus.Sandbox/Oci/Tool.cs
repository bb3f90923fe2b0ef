// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net.Sockets;
using System.Text;
using Nexus.Interop;

namespace Nexus.Sandbox.Oci;

/// <summary>The result of running a host tool to completion.</summary>
public sealed record ToolResult(int ExitCode, string StandardOutput, string StandardError)
{
    public bool Succeeded => ExitCode == 0;
}

/// <summary>Runs host tools (runc, ip) with posix_spawn: no shell, a minimal environment, output captured.</summary>
public static class Tool
{
    private static readonly IReadOnlyList<string> s_environment = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"];

    /// <summary>The environment tools get: PATH only, nothing of the node's.</summary>
    public static IReadOnlyList<string> Environment => s_environment;

    /// <summary>Resolves a tool name on PATH (plus /usr/sbin, /sbin) to an absolute path, or explains what is missing.</summary>
    public static string Resolve(string tool, string purpose)
    {
        ArgumentException.ThrowIfNullOrEmpty(tool);
        if (Path.IsPathRooted(tool))
        {
            return File.Exists(tool) ? tool : throw new FileNotFoundException($"{purpose}: '{tool}' does not exist", tool);
        }

        var path = System.Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(["/usr/local/sbin", "/usr/sbin", "/sbin"]))
        {
            var candidate = Path.Combine(dir, tool);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"{purpose}: '{tool}' is not on PATH (for runc and ip: apt-get install runc iproute2)", tool);
    }

    /// <summary>Runs <paramref name="path"/> to completion; <paramref name="input"/>, if given, is its stdin.</summary>
    public static async Task<ToolResult> RunAsync(string path, IReadOnlyList<string> arguments, string? input = null, CancellationToken cancellationToken = default)
    {
        var (stdoutHost, stdoutChild) = ChildProcess.CreateSocketPair();
        var (stderrHost, stderrChild) = ChildProcess.CreateSocketPair();
        Socket? stdinHost = null;
        SafeFd? stdinChild = null;
        if (input is not null)
        {
            (stdinHost, stdinChild) = ChildProcess.CreateSocketPair();
        }

        ChildProcess child;
        try
        {
            child = ChildProcess.Spawn(new ChildStartInfo
            {
                Path = path,
                Arguments = arguments,
                Environment = s_environment,
                StandardInput = stdinChild,
                StandardOutput = stdoutChild,
                StandardError = stderrChild,
            });
        }
        catch
        {
            stdoutHost.Dispose();
            stderrHost.Dispose();
            stdinHost?.Dispose();
            throw;
        }
        finally
        {
            stdoutChild.Dispose();
            stderrChild.Dispose();
            stdinChild?.Dispose();
        }

        var stdout = ReadAllAsync(stdoutHost);
        var stderr = ReadAllAsync(stderrHost);
        if (stdinHost is not null)
        {
            using (stdinHost)
            {
                try
                {
                    await stdinHost.SendAsync(Encoding.UTF8.GetBytes(input!), SocketFlags.None, cancellationToken);
                    stdinHost.Shutdown(SocketShutdown.Send);
                }
                catch (SocketException)
                {
                    // The tool exited without reading all its input; its exit status and stderr say why.
                }
            }
        }

        var status = await child.Exited.WaitAsync(cancellationToken);
        var code = status.ExitCode ?? (128 + status.Signal!.Value);
        return new ToolResult(code, await stdout, await stderr);
    }

    private static async Task<string> ReadAllAsync(Socket socket)
    {
        using var stream = new NetworkStream(socket, ownsSocket: true);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return await reader.ReadToEndAsync();
    }
}
