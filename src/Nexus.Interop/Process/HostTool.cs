// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net.Sockets;
using System.Text;

namespace Nexus.Interop;

/// <summary>The result of running a host tool to completion.</summary>
public sealed record ToolResult(int ExitCode, string StandardOutput, string StandardError)
{
    public bool Succeeded => ExitCode == 0;
}

/// <summary>
/// Runs host tools (runc, ip, nft, debootstrap, mkfs.erofs, ...) with posix_spawn: no shell, a minimal environment, the
/// output captured whole or handed over line by line. The one runner of the node, its drivers and the image build.
/// </summary>
public static class HostTool
{
    private const string SearchFolders = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    private static readonly IReadOnlyList<string> s_environment = ["PATH=" + SearchFolders];

    /// <summary>The environment tools get: PATH only, nothing of the node's.</summary>
    public static IReadOnlyList<string> Environment => s_environment;

    /// <summary>The absolute path of <paramref name="tool"/> on PATH or in the sbin and bin folders; null when absent.</summary>
    public static string? Find(string tool)
    {
        ArgumentException.ThrowIfNullOrEmpty(tool);
        if (Path.IsPathRooted(tool))
        {
            return File.Exists(tool) ? tool : null;
        }

        var path = System.Environment.GetEnvironmentVariable("PATH") ?? "";
        return path.Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(SearchFolders.Split(':'))
            .Select(dir => Path.Combine(dir, tool))
            .FirstOrDefault(File.Exists);
    }

    /// <summary>Resolves a tool name to an absolute path (<see cref="Find"/>), or explains what is missing.</summary>
    public static string Resolve(string tool, string purpose) =>
        Find(tool) ?? throw new FileNotFoundException(
            Path.IsPathRooted(tool) ? $"{purpose}: '{tool}' does not exist" : $"{purpose}: '{tool}' is not on PATH nor in {SearchFolders}",
            tool);

    /// <summary>Runs <paramref name="path"/> to completion; <paramref name="input"/>, if given, is its stdin.</summary>
    public static async Task<ToolResult> RunAsync(string path, IReadOnlyList<string> arguments, string? input = null, CancellationToken cancellationToken = default)
    {
        Socket? stdinHost = null;
        SafeFd? stdinChild = null;
        if (input is not null)
        {
            (stdinHost, stdinChild) = ChildProcess.CreateSocketPair();
        }

        ChildProcess child;
        Socket stdoutHost, stderrHost;
        try
        {
            (child, stdoutHost, stderrHost) = Spawn(path, arguments, s_environment, stdinChild, newSession: false);
        }
        catch
        {
            stdinHost?.Dispose();
            throw;
        }
        finally
        {
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
        return new ToolResult(CodeOf(status), await stdout, await stderr);
    }

    /// <summary>
    /// Runs <paramref name="path"/> to completion in a session of its own, stdin empty, handing each line of its stdout and
    /// stderr to <paramref name="onLine"/>; returns the exit code and the last <paramref name="tailLines"/> lines for error
    /// messages. Cancellation kills the tool's whole process group (debootstrap's children too) and waits for it to end.
    /// </summary>
    public static async Task<(int ExitCode, string Tail)> RunLinesAsync(
        string path, IReadOnlyList<string> arguments, Action<string>? onLine, IReadOnlyList<string> extraEnvironment, int tailLines, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(extraEnvironment);
        // stdin is /dev/null: the tool reads nothing (debootstrap must not wait for a terminal).
        var (child, stdoutHost, stderrHost) = Spawn(path, arguments, [.. s_environment, .. extraEnvironment], standardInput: null, newSession: true);
        var tail = new Queue<string>();
        void OnLine(string line)
        {
            lock (tail)
            {
                tail.Enqueue(line);
                if (tail.Count > tailLines)
                {
                    tail.Dequeue();
                }
            }

            onLine?.Invoke(line);
        }

        var readers = Task.WhenAll(ReadLinesAsync(stdoutHost, OnLine), ReadLinesAsync(stderrHost, OnLine));
        ChildExitStatus status;
        try
        {
            status = await child.Exited.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The session's process group has the tool's pid as its id.
            ProcessHandle.SignalGroup(child.Pid, 9);
            await child.Exited;
            throw;
        }

        await readers;
        lock (tail)
        {
            return (CodeOf(status), string.Join('\n', tail));
        }
    }

    /// <summary>Starts the tool with its stdout and stderr on sockets whose host ends are returned.</summary>
    private static (ChildProcess Child, Socket Stdout, Socket Stderr) Spawn(
        string path, IReadOnlyList<string> arguments, IReadOnlyList<string> environment, SafeFd? standardInput, bool newSession)
    {
        var (stdoutHost, stdoutChild) = ChildProcess.CreateSocketPair();
        var (stderrHost, stderrChild) = ChildProcess.CreateSocketPair();
        try
        {
            var child = ChildProcess.Spawn(new ChildStartInfo
            {
                Path = path,
                Arguments = arguments,
                Environment = environment,
                StandardInput = standardInput,
                StandardOutput = stdoutChild,
                StandardError = stderrChild,
                NewSession = newSession,
            });
            return (child, stdoutHost, stderrHost);
        }
        catch
        {
            stdoutHost.Dispose();
            stderrHost.Dispose();
            throw;
        }
        finally
        {
            stdoutChild.Dispose();
            stderrChild.Dispose();
        }
    }

    private static int CodeOf(ChildExitStatus status) => status.ExitCode ?? (128 + status.Signal!.Value);

    private static async Task<string> ReadAllAsync(Socket socket)
    {
        using var stream = new NetworkStream(socket, ownsSocket: true);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return await reader.ReadToEndAsync();
    }

    private static async Task ReadLinesAsync(Socket socket, Action<string> onLine)
    {
        using var stream = new NetworkStream(socket, ownsSocket: true);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        while (await reader.ReadLineAsync() is { } line)
        {
            onLine(line);
        }
    }
}
