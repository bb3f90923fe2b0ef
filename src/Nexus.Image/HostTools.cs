// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text;
using Nexus.Interop;

namespace Nexus.Image;

/// <summary>The build's use of the host-tool runner (debootstrap, cp, umount, rm, mkfs.erofs), and cleaning up after them.</summary>
internal static class HostTools
{
    private const int TailLines = 30;
    private static readonly IReadOnlyList<string> s_environment = ["LC_ALL=C", "DEBIAN_FRONTEND=noninteractive"];

    /// <summary>
    /// Runs <paramref name="tool"/> to completion (<see cref="HostTool.RunLinesAsync"/>, with the C locale and apt
    /// non-interactive), handing each output line to <paramref name="onLine"/>; returns the exit code and the last lines
    /// for error messages. Cancellation kills the tool's process group.
    /// </summary>
    public static Task<(int ExitCode, string Tail)> RunAsync(
        string tool, IReadOnlyList<string> arguments, Action<string>? onLine, CancellationToken cancellationToken)
    {
        var path = HostTool.Find(tool) ?? throw new ImageBuildException($"cannot run {tool}: it is not installed (scripts/setup installs the build's tools)");
        return HostTool.RunLinesAsync(path, arguments, onLine, s_environment, TailLines, cancellationToken);
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
