// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using System.Text;

namespace Nexus.Image;

/// <summary>Runs the host tools the build needs (debootstrap, cp, umount, rm) and cleans up after them.</summary>
internal static class HostTools
{
    private const int TailLines = 30;

    /// <summary>PATH with the sbin folders, where debootstrap, chroot and umount live.</summary>
    public static string SearchPath =>
        (Environment.GetEnvironmentVariable("PATH") is { Length: > 0 } path ? path + ":" : "") + "/usr/local/sbin:/usr/sbin:/sbin:/usr/bin:/bin";

    public static string? Find(string tool) =>
        SearchPath.Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, tool))
            .FirstOrDefault(File.Exists);

    /// <summary>
    /// Runs <paramref name="tool"/> to completion, handing each output line (stdout and stderr) to
    /// <paramref name="onLine"/>; returns the exit code and the last lines for error messages.
    /// Cancellation kills the whole process tree and waits for it to end.
    /// </summary>
    public static async Task<(int ExitCode, string Tail)> RunAsync(
        string tool, IEnumerable<string> arguments, Action<string>? onLine, CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo(Find(tool) ?? tool)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        startInfo.Environment["PATH"] = SearchPath;
        startInfo.Environment["LC_ALL"] = "C";
        startInfo.Environment["DEBIAN_FRONTEND"] = "noninteractive";

        var tail = new Queue<string>();
        void OnData(object sender, DataReceivedEventArgs e)
        {
            if (e.Data is null)
            {
                return;
            }

            lock (tail)
            {
                tail.Enqueue(e.Data);
                if (tail.Count > TailLines)
                {
                    tail.Dequeue();
                }
            }

            onLine?.Invoke(e.Data);
        }

        using var process = new Process { StartInfo = startInfo };
        process.OutputDataReceived += OnData;
        process.ErrorDataReceived += OnData;
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new ImageBuildException($"cannot run {tool}: {e.Message}", e);
        }

        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            throw;
        }

        lock (tail)
        {
            return (process.ExitCode, string.Join('\n', tail));
        }
    }

    /// <summary>Runs a tool that must succeed; a failure names the command and shows its last output.</summary>
    public static async Task RunCheckedAsync(string tool, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var (exitCode, tail) = await RunAsync(tool, arguments, null, cancellationToken);
        if (exitCode != 0)
        {
            throw new ImageBuildException($"{tool} {string.Join(' ', arguments)} failed (exit {exitCode}):\n{tail}");
        }
    }

    /// <summary>
    /// Removes a build tree. An interrupted debootstrap can leave /proc or /sys mounted inside it:
    /// those are unmounted first, and rm never crosses into another file system.
    /// </summary>
    public static async Task RemoveTreeAsync(string path)
    {
        if (!Directory.Exists(path))
        {
            return;
        }

        foreach (var mountPoint in MountsUnder(Path.GetFullPath(path)).OrderByDescending(m => m.Length))
        {
            await RunAsync("umount", ["-l", mountPoint], null, CancellationToken.None);
        }

        await RunCheckedAsync("rm", ["-rf", "--one-file-system", "--", path], CancellationToken.None);
    }

    /// <summary>Mount points at or below <paramref name="path"/>, from /proc/self/mountinfo (field 5, octal-escaped).</summary>
    internal static IEnumerable<string> MountsUnder(string path, string mountInfo = "/proc/self/mountinfo")
    {
        if (!File.Exists(mountInfo))
        {
            yield break;
        }

        var prefix = path.TrimEnd('/') + "/";
        foreach (var line in File.ReadLines(mountInfo))
        {
            var fields = line.Split(' ');
            if (fields.Length > 4)
            {
                var mountPoint = Unescape(fields[4]);
                if (mountPoint == path.TrimEnd('/') || mountPoint.StartsWith(prefix, StringComparison.Ordinal))
                {
                    yield return mountPoint;
                }
            }
        }
    }

    /// <summary>Decodes mountinfo's \ooo escapes (space, tab, newline, backslash).</summary>
    internal static string Unescape(string field)
    {
        var result = new StringBuilder(field.Length);
        for (var i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && IsOctal(field, i + 1))
            {
                result.Append((char)Convert.ToInt32(field.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
            {
                result.Append(field[i]);
            }
        }

        return result.ToString();
    }

    private static bool IsOctal(string s, int start) =>
        start + 3 <= s.Length && s.AsSpan(start, 3).IndexOfAnyExceptInRange('0', '7') < 0;
}
