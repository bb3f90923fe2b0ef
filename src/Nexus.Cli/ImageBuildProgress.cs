// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;

namespace Nexus.Cli;

/// <summary>
/// Where an image build's progress goes: every line into a log file, and to the user either every line (a terminal
/// shows them on one updating status line) or, on a pipe, only the lines that start a new phase, so that a log of
/// <c>scripts/demo</c> holds a dozen lines instead of one per Debian package.
/// </summary>
public sealed class ImageBuildProgress : IProgress<string>, IDisposable
{
    private readonly Lock _lock = new();
    private readonly StreamWriter _log;
    private readonly Action<string> _show;
    private readonly bool _phasesOnly;
    private string? _last;

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
            if (!_phasesOnly || StartsPhase(_last, value))
            {
                _show(value);
            }

            _last = value;
        }
    }

    /// <summary>
    /// Whether <paramref name="line"/> begins a phase: its first word differs from the previous line's
    /// (debootstrap's "Retrieving a", "Retrieving b", … is one phase; "Validating a" starts the next).
    /// </summary>
    public static bool StartsPhase(string? previous, string line) =>
        previous is null || !FirstWord(previous).Equals(FirstWord(line), StringComparison.Ordinal);

    public void Dispose() => _log.Dispose();

    private static ReadOnlySpan<char> FirstWord(string line)
    {
        var span = line.AsSpan().TrimStart();
        var space = span.IndexOf(' ');
        return space < 0 ? span : span[..space];
    }
}
