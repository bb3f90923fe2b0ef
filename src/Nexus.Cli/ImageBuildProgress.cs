// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;

namespace Nexus.Cli;

/// <summary>
/// Where an image build's progress goes: every line into a log file, and to the user either every line (a terminal
/// shows them on one updating status line) or, on a pipe, only the lines that start a new phase, so that a log of
/// <c>scripts/demo</c> holds about 25 lines instead of two per Debian package.
/// </summary>
public sealed class ImageBuildProgress : IProgress<string>, IDisposable
{
    private readonly Lock _lock = new();
    private readonly StreamWriter _log;
    private readonly Action<string> _show;
    private readonly bool _phasesOnly;
    private string? _last;
    private string? _beforeLast;

    public ImageBuildProgress(string logPath, Action<string> show, bool phasesOnly)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(logPath)!);
        _log = new StreamWriter(logPath, append: true) { AutoFlush = true };
        _show = show;
        _phasesOnly = phasesOnly;
    }

    public void Report(string value)
    {
        lock (_lock)
        {
            _log.WriteLine(DateTime.UtcNow.ToString("HH:mm:ss ", CultureInfo.InvariantCulture) + value);
            if (!_phasesOnly || StartsPhase(_beforeLast, _last, value))
            {
                _show(value);
            }

            (_beforeLast, _last) = (_last, value);
        }
    }

    /// <summary>
    /// Whether <paramref name="line"/> begins a phase: its first word is neither of the two lines' before it
    /// (debootstrap alternates "Retrieving a", "Validating a", "Retrieving b", … for every package: one phase).
    /// </summary>
    public static bool StartsPhase(string? beforePrevious, string? previous, string line) =>
        !Same(previous, line) && !Same(beforePrevious, line);

    private static bool Same(string? earlier, string line) =>
        earlier is not null && FirstWord(earlier).Equals(FirstWord(line), StringComparison.Ordinal);

    public void Dispose() => _log.Dispose();

    private static ReadOnlySpan<char> FirstWord(string line)
    {
        var span = line.AsSpan().TrimStart();
        var space = span.IndexOf(' ');
        return space < 0 ? span : span[..space];
    }
}
