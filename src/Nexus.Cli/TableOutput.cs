// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text;
using Spectre.Console;

namespace Nexus.Cli;

/// <summary>
/// Rows for the user: a table fitted to the terminal, or, when stdout is a pipe or a file, plain space-aligned
/// columns at full width (one line per row, no borders, nothing wrapped), which grep, awk and cut read as they are.
/// </summary>
public sealed class TableOutput(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public TableOutput Add(params string[] cells)
    {
        if (cells.Length != headers.Length)
        {
            throw new ArgumentException($"a row has {cells.Length} cells for {headers.Length} columns", nameof(cells));
        }

        _rows.Add(cells);
        return this;
    }

    /// <summary>Writes to stdout: a Spectre table on a terminal, <see cref="Plain"/> otherwise.</summary>
    public void Write()
    {
        if (Console.IsOutputRedirected)
        {
            Console.Write(Plain());
            return;
        }

        var table = new Table().AddColumns([.. headers.Select(Markup.Escape)]);
        foreach (var row in _rows)
        {
            table.AddRow([.. row.Select(Markup.Escape)]);
        }

        AnsiConsole.Write(table);
    }

    /// <summary>Header and rows, columns padded to their widest cell and two spaces apart; trailing spaces trimmed.</summary>
    public string Plain()
    {
        var widths = headers.Select((h, i) => _rows.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        var text = new StringBuilder();
        foreach (var row in _rows.Prepend(headers))
        {
            var line = string.Join("  ", row.Select((cell, i) => cell.PadRight(widths[i])));
            text.Append(line.TrimEnd()).Append('\n');
        }

        return text.ToString();
    }
}
